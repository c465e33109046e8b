using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Proximal.Nn;

/// <summary>Single-pass element-wise kernels that TensorPrimitives would need several passes for.</summary>
internal static class Kernels
{
    /// <summary>result = g ⊙ (1 − y²): derivative of tanh expressed through its output.</summary>
    public static void TanhDerivativeTimes(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> result)
    {
        int n = result.Length, i = 0;
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rr = ref MemoryMarshal.GetReference(result);
        if (y.Length < n || g.Length < n) throw new ArgumentException("Tanh derivative: operand lengths differ.");
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vy = Vector.LoadUnsafe(ref ry, (nuint)i);
                var vg = Vector.LoadUnsafe(ref rg, (nuint)i);
                (vg * (one - vy * vy)).StoreUnsafe(ref rr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref ry, i);
            Unsafe.Add(ref rr, i) = Unsafe.Add(ref rg, i) * (1f - v * v);
        }
    }

    /// <summary>result = y &gt; 0 ? g : 0: derivative of ReLU through its output (subgradient 0 at 0).</summary>
    public static void ReluDerivativeTimes(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> result)
    {
        int n = result.Length, i = 0;
        if (y.Length < n || g.Length < n) throw new ArgumentException("ReLU derivative: operand lengths differ.");
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rr = ref MemoryMarshal.GetReference(result);
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vy = Vector.LoadUnsafe(ref ry, (nuint)i);
                var vg = Vector.LoadUnsafe(ref rg, (nuint)i);
                Vector.ConditionalSelect(Vector.GreaterThan(vy, Vector<float>.Zero), vg, Vector<float>.Zero).StoreUnsafe(ref rr, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref rr, i) = Unsafe.Add(ref ry, i) > 0f ? Unsafe.Add(ref rg, i) : 0f;
    }

    /// <summary>Copies <paramref name="row"/> into each of the <paramref name="rows"/> rows of <paramref name="matrix"/>.</summary>
    public static void BroadcastRows(ReadOnlySpan<float> row, Span<float> matrix, int rows)
    {
        int cols = row.Length;
        for (int r = 0; r < rows; r++) row.CopyTo(matrix.Slice(r * cols, cols));
    }

    /// <summary>sums += Σ_r matrix[r, :] (column sums of a row-major matrix, accumulated).</summary>
    public static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, Span<float> sums)
    {
        int cols = sums.Length;
        // Row by row keeps every access contiguous; each row is one vectorised add.
        for (int r = 0; r < rows; r++)
            System.Numerics.Tensors.TensorPrimitives.Add(sums, matrix.Slice(r * cols, cols), sums);
    }
}
