using Proximal.Numerics;

namespace Proximal.Spaces;

/// <summary>{start, …, start + n − 1}, carried as one float holding the integer.</summary>
public sealed class Discrete : Space
{
    public Discrete(int n, int start = 0)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Discrete space needs n > 0.");
        N = n;
        Start = start;
    }

    public int N { get; }
    public int Start { get; }
    public override int FlatSize => 1;

    public override bool Contains(ReadOnlySpan<float> x) => Explain(x) is null;

    public override string? Explain(ReadOnlySpan<float> x)
    {
        if (x.Length != 1) return $"expected 1 value for Discrete({N}), got {x.Length}";
        float v = x[0];
        if (float.IsNaN(v) || v != MathF.Floor(v)) return $"value {v} is not an integer";
        if (v < Start || v >= Start + N) return $"value {v} is outside [{Start}, {Start + N - 1}]";
        return null;
    }

    public override void Sample(Rng rng, Span<float> x)
    {
        if (x.Length != 1) throw new ArgumentException($"Sample buffer has {x.Length} values, Discrete needs 1.", nameof(x));
        x[0] = Start + rng.NextInt(N);
    }

    public override string ToString() => Start == 0 ? $"Discrete({N})" : $"Discrete({N}, start={Start})";
}
