using System.Globalization;
using System.Text.Json;

namespace Proximal.Cli.Bench;

/// <summary>
/// One benchmark figure. <paramref name="PercentOfPeak"/> and <paramref name="Ratio"/> are set where they apply, and only
/// against a figure measured in the same process run (<paramref name="RatioOf"/> names it). <paramref name="Note"/> is free
/// text printed after the figure (e.g. a target). A figure that was not measured here at all carries its
/// <paramref name="ExternalSource"/> and is printed as an external reference, never as a ratio.
/// </summary>
public sealed record BenchCase(string Name, double Value, string Unit, double? PercentOfPeak = null, double? Ratio = null, string? RatioOf = null,
    string? Note = null, string? ExternalSource = null)
{
    /// <summary>False for an external reference (JSON: <c>"measured": false</c>).</summary>
    public bool Measured => ExternalSource is null;
}

/// <summary>
/// Prints benchmark figures: an aligned table for people, or one JSON object per line with --json. Every run starts
/// with <see cref="Header"/>: the command and the machine (CPU, SIMD tier, cores, load), as text or as the first JSON line.
/// </summary>
public sealed class BenchReport(bool json, TextWriter? output = null)
{
    private readonly TextWriter _out = output ?? Console.Out;
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // stdout, not HTML: keep × µ → ' readable
    };

    /// <summary>The command line as typed after the program name, e.g. "bench nn --json".</summary>
    public static string CommandLine()
    {
        // GetCommandLineArgs()[0] is the program (Proximal.Cli.dll or the apphost); the rest are the user's arguments.
        var args = Environment.GetCommandLineArgs().Skip(1).Select(a => a.Contains(' ') ? $"\"{a}\"" : a);
        return "proximal " + string.Join(' ', args);
    }

    /// <summary>
    /// The block every benchmark starts with: command, CPU, SIMD tier, cores, load, runtime. In JSON mode one line
    /// <c>{"command": …, "machine": {…}}</c> before the figures.
    /// </summary>
    public void Header(MachineInfo machine, string? command = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        command ??= CommandLine();
        if (json)
        {
            _out.WriteLine(JsonSerializer.Serialize(new { Command = command, DateUtc = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Machine = machine }, JsonOptions));
            return;
        }
        _out.WriteLine("== machine");
        _out.WriteLine($"{"command",-24} {command}");
        _out.WriteLine($"{"date (UTC)",-24} {DateTime.UtcNow:yyyy-MM-dd HH:mm}");
        foreach (var (key, value) in machine.Lines()) _out.WriteLine($"{key,-24} {value}");
    }

    /// <summary>The load average when the benchmark ended (one more line, or one more JSON object).</summary>
    public void Footer(double[]? loadAverage)
    {
        if (loadAverage is null) return;
        if (json)
        {
            _out.WriteLine(JsonSerializer.Serialize(new { LoadAverageAtEnd = loadAverage }, JsonOptions));
            return;
        }
        _out.WriteLine();
        _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"load average at end",-24} {loadAverage[0]:F2} {loadAverage[1]:F2} {loadAverage[2]:F2} (1/5/15 min)"));
    }

    public void Add(BenchCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (json)
        {
            _out.WriteLine(JsonSerializer.Serialize(c, JsonOptions));
            return;
        }
        if (!c.Measured)
        {
            _out.WriteLine($"external reference (not measured here): {c.Name}, {Format(c.Value)} {c.Unit}; source: {c.ExternalSource}");
            return;
        }
        string line = $"{c.Name,-52} {Format(c.Value),14} {c.Unit,-10}";
        if (c.PercentOfPeak is { } p) line += $" {p,6:F1} % of peak";
        if (c.Ratio is { } r) line += $"  {r:F2}× {c.RatioOf}";
        if (c.Note is { } n) line += $"  {n}";
        _out.WriteLine(line.TrimEnd());
    }

    /// <summary>A section heading in table mode; nothing in JSON mode (keeps the stream machine-readable).</summary>
    public void Section(string title)
    {
        if (!json) _out.WriteLine($"\n== {title}");
    }

    private static string Format(double v) => Math.Abs(v) >= 1000 ? v.ToString("N0") : v.ToString("G4");
}
