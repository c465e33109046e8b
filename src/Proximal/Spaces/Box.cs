using Proximal.Numerics;

namespace Proximal.Spaces;

/// <summary>A box in R^n: float32 values with per-element bounds (±infinity for unbounded).</summary>
public sealed class Box : Space
{
    private readonly float[] _low;
    private readonly float[] _high;

    public Box(float low, float high, params int[] shape)
        : this(Fill(low, Product(shape)), Fill(high, Product(shape)), shape) { }

    public Box(float[] low, float[] high, int[]? shape = null)
    {
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        Shape = shape is null ? new[] { low.Length } : (int[])shape.Clone();
        int size = Product(Shape);
        if (size == 0) throw new ArgumentException("Box shape must have at least one element.", nameof(shape));
        if (low.Length != size || high.Length != size)
            throw new ArgumentException($"Box bounds have {low.Length} low and {high.Length} high values, but shape [{string.Join(", ", Shape)}] needs {size}.");
        for (int i = 0; i < size; i++)
        {
            if (float.IsNaN(low[i]) || float.IsNaN(high[i])) throw new ArgumentException($"Box bound {i} is NaN.");
            if (low[i] > high[i]) throw new ArgumentException($"Box bound {i}: low {low[i]} is above high {high[i]}.");
        }
        _low = (float[])low.Clone();
        _high = (float[])high.Clone();
    }

    public int[] Shape { get; }
    public ReadOnlySpan<float> Low => _low;
    public ReadOnlySpan<float> High => _high;
    public override int FlatSize => _low.Length;

    /// <summary>True when every element has finite low and high.</summary>
    public bool IsBounded => Array.TrueForAll(_low, float.IsFinite) && Array.TrueForAll(_high, float.IsFinite);

    public override bool Contains(ReadOnlySpan<float> x) => Explain(x) is null;

    public override string? Explain(ReadOnlySpan<float> x)
    {
        if (x.Length != _low.Length) return $"expected {_low.Length} values for Box[{string.Join(", ", Shape)}], got {x.Length}";
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i])) return $"element {i} is NaN";
            if (x[i] < _low[i] || x[i] > _high[i]) return $"element {i} = {x[i]} is outside [{_low[i]}, {_high[i]}]";
        }
        return null;
    }

    public override void Sample(Rng rng, Span<float> x)
    {
        if (x.Length != _low.Length) throw new ArgumentException($"Sample buffer has {x.Length} values, Box needs {_low.Length}.", nameof(x));
        for (int i = 0; i < x.Length; i++)
        {
            bool lo = float.IsFinite(_low[i]), hi = float.IsFinite(_high[i]);
            double v = (lo, hi) switch
            {
                (true, true) => rng.Uniform(_low[i], _high[i]),
                (true, false) => _low[i] - Math.Log(1.0 - rng.NextDouble()),
                (false, true) => _high[i] + Math.Log(1.0 - rng.NextDouble()),
                _ => rng.NextGaussian(),
            };
            x[i] = Math.Clamp((float)v, _low[i], _high[i]);
        }
    }

    public override string ToString() => $"Box({(_low.Length > 0 ? _low.Min() : 0)}, {(_high.Length > 0 ? _high.Max() : 0)}, [{string.Join(", ", Shape)}])";

    private static int Product(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0) throw new ArgumentException("Box shape must have at least one dimension.", nameof(shape));
        int p = 1;
        foreach (int d in shape)
        {
            if (d <= 0) throw new ArgumentException($"Box shape [{string.Join(", ", shape)}] has a dimension {d} <= 0.", nameof(shape));
            p = checked(p * d);
        }
        return p;
    }

    private static float[] Fill(float v, int n) { var a = new float[n]; Array.Fill(a, v); return a; }
}
