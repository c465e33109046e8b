using System.Globalization;

namespace Proximal.Tests.Envs;

/// <summary>Reads the Gymnasium trajectories in Data/reference (see PROVENANCE.md there).</summary>
internal sealed class ReferenceData
{
    public required string[] Header { get; init; }
    public required List<double[]> Rows { get; init; }

    public int Column(string name)
    {
        int i = Array.IndexOf(Header, name);
        if (i < 0) throw new ArgumentException($"Column '{name}' not in [{string.Join(", ", Header)}].");
        return i;
    }

    public int[] Columns(string prefix) =>
        Header.Select((h, i) => (h, i)).Where(x => x.h.StartsWith(prefix, StringComparison.Ordinal)).Select(x => x.i).ToArray();

    public static ReferenceData Load(string envId)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Data", "reference", envId + ".csv");
        var lines = File.ReadAllLines(path);
        return new ReferenceData
        {
            Header = lines[0].Split(','),
            Rows = lines.Skip(1).Where(l => l.Length > 0)
                .Select(l => l.Split(',').Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray()).ToList(),
        };
    }
}
