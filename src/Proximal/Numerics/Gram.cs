using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Proximal.Numerics;

/// <summary>
/// The lower triangle of a Gram product C = alpha·XᵀX for X [rows × n] (row-major, row stride n): the second moments
/// that K-FAC's factors are made of. Every entry is bit-identical to <see cref="Gemm.Multiply"/>(Aᵀ, B, n, n, rows,
/// alpha, X, n, X, n, 0, C, n): each element is one fused multiply-add per row in row order, restarted at every
/// <see cref="Gemm.KC"/> rows, scaled by alpha and added to C exactly as the GEMM's kernels store a k block. So the
/// choice of path never changes a bit.
/// </summary>
/// <remarks>
/// Why not the GEMM itself: the Gram of a 64-wide layer over 500 rows is a GEMM of thin, short shapes where the general
/// driver's packing and edge handling cost more than the multiply-adds (Zen 5, AVX-512: 30 µs for the full 64 × 64,
/// 37–39 µs as row blocks of the lower triangle, against ~12 µs of FMA work; an 11-wide input layer took 13 µs for
/// 60 k multiply-adds). Here the GEMM's own 8 × 32 micro-kernel runs on X read in place (Aᵀ broadcast from
/// X[r, i0..i0+8], B loaded from X[r, j0..j0+32] of the same row, a stream the hardware prefetcher follows), only on the
/// tiles that touch the lower triangle; a width off the 32-column grid is first copied, one k block at a time, into a
/// zero-padded scratch so that the kernel's loads stay inside it. Entries above the diagonal that share a tile with the
/// lower triangle are written too (with their correct values); the rest of the upper triangle is left as it was.
/// Single-threaded and the AVX-512 tier only: the other tiers, and more than one thread, run the GEMM on row blocks of
/// the triangle (C[r0:r1, 0:r1], 16 rows at a time).
/// </remarks>
public static class Gram
{
    /// <summary>Rows of C per GEMM on the GEMM path: small enough to skip most of the upper triangle, large enough for its tiles.</summary>
    internal const int GemmRowBlock = 16;

    internal enum Path { Auto, Gemm, Tiled }

    /// <summary>The lower triangle (diagonal included) of c [n × n] ← alpha·xᵀx; see the class remarks.</summary>
    public static void LowerTriangle(ReadOnlySpan<float> x, int rows, int n, float alpha, Span<float> c, int threads = 1)
        => LowerTriangle(x, rows, n, alpha, c, threads, Path.Auto);

    internal static unsafe void LowerTriangle(ReadOnlySpan<float> x, int rows, int n, float alpha, Span<float> c, int threads, Path path)
    {
        if (rows < 0 || n < 0) throw new ArgumentException($"Gram sizes must be non-negative; got rows={rows}, n={n}.");
        if (x.Length < (long)rows * n) throw new ArgumentException($"Gram: x holds {x.Length} floats; {rows} rows of {n} need {(long)rows * n}.", nameof(x));
        if (c.Length < (long)n * n) throw new ArgumentException($"Gram: c holds {c.Length} floats; an {n} × {n} result needs {(long)n * n}.", nameof(c));
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Gram needs at least one thread.");
        if (n == 0) return;
        bool tiled = path == Path.Tiled || (path == Path.Auto && threads == 1 && Gemm.BestTier == Gemm.Tier.V512);
        if (rows == 0 || alpha == 0 || !tiled)
        {
            // The GEMM on row blocks C[r0:r1, 0:r1] (also the rows == 0 / alpha == 0 cases: C ← 0 as the GEMM defines them).
            for (int r0 = 0; r0 < n; r0 += GemmRowBlock)
            {
                int r1 = Math.Min(n, r0 + GemmRowBlock);
                Gemm.Multiply(Transpose.Yes, Transpose.No, r1 - r0, r1, rows, alpha, x[r0..], n, x, n, 0f, c[(r0 * n)..], n, threads);
            }
            return;
        }
        if (!Vector512.IsHardwareAccelerated) throw new PlatformNotSupportedException("The tiled Gram path needs Vector512.");
        const int mr = Gemm.Kernels512.MR, nr = Gemm.Kernels512.NR;
        // The kernel reads rows i0..i0+7 and columns j0..j0+31 of every X row: in place when n is a multiple of 32
        // (tiles never leave a row), else from a padded copy of stride `width`.
        int width = (n + nr - 1) / nr * nr;
        float* tile = stackalloc float[mr * nr];
        fixed (float* px = x)
        fixed (float* pc = c)
        {
            float* scratch = width == n ? null : Scratch.Get(Math.Min(rows, Gemm.KC) * width);
            for (int p0 = 0; p0 < rows; p0 += Gemm.KC)
            {
                int kb = Math.Min(Gemm.KC, rows - p0);
                float* xs = px + (nint)p0 * n;
                if (scratch != null)
                {
                    for (int r = 0; r < kb; r++)
                    {
                        float* src = xs + (nint)r * n, dst = scratch + (nint)r * width;
                        for (int j = n & ~15; j < width; j += 16) Vector512<float>.Zero.Store(dst + j); // the padding, by whole vectors
                        for (int j = 0; j < n; j++) dst[j] = src[j];
                    }
                    xs = scratch;
                }
                float beta = p0 == 0 ? 0f : 1f; // k blocks after the first add to C, as the GEMM's do
                for (int i0 = 0; i0 < n; i0 += mr)
                {
                    int ih = Math.Min(mr, n - i0);
                    for (int j0 = 0; j0 < i0 + ih; j0 += nr) // the tile rows' lower-triangle columns: j < i0 + ih
                    {
                        int cw = Math.Min(nr, n - j0);
                        float* a = xs + i0, b = xs + j0, cp = pc + (nint)i0 * n + j0;
                        if (ih == mr && cw == nr) Gemm.Kernels512.Tile(kb, a, 1, width, mr, b, width, cp, n, alpha, beta);
                        else
                        {
                            // An edge tile: the kernel's plain sums, stored element by element as the GEMM's edge store does.
                            Gemm.Kernels512.Tile(kb, a, 1, width, ih, b, width, tile, nr, 1f, 0f);
                            for (int i = 0; i < ih; i++)
                            {
                                float* t = tile + i * nr, d = cp + (nint)i * n;
                                if (beta == 0) for (int j = 0; j < cw; j++) d[j] = alpha * t[j];
                                else for (int j = 0; j < cw; j++) d[j] = MathF.FusedMultiplyAdd(beta, d[j], alpha * t[j]);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Per-thread zero-padded copy of one k block; grows once, so steady-state calls allocate nothing.</summary>
    private static unsafe class Scratch
    {
        [ThreadStatic] private static float[]? _buffer;

        public static float* Get(int floats)
        {
            if (_buffer is null || _buffer.Length < floats)
                _buffer = GC.AllocateUninitializedArray<float>(Math.Max(floats, 32 * 64), pinned: true);
            return (float*)Unsafe.AsPointer(ref _buffer[0]);
        }
    }
}
