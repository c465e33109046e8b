using System.Globalization;
using System.Text;

namespace Proximal.Training.Logging;

/// <summary>
/// Writes <c>progress.csv</c>: one row per update, first column <c>step</c>, then metrics in the order they
/// first appeared. Metrics that are absent from a row leave an empty cell.
/// <para>
/// Column policy (as Stable-Baselines3 does): the column set grows. When a row brings a key never seen
/// before (e.g. <c>episode_return_mean</c> only exists once the first episode ends), the file is rewritten
/// once with the union header and earlier rows get empty cells for the new column. The rewrite goes to a
/// temporary file that replaces the old one, so a crash never leaves a half-written file.
/// </para>
/// Numbers use the invariant culture and the shortest text that parses back to the same double
/// (NaN as <c>NaN</c>, infinities as <c>Infinity</c>/<c>-Infinity</c>). Every row is flushed, so the file
/// can be plotted while training runs. Not thread-safe.
/// </summary>
public sealed class CsvLogger : IMetricsSink
{
    /// <summary>Name of the first column: the environment step at which the row was logged.</summary>
    public const string StepColumn = "step";

    private readonly List<string> _columns = new();
    private readonly Dictionary<string, int> _columnIndex = new(StringComparer.Ordinal);
    private readonly StringBuilder _line = new();
    private StreamWriter? _writer;
    private bool _disposed;

    /// <summary>
    /// Opens <paramref name="path"/>. With <paramref name="append"/> an existing file keeps its rows and header
    /// (resuming a run); otherwise it is replaced.
    /// </summary>
    public CsvLogger(string path, bool append = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        FilePath = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(FilePath);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);

        if (append && File.Exists(FilePath) && new FileInfo(FilePath).Length > 0)
        {
            var existing = CsvTable.Read(FilePath);
            if (existing.Columns.Count == 0 || existing.Columns[0] != StepColumn)
                throw new InvalidDataException($"{FilePath}: cannot append, the first column is not '{StepColumn}'.");
            foreach (var c in existing.Columns) AddColumn(c);
            _writer = OpenWriter(FileMode.Append);
            EnsureEndsWithNewline();
        }
        else
        {
            AddColumn(StepColumn);
            _writer = OpenWriter(FileMode.Create);
        }
    }

    /// <summary>Absolute path of the CSV file.</summary>
    public string FilePath { get; }

    /// <summary>Current header: <c>step</c> then metric names in order of first appearance.</summary>
    public IReadOnlyList<string> Columns => _columns;

    /// <summary>Number of data rows written by this logger (not counting rows kept when appending).</summary>
    public int RowsWritten { get; private set; }

    /// <summary>Appends one row; widens the header (rewriting the file) if <paramref name="metrics"/> has new keys.</summary>
    public void Write(long step, IReadOnlyDictionary<string, double> metrics)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(metrics);
        bool widened = false;
        foreach (var key in metrics.Keys)
        {
            if (key == StepColumn)
                throw new ArgumentException($"Metric name '{StepColumn}' is reserved for the step column; pass the step separately.", nameof(metrics));
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("Metric names must not be empty.", nameof(metrics));
            if (!_columnIndex.ContainsKey(key)) { AddColumn(key); widened = true; }
        }
        if (widened) RewriteWithCurrentHeader();

        _line.Clear();
        _line.Append(step.ToString(CultureInfo.InvariantCulture));
        for (int i = 1; i < _columns.Count; i++)
        {
            _line.Append(',');
            if (metrics.TryGetValue(_columns[i], out double v)) _line.Append(FormatNumber(v));
        }
        _line.Append('\n');
        _writer!.Write(_line);
        _writer.Flush();
        RowsWritten++;
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _writer!.Flush();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _writer?.Dispose();
        _writer = null;
    }

    /// <summary>Shortest invariant text that parses back to exactly <paramref name="value"/>.</summary>
    public static string FormatNumber(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private void AddColumn(string name)
    {
        _columnIndex.Add(name, _columns.Count);
        _columns.Add(name);
    }

    private StreamWriter OpenWriter(FileMode mode)
    {
        var stream = new FileStream(FilePath, mode, FileAccess.Write, FileShare.Read | FileShare.Delete);
        var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };
        if (mode == FileMode.Create) WriteHeader(writer);
        return writer;
    }

    private void WriteHeader(TextWriter writer)
    {
        for (int i = 0; i < _columns.Count; i++)
        {
            if (i > 0) writer.Write(',');
            writer.Write(CsvTable.Escape(_columns[i]));
        }
        writer.Write('\n');
        writer.Flush();
    }

    // A file from a crashed run may end mid-row; start the next row on its own line.
    private void EnsureEndsWithNewline()
    {
        using var read = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (read.Length == 0) return;
        read.Seek(-1, SeekOrigin.End);
        if (read.ReadByte() != '\n') { _writer!.Write('\n'); _writer.Flush(); }
    }

    private void RewriteWithCurrentHeader()
    {
        _writer!.Dispose();
        _writer = null;
        var old = CsvTable.Read(FilePath);
        string temp = FilePath + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
        {
            WriteHeader(writer);
            var map = new int[old.Columns.Count];
            for (int i = 0; i < map.Length; i++) map[i] = _columnIndex[old.Columns[i]];
            var cells = new string[_columns.Count];
            foreach (var row in old.Rows)
            {
                Array.Fill(cells, "");
                for (int i = 0; i < row.Length; i++) cells[map[i]] = row[i];
                for (int i = 0; i < cells.Length; i++)
                {
                    if (i > 0) writer.Write(',');
                    writer.Write(CsvTable.Escape(cells[i]));
                }
                writer.Write('\n');
            }
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, FilePath, overwrite: true);
        _writer = OpenWriter(FileMode.Append);
    }
}
