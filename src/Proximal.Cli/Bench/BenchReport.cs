using System.Text.Json;

namespace Proximal.Cli.Bench;

/// <summary>One benchmark figure. <paramref name="PercentOfPeak"/> and <paramref name="Ratio"/> are set where they apply.</summary>
public sealed record BenchCase(string Name, double Value, string Unit, double? PercentOfPeak = null, double? Ratio = null, string? RatioOf = null);

/// <summary>Prints benchmark figures: an aligned table for people, or one JSON object per line with --json.</summary>
public sealed class BenchReport(bool json, TextWriter? output = null)
{
    private readonly TextWriter _out = output ?? Console.Out;
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public void Add(BenchCase c)
    {
        if (json)
        {
            _out.WriteLine(JsonSerializer.Serialize(c, JsonOptions));
            return;
        }
        string line = $"{c.Name,-52} {Format(c.Value),14} {c.Unit,-10}";
        if (c.PercentOfPeak is { } p) line += $" {p,6:F1} % of peak";
        if (c.Ratio is { } r) line += $"  {r:F2}× {c.RatioOf}";
        _out.WriteLine(line);
    }

    /// <summary>A section heading in table mode; nothing in JSON mode (keeps the stream machine-readable).</summary>
    public void Section(string title)
    {
        if (!json) _out.WriteLine($"\n== {title}");
    }

    private static string Format(double v) => Math.Abs(v) >= 1000 ? v.ToString("N0") : v.ToString("G4");
}
