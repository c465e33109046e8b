using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Proximal.Numerics;

/// <summary>
/// Direct kernels for the small products of one recurrent step (an LSTM step is [8 × 64]·[64 × 256]): no packing,
/// no transposed copies, no dispatch — at these sizes <see cref="Gemm"/>'s packing and blocking cost as much as the
/// arithmetic. Both read their operands in place, row-major, and allocate nothing.
/// <para>
/// <b>Summation order</b> is fixed per output element: one fused multiply-add per k in order, starting from zero
/// (<see cref="Multiply"/>) or from the element's value in C (<see cref="MultiplyAdd"/>). It does not depend on m, n,
/// the tile an element falls in, or the SIMD tier (<see cref="Vector256.FusedMultiplyAdd(Vector256{float}, Vector256{float}, Vector256{float})"/>
/// is fused in software where there is no FMA), so one row gives the same bits alone as inside an 8-row product:
/// an LSTM step for one env equals that env's row of a batched step.
/// </para>
/// <para>The tile is 4 rows × 16 columns (eight accumulators, two loads of B and four broadcasts of A per k), which
/// keeps the two FMA pipes of an AVX2 core busy without spilling the 16 vector registers.</para>
/// </summary>
public static unsafe class SmallGemm
{
    /// <summary>
    /// C[m×n] = A[m×k] · B[k×n], all row-major, C overwritten. For ∂L/∂h_{t−1} = ∂L/∂z_t · W_hh with W_hh [4H × H]
    /// read in place.
    /// </summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
        => Run(m, n, k, a, lda, b, ldb, c, ldc, accumulate: false);

    /// <summary>C[m×n] += A[m×k] · B[k×n], all row-major. For z_t += h_{t−1}·W_hhᵀ with W_hhᵀ stored [H × 4H].</summary>
    public static void MultiplyAdd(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
        => Run(m, n, k, a, lda, b, ldb, c, ldc, accumulate: true);

    private static void Run(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        Check(m, n, k, a.Length, lda, k, b.Length, ldb, n, k, c.Length, ldc, n, m);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4)
                RowsTimesB(pa + (long)i * lda, lda, 4, pb, ldb, k, n, pc + (long)i * ldc, ldc, accumulate);
            for (; i < m; i++)
                RowsTimesB(pa + (long)i * lda, lda, 1, pb, ldb, k, n, pc + (long)i * ldc, ldc, accumulate);
        }
    }

    // ---------------------------------------------------------------- row-times-matrix form

    /// <summary>
    /// <paramref name="rows"/> (1 or 4) rows of A times B: C[r, :] = Σ_p A[r, p]·B[p, :], 16 columns at a time
    /// (rows × 2 accumulators), then 8, then single columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowsTimesB(float* a, int lda, int rows, float* b, int ldb, int k, int n, float* c, int ldc, bool accumulate)
    {
        int j = 0;
        if (rows == 4)
        {
            float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
            float* c0 = c, c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
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
                for (int p = 0; p < k; p++, bp += ldb)
                {
                    var w0 = Vector256.Load(bp);
                    var w1 = Vector256.Load(bp + 8);
                    var x = Vector256.Create(a0[p]); u0 = Vector256.FusedMultiplyAdd(x, w0, u0); v0 = Vector256.FusedMultiplyAdd(x, w1, v0);
                    x = Vector256.Create(a1[p]); u1 = Vector256.FusedMultiplyAdd(x, w0, u1); v1 = Vector256.FusedMultiplyAdd(x, w1, v1);
                    x = Vector256.Create(a2[p]); u2 = Vector256.FusedMultiplyAdd(x, w0, u2); v2 = Vector256.FusedMultiplyAdd(x, w1, v2);
                    x = Vector256.Create(a3[p]); u3 = Vector256.FusedMultiplyAdd(x, w0, u3); v3 = Vector256.FusedMultiplyAdd(x, w1, v3);
                }
                u0.Store(c0 + j); v0.Store(c0 + j + 8);
                u1.Store(c1 + j); v1.Store(c1 + j + 8);
                u2.Store(c2 + j); v2.Store(c2 + j + 8);
                u3.Store(c3 + j); v3.Store(c3 + j + 8);
            }
            for (int r = 0; r < 4; r++) RowTail(a + (long)r * lda, b, ldb, k, j, n, c + (long)r * ldc, accumulate);
            return;
        }
        for (; j + 16 <= n; j += 16)
        {
            Vector256<float> u = accumulate ? Vector256.Load(c + j) : default, v = accumulate ? Vector256.Load(c + j + 8) : default;
            float* bp = b + j;
            for (int p = 0; p < k; p++, bp += ldb)
            {
                var x = Vector256.Create(a[p]);
                u = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp), u);
                v = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 8), v);
            }
            u.Store(c + j); v.Store(c + j + 8);
        }
        RowTail(a, b, ldb, k, j, n, c, accumulate);
    }

    /// <summary>Columns j.. of one row: 8 at a time, then one at a time (same per-element order).</summary>
    private static void RowTail(float* a, float* b, int ldb, int k, int j, int n, float* c, bool accumulate)
    {
        for (; j + 8 <= n; j += 8)
        {
            Vector256<float> u = accumulate ? Vector256.Load(c + j) : default;
            float* bp = b + j;
            for (int p = 0; p < k; p++, bp += ldb) u = Vector256.FusedMultiplyAdd(Vector256.Create(a[p]), Vector256.Load(bp), u);
            u.Store(c + j);
        }
        for (; j < n; j++)
        {
            float s = accumulate ? c[j] : 0;
            float* bp = b + j;
            for (int p = 0; p < k; p++, bp += ldb) s = MathF.FusedMultiplyAdd(a[p], *bp, s);
            c[j] = s;
        }
    }

    private static void Check(int m, int n, int k, int aLength, int lda, int aCols, int bLength, int ldb, int bCols, int bRows,
        int cLength, int ldc, int cCols, int cRows)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"SmallGemm: negative size m {m}, n {n}, k {k}.");
        if (lda < aCols || ldb < bCols || ldc < cCols)
            throw new ArgumentException($"SmallGemm: a leading dimension is below its row length (lda {lda} < {aCols}, ldb {ldb} < {bCols} or ldc {ldc} < {cCols}).");
        static long Need(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (aLength < Need(m, aCols, lda)) throw new ArgumentException($"SmallGemm: A has {aLength} floats, needs {Need(m, aCols, lda)} ({m} rows of {aCols}, stride {lda}).");
        if (bLength < Need(bRows, bCols, ldb)) throw new ArgumentException($"SmallGemm: B has {bLength} floats, needs {Need(bRows, bCols, ldb)} ({bRows} rows of {bCols}, stride {ldb}).");
        if (cLength < Need(cRows, cCols, ldc)) throw new ArgumentException($"SmallGemm: C has {cLength} floats, needs {Need(cRows, cCols, ldc)} ({cRows} rows of {cCols}, stride {ldc}).");
    }
}
