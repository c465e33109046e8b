using System.Globalization;
using System.Text;

namespace Proximal.Common.Config;

/// <summary>
/// Writes a resolved options object as YAML with the same snake_case keys <see cref="ConfigBinder"/> reads, so a
/// run directory records the exact configuration and <c>ConfigBinder.Load</c> of the file gives back equal values.
/// Numbers are written in their shortest round-trip form (floats always with a '.', so other YAML readers see
/// floats too); strings are double-quoted; lists are flow sequences; nested options are indented mappings.
/// </summary>
public static class ConfigWriter
{
    /// <summary>YAML text for <paramref name="options"/>, optionally preceded by <paramref name="headerComment"/> lines.</summary>
    public static string ToYaml(object options, string? headerComment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sb = new StringBuilder();
        if (headerComment is not null)
            foreach (var line in headerComment.Split('\n')) sb.Append("# ").Append(line.TrimEnd('\r')).Append('\n');
        WriteMapping(sb, options, OptionsModel.For(options.GetType()), indent: 0, depth: 0);
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToYaml"/> to <paramref name="path"/> (via a temporary file, so the old file survives a crash).</summary>
    public static void Write(string path, object options, string? headerComment = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string text = ToYaml(options, headerComment);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(temp, text, new UTF8Encoding(false));
            File.Move(temp, full, overwrite: true);
        }
        finally { if (File.Exists(temp)) File.Delete(temp); }
    }

    private static void WriteMapping(StringBuilder sb, object obj, OptionsModel model, int indent, int depth)
    {
        if (depth > 16) throw new ConfigException($"Options type {model.Type.Name} nests itself more than 16 levels deep; cannot write it.");
        foreach (var p in model.Properties)
        {
            object? v = p.Property.GetValue(obj);
            sb.Append(' ', indent).Append(p.Key).Append(':');
            if (v is null) { sb.Append(" null\n"); continue; }
            switch (p.Kind)
            {
                case OptionKind.Nested:
                    var nested = p.NestedModel;
                    if (nested.Properties.Count == 0) { sb.Append(" {}\n"); break; }
                    sb.Append('\n');
                    WriteMapping(sb, v, nested, indent + 2, depth + 1);
                    break;
                case OptionKind.Map:
                    var entries = (Dictionary<string, double>)v;
                    if (entries.Count == 0) { sb.Append(" {}\n"); break; }
                    sb.Append('\n');
                    foreach (var (name, number) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
                        sb.Append(' ', indent + 2).Append(MapKey(name)).Append(": ").Append(FormatScalar(number)).Append('\n');
                    break;
                case OptionKind.List:
                    var array = (Array)v;
                    sb.Append(" [");
                    for (int i = 0; i < array.Length; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        sb.Append(FormatScalar(array.GetValue(i)!));
                    }
                    sb.Append("]\n");
                    break;
                default:
                    sb.Append(' ').Append(FormatScalar(v)).Append('\n');
                    break;
            }
        }
    }

    /// <summary>YAML text of one scalar value as this writer emits it.</summary>
    public static string FormatScalar(object value) => value switch
    {
        string s => Quote(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        float f => FormatFloating(f, f.ToString("R", CultureInfo.InvariantCulture)),
        double d => FormatFloating(d, d.ToString("R", CultureInfo.InvariantCulture)),
        Enum e => ConfigBinder.ToSnakeCase(e.ToString()),
        _ => throw new ConfigException($"Cannot write a value of type {value.GetType().Name} to YAML."),
    };

    private static string FormatFloating(double value, string text)
    {
        if (double.IsNaN(value)) return ".nan";
        if (double.IsPositiveInfinity(value)) return ".inf";
        if (double.IsNegativeInfinity(value)) return "-.inf";
        // YAML 1.1 readers (PyYAML) only treat 3e-4 as a float when it has a '.', e.g. 3.0e-4; 1 would be an int.
        int e = text.IndexOfAny(['E', 'e']);
        if (text.Contains('.')) return text;
        return e < 0 ? text + ".0" : text[..e] + ".0" + text[e..];
    }

    // Entry names are written bare when YAML reads them back as the same plain string, quoted otherwise.
    private static string MapKey(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && !char.IsAsciiDigit(name[0]) && name[0] != '-'
        && name is not ("true" or "false" or "null" or "yes" or "no" or "on" or "off" or "y" or "n" or "~")
            ? name : Quote(name);

    private static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c)) sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
