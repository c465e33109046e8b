using System.Text.Json.Nodes;

namespace Proximal.Spaces;

/// <summary>Spaces as JSON, for model files: enough to check that a loaded model fits an env.</summary>
public static class SpaceCodec
{
    public static JsonObject ToJson(Space space) => space switch
    {
        Box b => new JsonObject
        {
            ["type"] = "box",
            ["shape"] = new JsonArray(b.Shape.Select(d => (JsonNode)d).ToArray()),
            ["low"] = new JsonArray(b.Low.ToArray().Select(Bound).ToArray()),
            ["high"] = new JsonArray(b.High.ToArray().Select(Bound).ToArray()),
        },
        Discrete d => new JsonObject { ["type"] = "discrete", ["n"] = d.N, ["start"] = d.Start },
        MultiDiscrete md => new JsonObject { ["type"] = "multi_discrete", ["nvec"] = new JsonArray(md.Nvec.ToArray().Select(n => (JsonNode)n).ToArray()) },
        _ => throw new NotSupportedException($"Space {space} cannot be written to a model file."),
    };

    // JSON has no infinity: unbounded box sides are written as strings.
    private static JsonNode Bound(float v) => float.IsPositiveInfinity(v) ? "inf" : float.IsNegativeInfinity(v) ? "-inf" : JsonValue.Create(v);
}
