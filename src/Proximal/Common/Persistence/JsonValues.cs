using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proximal.Common.Persistence;

/// <summary>
/// Compares JSON by value, not by text: numbers as numbers (so <c>3.4e+38</c> equals <c>3.4E+38</c> and
/// <c>1.0</c> equals <c>1</c>), objects regardless of key order or whitespace. Reports the first difference
/// as a path (<c>high[3]</c>) with both values, short enough for a one-line error message.
/// </summary>
public static class JsonValues
{
    /// <summary>Null when equal; otherwise e.g. <c>"high[3] is 1 in the file, 2 here"</c>.</summary>
    public static string? FirstDifference(JsonNode? stored, JsonNode? actual, string path = "")
    {
        switch (stored, actual)
        {
            case (null, null): return null;
            case (JsonObject a, JsonObject b):
                foreach (var (key, value) in a)
                {
                    string p = path.Length == 0 ? key : $"{path}.{key}";
                    if (!b.ContainsKey(key)) return $"{p} is in the file but not here";
                    if (FirstDifference(value, b[key], p) is { } d) return d;
                }
                foreach (var (key, _) in b)
                    if (!a.ContainsKey(key)) return $"{(path.Length == 0 ? key : $"{path}.{key}")} is here but not in the file";
                return null;
            case (JsonArray a, JsonArray b):
                if (a.Count != b.Count) return $"{Name(path)} has {a.Count} elements in the file, {b.Count} here";
                for (int i = 0; i < a.Count; i++)
                    if (FirstDifference(a[i], b[i], $"{path}[{i}]") is { } d) return d;
                return null;
            case (JsonValue a, JsonValue b):
                if (TryNumber(a, out double x) && TryNumber(b, out double y))
                    return x.Equals(y) ? null : Differ(path, a, b);
                return a.ToJsonString() == b.ToJsonString() ? null : Differ(path, a, b);
            default:
                return Differ(path, stored, actual);
        }
    }

    private static string Name(string path) => path.Length == 0 ? "the value" : path;

    private static string Differ(string path, JsonNode? a, JsonNode? b) => $"{Name(path)} is {Short(a)} in the file, {Short(b)} here";

    private static string Short(JsonNode? n)
    {
        string s = n?.ToJsonString() ?? "null";
        return s.Length <= 60 ? s : s[..57] + "...";
    }

    private static bool TryNumber(JsonValue v, out double d)
    {
        d = 0;
        if (v.GetValueKind() != JsonValueKind.Number)
        {
            // Infinities are written as strings by some writers: compare them as numbers too.
            return v.TryGetValue(out string? s) && s is "Infinity" or "-Infinity" or "NaN"
                   && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d);
        }
        return double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d);
    }
}
