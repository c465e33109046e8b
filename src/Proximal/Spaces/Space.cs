using Proximal.Numerics;

namespace Proximal.Spaces;

/// <summary>
/// A Gymnasium-style space. Every point of every space is carried as a flat float32 vector of
/// <see cref="FlatSize"/> values (a Discrete action is one float holding its integer index), so
/// vectorized environments and learners move contiguous arrays and never box per-sample objects.
/// </summary>
public abstract class Space
{
    /// <summary>Number of floats that represent one point of this space.</summary>
    public abstract int FlatSize { get; }

    /// <summary>Whether <paramref name="x"/> (length <see cref="FlatSize"/>) lies in the space.</summary>
    public abstract bool Contains(ReadOnlySpan<float> x);

    /// <summary>Draws a uniform (Box: uniform where bounded, normal or exponential where not) point.</summary>
    public abstract void Sample(Rng rng, Span<float> x);

    /// <summary>Null when <paramref name="x"/> is in the space, else a sentence naming what is wrong.</summary>
    public abstract string? Explain(ReadOnlySpan<float> x);
}
