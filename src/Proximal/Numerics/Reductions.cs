namespace Proximal.Numerics;

/// <summary>Reductions of float data that must be exact to the order of summation (logged metrics, scalar losses).</summary>
public static class Reductions
{
    /// <summary>
    /// The mean of <paramref name="values"/> accumulated in double, left to right (a fixed order, so results do not
    /// depend on the SIMD width); NaN for an empty span.
    /// </summary>
    public static double MeanInDouble(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float x in values) sum += x;
        return values.Length == 0 ? double.NaN : sum / values.Length;
    }
}
