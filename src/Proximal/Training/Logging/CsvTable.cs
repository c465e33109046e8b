using System.Globalization;
using System.Text;

namespace Proximal.Training.Logging;

/// <summary>
/// A CSV file read fully into memory (RFC 4180: comma separated, double-quoted fields with <c>""</c> escapes,
/// LF or CRLF line ends). Used to read <c>progress.csv</c> back for plotting and for widening its header.
/// </summary>
public sealed class CsvTable
{
    private readonly Dictionary<string, int> _index;

    public CsvTable(IReadOnlyList<string> columns, IReadOnlyList<string[]> rows, string source = "<csv>")
    {
        Columns = columns;
        Rows = rows;
        Source = source;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < columns.Count; i++)
            if (!_index.TryAdd(columns[i], i))
                throw new InvalidDataException($"{source}: column '{columns[i]}' appears twice in the header.");
    }

    /// <summary>Header names in file order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Data rows; each has exactly <see cref="Columns"/>.Count fields.</summary>
    public IReadOnlyList<string[]> Rows { get; }

    /// <summary>File name (or other label) used in error messages.</summary>
    public string Source { get; }

    public bool HasColumn(string name) => _index.ContainsKey(name);

    /// <summary>Position of <paramref name="name"/> in the header; throws naming the file, the column and the columns it has.</summary>
    public int ColumnIndex(string name) =>
        _index.TryGetValue(name, out int i) ? i
        : throw new InvalidDataException(
            $"{Source} has no column '{name}' (columns: {string.Join(", ", Columns)}).");

    /// <summary>
    /// The column as numbers; an empty cell (a metric not yet logged at that row) becomes NaN.
    /// A cell that is not a number throws naming file, row and column.
    /// </summary>
    public double[] GetDoubles(string name)
    {
        int c = ColumnIndex(name);
        var values = new double[Rows.Count];
        for (int r = 0; r < Rows.Count; r++)
        {
            string cell = Rows[r][c];
            if (cell.Length == 0) { values[r] = double.NaN; continue; }
            if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out values[r]))
                throw new InvalidDataException($"{Source}: row {r + 1}, column '{name}': '{cell}' is not a number.");
        }
        return values;
    }

    /// <summary>Reads a CSV file. A missing file throws <see cref="FileNotFoundException"/> naming it.</summary>
    public static CsvTable Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        // Share with a writer that still has the file open (plotting a run that is still training).
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(reader, path);
    }

    /// <summary>
    /// Parses CSV text. The first record is the header. A final record without a line end that has too few
    /// fields is dropped: it is a row a live writer has not finished yet. Any other ragged row throws.
    /// </summary>
    public static CsvTable Parse(TextReader reader, string source = "<csv>")
    {
        var records = new List<(string[] Fields, int Line, bool Terminated)>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, recordLine = 1;
        bool inQuotes = false, fieldStarted = false, afterQuote = false;

        void EndField() { fields.Add(field.ToString()); field.Clear(); fieldStarted = false; afterQuote = false; }
        void EndRecord(bool terminated)
        {
            EndField();
            records.Add((fields.ToArray(), recordLine, terminated));
            fields.Clear();
        }

        int ch;
        while ((ch = reader.Read()) != -1)
        {
            char c = (char)ch;
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else { inQuotes = false; afterQuote = true; }
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append(c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when !fieldStarted:
                    inQuotes = true; fieldStarted = true;
                    break;
                case ',':
                    EndField(); fieldStarted = false;
                    break;
                case '\r' when reader.Peek() == '\n':
                    break;
                case '\n':
                    EndRecord(terminated: true);
                    line++; recordLine = line;
                    break;
                default:
                    if (afterQuote)
                        throw new InvalidDataException($"{source}:{line}: unexpected character '{c}' after a closing quote.");
                    field.Append(c); fieldStarted = true;
                    break;
            }
        }
        if (inQuotes)
        {
            // An unterminated quote at end of file is an unfinished row from a live writer, unless it is the header.
            if (records.Count == 0) throw new InvalidDataException($"{source}:{recordLine}: quoted field is never closed.");
        }
        else if (fieldStarted || field.Length > 0 || fields.Count > 0) EndRecord(terminated: false);

        if (records.Count == 0) throw new InvalidDataException($"{source} is empty (expected a header line).");
        var header = records[0].Fields;
        var rows = new List<string[]>(records.Count - 1);
        for (int i = 1; i < records.Count; i++)
        {
            var (f, at, terminated) = records[i];
            if (f.Length == 1 && f[0].Length == 0 && terminated) continue; // blank line
            if (f.Length != header.Length)
            {
                if (!terminated && i == records.Count - 1 && f.Length < header.Length) break;
                throw new InvalidDataException(
                    $"{source}:{at}: row has {f.Length} fields but the header has {header.Length}.");
            }
            rows.Add(f);
        }
        return new CsvTable(header, rows, source);
    }

    /// <summary>Formats one field, quoting it when it holds a comma, quote or line break.</summary>
    public static string Escape(string field)
    {
        if (field.AsSpan().IndexOfAny(",\"\r\n") < 0) return field;
        return "\"" + field.Replace("\"", "\"\"") + "\"";
    }
}
