using Proximal.Numerics;

namespace Proximal.Spaces;

/// <summary>A vector of independent discrete choices; element i lies in [0, nvec[i]).</summary>
public sealed class MultiDiscrete : Space
{
    private readonly int[] _nvec;

    public MultiDiscrete(params int[] nvec)
    {
        ArgumentNullException.ThrowIfNull(nvec);
        if (nvec.Length == 0) throw new ArgumentException("MultiDiscrete needs at least one component.", nameof(nvec));
        for (int i = 0; i < nvec.Length; i++)
            if (nvec[i] <= 0) throw new ArgumentException($"MultiDiscrete component {i} has n = {nvec[i]}; every n must be > 0.", nameof(nvec));
        _nvec = (int[])nvec.Clone();
    }

    public ReadOnlySpan<int> Nvec => _nvec;
    public override int FlatSize => _nvec.Length;

    public override bool Contains(ReadOnlySpan<float> x) => Explain(x) is null;

    public override string? Explain(ReadOnlySpan<float> x)
    {
        if (x.Length != _nvec.Length) return $"expected {_nvec.Length} values for MultiDiscrete, got {x.Length}";
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (float.IsNaN(v) || v != MathF.Floor(v)) return $"element {i} = {v} is not an integer";
            if (v < 0 || v >= _nvec[i]) return $"element {i} = {v} is outside [0, {_nvec[i] - 1}]";
        }
        return null;
    }

    public override void Sample(Rng rng, Span<float> x)
    {
        if (x.Length != _nvec.Length) throw new ArgumentException($"Sample buffer has {x.Length} values, MultiDiscrete needs {_nvec.Length}.", nameof(x));
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(_nvec[i]);
    }

    public override string ToString() => $"MultiDiscrete([{string.Join(", ", _nvec)}])";
}
