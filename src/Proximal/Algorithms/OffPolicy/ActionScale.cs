using Proximal.Spaces;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// The affine map between an actor's (−1, 1) action coordinates and a bounded Box: env = center + halfRange · a.
/// The replay buffer stores, and the critics see, the (−1, 1) coordinates (SAC and TD3 alike).
/// </summary>
internal sealed class ActionScale
{
    private readonly float[] _center, _halfRange;

    public ActionScale(Box box, string algorithm)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (!box.IsBounded)
            throw new NotSupportedException($"{algorithm} needs a bounded Box action space (its actor's actions lie in (−1, 1), scaled to the bounds); got {box}.");
        int ad = box.FlatSize;
        _center = new float[ad];
        _halfRange = new float[ad];
        for (int j = 0; j < ad; j++)
        {
            _center[j] = (float)((box.Low[j] + (double)box.High[j]) / 2);
            _halfRange[j] = (float)((box.High[j] - (double)box.Low[j]) / 2);
        }
    }

    /// <summary>(−1, 1) → the Box, row after row.</summary>
    public void ToBounds(ReadOnlySpan<float> squashed, Span<float> actions)
    {
        int ad = _center.Length;
        for (int i = 0; i < squashed.Length; i++) actions[i] = _center[i % ad] + _halfRange[i % ad] * squashed[i];
    }

    /// <summary>The Box → [−1, 1] (clamped against rounding).</summary>
    public void ToSquashed(ReadOnlySpan<float> actions, Span<float> squashed)
    {
        int ad = _center.Length;
        for (int i = 0; i < actions.Length; i++) squashed[i] = Math.Clamp((actions[i] - _center[i % ad]) / _halfRange[i % ad], -1f, 1f);
    }
}
