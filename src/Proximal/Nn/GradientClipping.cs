using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Proximal.Nn;

/// <summary>Global-norm gradient clipping over a flat gradient vector.</summary>
public static class GradientClipping
{
    /// <summary>Euclidean norm with the squares summed in double (float sums lose digits on 10⁵+ entries).</summary>
    public static double Norm(ReadOnlySpan<float> values)
    {
        int n = values.Length, i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var acc = Vector<double>.Zero;
            var floats = MemoryMarshal.Cast<float, Vector<float>>(values);
            foreach (var f in floats)
            {
                Vector.Widen(f, out var lo, out var hi);
                acc += lo * lo + hi * hi;
            }
            sum = Vector.Sum(acc);
            i = floats.Length * Vector<float>.Count;
        }
        for (; i < n; i++) sum += (double)values[i] * values[i];
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// If the norm of <paramref name="gradients"/> exceeds <paramref name="maxNorm"/>, scales them by
    /// maxNorm/norm so the norm becomes maxNorm. Returns the norm BEFORE clipping. A non-finite norm
    /// (NaN/∞ gradients) is returned unchanged and nothing is scaled, so the caller can detect it.
    /// </summary>
    public static double ClipGlobalNorm(Span<float> gradients, double maxNorm)
    {
        if (!(maxNorm > 0) || double.IsInfinity(maxNorm)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "Gradient clipping max norm must be positive and finite.");
        double norm = Norm(gradients);
        if (double.IsFinite(norm) && norm > maxNorm)
            TensorPrimitives.Multiply(gradients, (float)(maxNorm / norm), gradients);
        return norm;
    }
}
