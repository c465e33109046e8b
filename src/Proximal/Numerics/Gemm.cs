namespace Proximal.Numerics;

/// <summary>Whether an operand is used as stored or transposed.</summary>
public enum Transpose { No, Yes }

/// <summary>
/// Single-precision GEMM on row-major strided operands:
/// C[m×n] = alpha·op(A)·op(B) + beta·C, with op(A) of size m×k and op(B) of size k×n.
/// Leading dimensions are row strides: A is (ta==No ? m×k : k×m) with row stride lda, and so on.
/// beta == 0 overwrites C (NaN in C does not propagate), as BLAS does.
/// </summary>
public static class Gemm
{
    public static void Multiply(Transpose ta, Transpose tb, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int threads = 1)
    {
        Validate(ta, tb, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, threads);
        // Reference implementation; replaced by the blocked SIMD kernel.
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float s = 0;
            for (int p = 0; p < k; p++)
                s += (ta == Transpose.No ? a[i * lda + p] : a[p * lda + i]) * (tb == Transpose.No ? b[p * ldb + j] : b[j * ldb + p]);
            ref float cij = ref c[i * ldc + j];
            cij = beta == 0 ? alpha * s : alpha * s + beta * cij;
        }
    }

    internal static void Validate(Transpose ta, Transpose tb, int m, int n, int k, int aLen, int lda, int bLen, int ldb, int cLen, int ldc, int threads)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"GEMM sizes must be non-negative, got m={m}, n={n}, k={k}.");
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "GEMM needs at least one thread.");
        int aRows = ta == Transpose.No ? m : k, aCols = ta == Transpose.No ? k : m;
        int bRows = tb == Transpose.No ? k : n, bCols = tb == Transpose.No ? n : k;
        Check("A", aRows, aCols, aLen, lda);
        Check("B", bRows, bCols, bLen, ldb);
        Check("C", m, n, cLen, ldc);
    }

    private static void Check(string name, int rows, int cols, int length, int ld)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"GEMM operand {name} is {rows}×{cols} but its leading dimension {ld} is smaller than {cols}.");
        long need = (long)(rows - 1) * ld + cols;
        if (length < need) throw new ArgumentException($"GEMM operand {name} is {rows}×{cols} with leading dimension {ld} and needs {need} floats, but its span has {length}.");
    }
}
