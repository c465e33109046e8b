using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Proximal.Nn;

/// <summary>Single-pass element-wise kernels that TensorPrimitives would need several passes for.</summary>
internal static class Kernels
{
    /// <summary>Rows gathered ahead of the one being copied: enough misses in flight to hide a trip to L3 or memory.</summary>
    private const int GatherPrefetchDistance = 8;

    /// <summary>
    /// destination[j] ← source[rows[j]] for rows of <paramref name="width"/> floats (row-major, destination rows packed).
    /// The rows are random (ACKTR's statistics subset of a rollout whose activations no longer sit in L2): copied one
    /// at a time, each row's cache misses wait for the last's — on Zen 5 the gathers of one ACKTR Hopper update (500
    /// rows of its six layers' inputs) took ~300 µs. The lines of the row <see cref="GatherPrefetchDistance"/> ahead are
    /// prefetched so that several rows' misses overlap (~150 µs; 16 or 32 ahead did no better). Copies only: the
    /// result is the same bits whatever the prefetching.
    /// </summary>
    public static unsafe void GatherRows(ReadOnlySpan<float> source, int width, ReadOnlySpan<int> rows, Span<float> destination)
    {
        int n = rows.Length;
        if (width < 0 || destination.Length < (long)n * width) throw new ArgumentException("Gather: destination is smaller than rows × width.");
        if (width == 0) return; // rows of nothing
        int sourceRows = source.Length / width;
        foreach (int r in rows)
            if ((uint)r >= (uint)sourceRows) throw new ArgumentOutOfRangeException(nameof(rows), r, $"Gather: row {r} is outside the source's {sourceRows} rows.");
        fixed (float* src = source)
        fixed (float* dst = destination)
        {
            int lines = (width * sizeof(float) + 63) / 64;
            for (int j = 0; j < n; j++)
            {
                if (System.Runtime.Intrinsics.X86.Sse.IsSupported && j + GatherPrefetchDistance < n)
                {
                    byte* ahead = (byte*)(src + (nint)rows[j + GatherPrefetchDistance] * width);
                    for (int l = 0; l < lines; l++) System.Runtime.Intrinsics.X86.Sse.Prefetch0(ahead + 64 * l);
                }
                new ReadOnlySpan<float>(src + (nint)rows[j] * width, width).CopyTo(new Span<float>(dst + (nint)j * width, width));
            }
        }
    }

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

    /// <summary>
    /// sums[c] += Σ_r matrix[r, c] for a row-major matrix. Blocks of columns stay in registers while the
    /// rows stream past (one pass, no per-row call overhead); every column is summed in row order, so the
    /// result does not depend on the vector width.
    /// </summary>
    public static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, Span<float> sums)
    {
        int cols = sums.Length, c = 0;
        if (matrix.Length < (long)rows * cols) throw new ArgumentException("Column sums: matrix is smaller than rows × columns.");
        ref float m = ref MemoryMarshal.GetReference(matrix);
        ref float s = ref MemoryMarshal.GetReference(sums);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c <= cols - 64; c += 64)
            {
                var a0 = Vector512.LoadUnsafe(ref s, (nuint)c); var a1 = Vector512.LoadUnsafe(ref s, (nuint)(c + 16));
                var a2 = Vector512.LoadUnsafe(ref s, (nuint)(c + 32)); var a3 = Vector512.LoadUnsafe(ref s, (nuint)(c + 48));
                for (int r = 0; r < rows; r++)
                {
                    nuint o = (nuint)(r * cols + c);
                    a0 += Vector512.LoadUnsafe(ref m, o); a1 += Vector512.LoadUnsafe(ref m, o + 16);
                    a2 += Vector512.LoadUnsafe(ref m, o + 32); a3 += Vector512.LoadUnsafe(ref m, o + 48);
                }
                a0.StoreUnsafe(ref s, (nuint)c); a1.StoreUnsafe(ref s, (nuint)(c + 16));
                a2.StoreUnsafe(ref s, (nuint)(c + 32)); a3.StoreUnsafe(ref s, (nuint)(c + 48));
            }
            for (; c <= cols - 16; c += 16)
            {
                var a = Vector512.LoadUnsafe(ref s, (nuint)c);
                for (int r = 0; r < rows; r++) a += Vector512.LoadUnsafe(ref m, (nuint)(r * cols + c));
                a.StoreUnsafe(ref s, (nuint)c);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c <= cols - 32; c += 32)
            {
                var a0 = Vector256.LoadUnsafe(ref s, (nuint)c); var a1 = Vector256.LoadUnsafe(ref s, (nuint)(c + 8));
                var a2 = Vector256.LoadUnsafe(ref s, (nuint)(c + 16)); var a3 = Vector256.LoadUnsafe(ref s, (nuint)(c + 24));
                for (int r = 0; r < rows; r++)
                {
                    nuint o = (nuint)(r * cols + c);
                    a0 += Vector256.LoadUnsafe(ref m, o); a1 += Vector256.LoadUnsafe(ref m, o + 8);
                    a2 += Vector256.LoadUnsafe(ref m, o + 16); a3 += Vector256.LoadUnsafe(ref m, o + 24);
                }
                a0.StoreUnsafe(ref s, (nuint)c); a1.StoreUnsafe(ref s, (nuint)(c + 8));
                a2.StoreUnsafe(ref s, (nuint)(c + 16)); a3.StoreUnsafe(ref s, (nuint)(c + 24));
            }
            for (; c <= cols - 8; c += 8)
            {
                var a = Vector256.LoadUnsafe(ref s, (nuint)c);
                for (int r = 0; r < rows; r++) a += Vector256.LoadUnsafe(ref m, (nuint)(r * cols + c));
                a.StoreUnsafe(ref s, (nuint)c);
            }
        }
        for (; c < cols; c++)
        {
            float a = Unsafe.Add(ref s, c);
            for (int r = 0; r < rows; r++) a += Unsafe.Add(ref m, r * cols + c);
            Unsafe.Add(ref s, c) = a;
        }
    }

    /// <summary>y[r, :] = tanh(z[r, :] + bias) for every row.</summary>
    public static void BiasTanh(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, int rows, Span<float> y)
    {
        int cols = bias.Length;
        for (int r = 0; r < rows; r++)
            System.Numerics.Tensors.TensorPrimitives.Add(z.Slice(r * cols, cols), bias, y.Slice(r * cols, cols));
        // One call over the whole matrix: TensorPrimitives.Tanh measured faster than a hand-written
        // exp-based kernel, and per-row calls would pay its setup cost per row.
        System.Numerics.Tensors.TensorPrimitives.Tanh(y[..(rows * cols)], y);
    }

    /// <summary>y[r, :] = max(z[r, :] + bias, 0) for every row.</summary>
    public static void BiasRelu(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, int rows, Span<float> y)
    {
        int cols = bias.Length;
        for (int r = 0; r < rows; r++)
            System.Numerics.Tensors.TensorPrimitives.Add(z.Slice(r * cols, cols), bias, y.Slice(r * cols, cols));
        System.Numerics.Tensors.TensorPrimitives.Max(y[..(rows * cols)], 0f, y);
    }
}
