using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Proximal.Numerics;

/// <summary>
/// Direct kernels for the small products of one recurrent step (an LSTM backward step is [8 × 128]·[128 × 32]) and for
/// thin weight gradients (∂L/∂W_ihᵀ = Xᵀ·dZ with 2 inputs): no packing, no transposed copies — at these sizes
/// <see cref="Gemm"/>'s packing and blocking cost as much as the arithmetic. All read their operands in place,
/// row-major, and allocate nothing.
/// <para>
/// <b>Summation order</b> is fixed per output element: one fused multiply-add per k in order, starting from zero
/// (<see cref="Multiply"/>, <see cref="MultiplyTransposedA"/>) or from the element's value in C (<see cref="MultiplyAdd"/>).
/// It does not depend on m, n, the tile an element falls in, or the SIMD tier (Vector512 tiles where AVX-512 is
/// accelerated, Vector256 otherwise; a fused multiply-add is correctly rounded at every width, and is fused in software
/// where there is no FMA), so one row gives the same bits alone as inside an 8-row product — an LSTM step for one env
/// equals that env's row of a batched step — and an AVX-512 machine gives the bits of an AVX2 one.
/// </para>
/// <para>Tiles: 4 rows × 32 columns on Vector512 and 4 rows × 16 on Vector256 (eight accumulators: four broadcasts of A
/// and two loads of B per k keep both FMA pipes busy without spilling AVX2's 16 registers); a single row takes 8
/// accumulators across (128 or 64 columns), so a thin product such as Xᵀ·dZ with 2 rows is not bound by the latency
/// of one FMA chain.</para>
/// </summary>
public static unsafe class SmallGemm
{
    /// <summary>Vector512 tiles where the hardware accelerates them (the tier changes speed, never bits).</summary>
    internal static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>
    /// C[m×n] = A[m×k] · B[k×n], all row-major, C overwritten. For ∂L/∂h_{t−1} = ∂L/∂z_t · W_hh with W_hh [4H × H]
    /// read in place.
    /// </summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
        => Run(m, n, k, a, lda, transposeA: false, b, ldb, c, ldc, accumulate: false, Wide);

    /// <summary>C[m×n] += A[m×k] · B[k×n], all row-major.</summary>
    public static void MultiplyAdd(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
        => Run(m, n, k, a, lda, transposeA: false, b, ldb, c, ldc, accumulate: true, Wide);

    /// <summary>
    /// C[m×n] = Aᵀ · B with A stored row-major [k × m] (row p holds A's column p) and B [k×n], C overwritten: a weight
    /// gradient summed over k rows, e.g. ∂L/∂W_ihᵀ [In × 4H] = Xᵀ·dZ over the T·B rows of a sequence batch.
    /// </summary>
    public static void MultiplyTransposedA(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
        => Run(m, n, k, a, lda, transposeA: true, b, ldb, c, ldc, accumulate: false, Wide);

    /// <summary>The kernels with the tier chosen by the caller: tests run both tiers on any machine and compare bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimised code: no slow tier-0 phase in a hot loop
    internal static void Run(int m, int n, int k, ReadOnlySpan<float> a, int lda, bool transposeA, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate, bool wide)
    {
        Check(m, n, k, a.Length, lda, transposeA ? m : k, transposeA ? k : m, b.Length, ldb, n, k, c.Length, ldc, n, m);
        if (m == 0 || n == 0) return;
        // A[r, p] sits at a[r·rowStep + p·kStep]
        int rowStep = transposeA ? 1 : lda, kStep = transposeA ? lda : 1;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4)
                FourRows(pa + (long)i * rowStep, rowStep, kStep, pb, ldb, k, n, pc + (long)i * ldc, ldc, accumulate, wide);
            for (; i < m; i++)
                OneRow(pa + (long)i * rowStep, kStep, pb, ldb, k, 0, n, pc + (long)i * ldc, accumulate, wide);
        }
    }

    /// <summary>Four rows of A times B: C[r, :] = (C[r, :] or 0) + Σ_p A[r, p]·B[p, :].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows(float* a, int rowStep, int kStep, float* b, int ldb, int k, int n, float* c, int ldc, bool accumulate, bool wide)
    {
        float* a0 = a, a1 = a + rowStep, a2 = a1 + rowStep, a3 = a2 + rowStep;
        float* c0 = c, c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        int j = 0;
        if (wide)
        {
            for (; j + 32 <= n; j += 32)
            {
                Vector512<float> u0 = default, u1 = default, u2 = default, u3 = default;
                Vector512<float> v0 = default, v1 = default, v2 = default, v3 = default;
                if (accumulate)
                {
                    u0 = Vector512.Load(c0 + j); v0 = Vector512.Load(c0 + j + 16);
                    u1 = Vector512.Load(c1 + j); v1 = Vector512.Load(c1 + j + 16);
                    u2 = Vector512.Load(c2 + j); v2 = Vector512.Load(c2 + j + 16);
                    u3 = Vector512.Load(c3 + j); v3 = Vector512.Load(c3 + j + 16);
                }
                float* bp = b + j;
                long ap = 0;
                for (int p = 0; p < k; p++, bp += ldb, ap += kStep)
                {
                    var w0 = Vector512.Load(bp);
                    var w1 = Vector512.Load(bp + 16);
                    var x = Vector512.Create(a0[ap]); u0 = Vector512.FusedMultiplyAdd(x, w0, u0); v0 = Vector512.FusedMultiplyAdd(x, w1, v0);
                    x = Vector512.Create(a1[ap]); u1 = Vector512.FusedMultiplyAdd(x, w0, u1); v1 = Vector512.FusedMultiplyAdd(x, w1, v1);
                    x = Vector512.Create(a2[ap]); u2 = Vector512.FusedMultiplyAdd(x, w0, u2); v2 = Vector512.FusedMultiplyAdd(x, w1, v2);
                    x = Vector512.Create(a3[ap]); u3 = Vector512.FusedMultiplyAdd(x, w0, u3); v3 = Vector512.FusedMultiplyAdd(x, w1, v3);
                }
                u0.Store(c0 + j); v0.Store(c0 + j + 16);
                u1.Store(c1 + j); v1.Store(c1 + j + 16);
                u2.Store(c2 + j); v2.Store(c2 + j + 16);
                u3.Store(c3 + j); v3.Store(c3 + j + 16);
            }
        }
        for (; j + 16 <= n; j += 16)
        {
            Vector256<float> u0 = default, u1 = default, u2 = default, u3 = default;
            Vector256<float> v0 = default, v1 = default, v2 = default, v3 = default;
            if (accumulate)
            {
                u0 = Vector256.Load(c0 + j); v0 = Vector256.Load(c0 + j + 8);
                u1 = Vector256.Load(c1 + j); v1 = Vector256.Load(c1 + j + 8);
                u2 = Vector256.Load(c2 + j); v2 = Vector256.Load(c2 + j + 8);
                u3 = Vector256.Load(c3 + j); v3 = Vector256.Load(c3 + j + 8);
            }
            float* bp = b + j;
            long ap = 0;
            for (int p = 0; p < k; p++, bp += ldb, ap += kStep)
            {
                var w0 = Vector256.Load(bp);
                var w1 = Vector256.Load(bp + 8);
                var x = Vector256.Create(a0[ap]); u0 = Vector256.FusedMultiplyAdd(x, w0, u0); v0 = Vector256.FusedMultiplyAdd(x, w1, v0);
                x = Vector256.Create(a1[ap]); u1 = Vector256.FusedMultiplyAdd(x, w0, u1); v1 = Vector256.FusedMultiplyAdd(x, w1, v1);
                x = Vector256.Create(a2[ap]); u2 = Vector256.FusedMultiplyAdd(x, w0, u2); v2 = Vector256.FusedMultiplyAdd(x, w1, v2);
                x = Vector256.Create(a3[ap]); u3 = Vector256.FusedMultiplyAdd(x, w0, u3); v3 = Vector256.FusedMultiplyAdd(x, w1, v3);
            }
            u0.Store(c0 + j); v0.Store(c0 + j + 8);
            u1.Store(c1 + j); v1.Store(c1 + j + 8);
            u2.Store(c2 + j); v2.Store(c2 + j + 8);
            u3.Store(c3 + j); v3.Store(c3 + j + 8);
        }
        if (j < n)
            for (int r = 0; r < 4; r++) OneRow(a + (long)r * rowStep, kStep, b, ldb, k, j, n, c + (long)r * ldc, accumulate, wide: false);
    }

    /// <summary>
    /// Columns j0.. of one row of C: eight accumulators across (128 columns on Vector512, 64 on Vector256), then one
    /// vector at a time, then single columns (same per-element order throughout).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneRow(float* a, int kStep, float* b, int ldb, int k, int j0, int n, float* c, bool accumulate, bool wide)
    {
        int j = j0;
        if (wide)
        {
            for (; j + 128 <= n; j += 128)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                float* cj = c + j;
                if (accumulate)
                {
                    s0 = Vector512.Load(cj); s1 = Vector512.Load(cj + 16); s2 = Vector512.Load(cj + 32); s3 = Vector512.Load(cj + 48);
                    s4 = Vector512.Load(cj + 64); s5 = Vector512.Load(cj + 80); s6 = Vector512.Load(cj + 96); s7 = Vector512.Load(cj + 112);
                }
                float* bp = b + j;
                long ap = 0;
                for (int p = 0; p < k; p++, bp += ldb, ap += kStep)
                {
                    var x = Vector512.Create(a[ap]);
                    s0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(bp), s0);
                    s1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(bp + 16), s1);
                    s2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(bp + 32), s2);
                    s3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(bp + 48), s3);
                    s4 = Vector512.FusedMultiplyAdd(x, Vector512.Load(bp + 64), s4);
                    s5 = Vector512.FusedMultiplyAdd(x, Vector512.Load(bp + 80), s5);
                    s6 = Vector512.FusedMultiplyAdd(x, Vector512.Load(bp + 96), s6);
                    s7 = Vector512.FusedMultiplyAdd(x, Vector512.Load(bp + 112), s7);
                }
                s0.Store(cj); s1.Store(cj + 16); s2.Store(cj + 32); s3.Store(cj + 48);
                s4.Store(cj + 64); s5.Store(cj + 80); s6.Store(cj + 96); s7.Store(cj + 112);
            }
            for (; j + 16 <= n; j += 16)
            {
                var s = accumulate ? Vector512.Load(c + j) : default;
                float* bp = b + j;
                long ap = 0;
                for (int p = 0; p < k; p++, bp += ldb, ap += kStep) s = Vector512.FusedMultiplyAdd(Vector512.Create(a[ap]), Vector512.Load(bp), s);
                s.Store(c + j);
            }
        }
        for (; j + 64 <= n; j += 64)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            float* cj = c + j;
            if (accumulate)
            {
                s0 = Vector256.Load(cj); s1 = Vector256.Load(cj + 8); s2 = Vector256.Load(cj + 16); s3 = Vector256.Load(cj + 24);
                s4 = Vector256.Load(cj + 32); s5 = Vector256.Load(cj + 40); s6 = Vector256.Load(cj + 48); s7 = Vector256.Load(cj + 56);
            }
            float* bp = b + j;
            long ap = 0;
            for (int p = 0; p < k; p++, bp += ldb, ap += kStep)
            {
                var x = Vector256.Create(a[ap]);
                s0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp), s0);
                s1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 8), s1);
                s2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 16), s2);
                s3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 24), s3);
                s4 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 32), s4);
                s5 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 40), s5);
                s6 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 48), s6);
                s7 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 56), s7);
            }
            s0.Store(cj); s1.Store(cj + 8); s2.Store(cj + 16); s3.Store(cj + 24);
            s4.Store(cj + 32); s5.Store(cj + 40); s6.Store(cj + 48); s7.Store(cj + 56);
        }
        for (; j + 8 <= n; j += 8)
        {
            var s = accumulate ? Vector256.Load(c + j) : default;
            float* bp = b + j;
            long ap = 0;
            for (int p = 0; p < k; p++, bp += ldb, ap += kStep) s = Vector256.FusedMultiplyAdd(Vector256.Create(a[ap]), Vector256.Load(bp), s);
            s.Store(c + j);
        }
        for (; j < n; j++)
        {
            float s = accumulate ? c[j] : 0;
            float* bp = b + j;
            long ap = 0;
            for (int p = 0; p < k; p++, bp += ldb, ap += kStep) s = MathF.FusedMultiplyAdd(a[ap], *bp, s);
            c[j] = s;
        }
    }

    private static void Check(int m, int n, int k, int aLength, int lda, int aCols, int aRows, int bLength, int ldb, int bCols, int bRows,
        int cLength, int ldc, int cCols, int cRows)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"SmallGemm: negative size m {m}, n {n}, k {k}.");
        if (lda < aCols || ldb < bCols || ldc < cCols)
            throw new ArgumentException($"SmallGemm: a leading dimension is below its row length (lda {lda} < {aCols}, ldb {ldb} < {bCols} or ldc {ldc} < {cCols}).");
        static long Need(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (aLength < Need(aRows, aCols, lda)) throw new ArgumentException($"SmallGemm: A has {aLength} floats, needs {Need(aRows, aCols, lda)} ({aRows} rows of {aCols}, stride {lda}).");
        if (bLength < Need(bRows, bCols, ldb)) throw new ArgumentException($"SmallGemm: B has {bLength} floats, needs {Need(bRows, bCols, ldb)} ({bRows} rows of {bCols}, stride {ldb}).");
        if (cLength < Need(cRows, cCols, ldc)) throw new ArgumentException($"SmallGemm: C has {cLength} floats, needs {Need(cRows, cCols, ldc)} ({cRows} rows of {cCols}, stride {ldc}).");
    }
}
