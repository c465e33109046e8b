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
/// kernel's packing and edge handling cost more than the multiply-adds (Zen 5, AVX-512: 30 µs for the full 64 × 64,
/// 37–39 µs as row blocks of the lower triangle, against ~12 µs of FMA work; an 11-wide input layer took 13 µs for
/// 60 k multiply-adds). Here X's rows are read in place (broadcasts of X[r, i0..i0+8] and vector loads of
/// X[r, j0..j0+32] from the same row, which the hardware prefetcher streams) and only the tiles that touch the lower
/// triangle are computed. A width off the 16-lane grid is read in place too, loads running into the next row feeding
/// only lanes and tile rows that are never stored; just the last rows, whose loads would leave X, come from a
/// zero-padded copy (a first version copied every row: 12 µs of the 11-wide Gram's 13 were the copy). Entries above the diagonal that share a tile with the lower
/// triangle are written too (with their correct values); the rest of the upper triangle is left as it was.
/// Single-threaded; the AVX-512 tier only (the other tiers run the GEMM on row blocks, the previous path).
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
        int width = (n + 15) & ~15; // a tile reads up to this many floats from the start of a row
        fixed (float* px = x)
        fixed (float* pc = c)
        {
            // Rows are read in place, their loads running past the row's end into the next row when n is off the 16-lane
            // grid: those lanes (and tile rows past n) only feed accumulators that are never stored. The last rows,
            // whose loads would run past the end of x, are read from a zero-padded copy instead (row order unchanged).
            long inPlaceRows = n == width ? rows : Math.Max(0, (x.Length - width) / n + 1);
            int tailFrom = (int)Math.Min(rows, inPlaceRows);
            float* tail = tailFrom < rows ? Scratch.Get((rows - tailFrom) * width) : null;
            for (int r = tailFrom; r < rows; r++)
            {
                new ReadOnlySpan<float>(px + (nint)r * n, n).CopyTo(new Span<float>(tail + (nint)(r - tailFrom) * width, n));
                new Span<float>(tail + (nint)(r - tailFrom) * width + n, width - n).Clear();
            }
            for (int p0 = 0; p0 < rows; p0 += Gemm.KC)
            {
                int p1 = Math.Min(rows, p0 + Gemm.KC);
                // This k block's rows: [p0, split) in place, [split, p1) from the padded tail.
                int split = Math.Clamp(tailFrom, p0, p1);
                var block = new Rows(px + (nint)p0 * n, n, split - p0, tail + (nint)(split - tailFrom) * width, width, p1 - split);
                bool first = p0 == 0;
                for (int i0 = 0; i0 < n; i0 += 8)
                {
                    int ih = Math.Min(8, n - i0);
                    int columns = i0 + ih; // the tile rows' lower-triangle columns: j < i0 + ih
                    for (int j0 = 0; j0 < columns; j0 += 32)
                    {
                        int vectors = columns - j0 > 16 ? 2 : 1;
                        Tile8(block, i0, j0, vectors, pc, n, ih, Math.Min(16 * vectors, n - j0), alpha, first);
                    }
                }
            }
        }
    }

    /// <summary>One k block's rows of X: <c>Count</c> rows at <c>Start</c> (stride <c>Stride</c>), then <c>TailCount</c> at <c>Tail</c> (stride <c>TailStride</c>).</summary>
    private readonly unsafe struct Rows(float* start, int stride, int count, float* tail, int tailStride, int tailCount)
    {
        public readonly float* Start = start, Tail = tail;
        public readonly int Stride = stride, Count = count, TailStride = tailStride, TailCount = tailCount;
    }

    /// <summary>
    /// C[i0.., j0..] for 8 rows × 16·<paramref name="vectors"/> columns over one k block's rows (in place, then the padded
    /// tail, in row order): 16 accumulators (8 with one vector), each X row giving 8 broadcasts and 2 loads; then rows &lt; <paramref name="rowsToStore"/>
    /// and columns &lt; <paramref name="columnsToStore"/> stored as the GEMM stores a k block (alpha·acc, then C + alpha·acc).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile8(Rows rows, int i0, int j0, int vectors, float* c, int ldc, int rowsToStore, int columnsToStore,
        float alpha, bool first)
    {
        var c00 = Vector512<float>.Zero; var c10 = c00; var c20 = c00; var c30 = c00; var c40 = c00; var c50 = c00; var c60 = c00; var c70 = c00;
        var c01 = c00; var c11 = c00; var c21 = c00; var c31 = c00; var c41 = c00; var c51 = c00; var c61 = c00; var c71 = c00;
        for (int segment = 0; segment < 2; segment++)
        {
            float* row = segment == 0 ? rows.Start : rows.Tail;
            int ld = segment == 0 ? rows.Stride : rows.TailStride, kb = segment == 0 ? rows.Count : rows.TailCount;
            if (vectors == 2)
            {
                for (int r = 0; r < kb; r++, row += ld)
                {
                    var b0 = Vector512.Load(row + j0);
                    var b1 = Vector512.Load(row + j0 + 16);
                    float* a = row + i0;
                    var x0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
                    var x1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
                    var x2 = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
                    var x3 = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
                    var x4 = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x4, b0, c40); c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
                    var x5 = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x5, b0, c50); c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
                    var x6 = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x6, b0, c60); c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
                    var x7 = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x7, b0, c70); c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
                }
            }
            else
            {
                for (int r = 0; r < kb; r++, row += ld)
                {
                    var b0 = Vector512.Load(row + j0);
                    float* a = row + i0;
                    c00 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c00);
                    c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c10);
                    c20 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c20);
                    c30 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c30);
                    c40 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c40);
                    c50 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c50);
                    c60 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c60);
                    c70 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c70);
                }
            }
        }
        float* cp = c + (nint)i0 * ldc + j0;
        if (rowsToStore == 8 && columnsToStore == 16 * vectors)
        {
            Store(cp + 0 * ldc, c00, c01, vectors, alpha, first); Store(cp + 1 * ldc, c10, c11, vectors, alpha, first);
            Store(cp + 2 * ldc, c20, c21, vectors, alpha, first); Store(cp + 3 * ldc, c30, c31, vectors, alpha, first);
            Store(cp + 4 * ldc, c40, c41, vectors, alpha, first); Store(cp + 5 * ldc, c50, c51, vectors, alpha, first);
            Store(cp + 6 * ldc, c60, c61, vectors, alpha, first); Store(cp + 7 * ldc, c70, c71, vectors, alpha, first);
            return;
        }
        // An edge tile: through a stack copy, element by element with the same arithmetic (the GEMM's StoreEdge).
        float* tile = stackalloc float[8 * 32];
        c00.Store(tile + 0); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
        int cols = Math.Min(columnsToStore, 16 * vectors);
        for (int i = 0; i < rowsToStore; i++)
        {
            float* t = tile + i * 32, d = cp + (nint)i * ldc;
            if (first) for (int j = 0; j < cols; j++) d[j] = alpha * t[j];
            else for (int j = 0; j < cols; j++) d[j] = MathF.FusedMultiplyAdd(1f, d[j], alpha * t[j]);
        }
    }

    /// <summary>A full row of a tile, as the GEMM's Vector512 kernels store it (alpha == 1 skips the exact 1·x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(float* c, Vector512<float> v0, Vector512<float> v1, int vectors, float alpha, bool first)
    {
        if (alpha != 1f) { v0 *= alpha; v1 *= alpha; }
        var one = Vector512.Create(1f);
        if (first) v0.Store(c);
        else Vector512.FusedMultiplyAdd(one, Vector512.Load(c), v0).Store(c);
        if (vectors == 1) return;
        if (first) v1.Store(c + 16);
        else Vector512.FusedMultiplyAdd(one, Vector512.Load(c + 16), v1).Store(c + 16);
    }

    /// <summary>Per-thread zero-padded copy of the last rows; grows once, so steady-state calls allocate nothing.</summary>
    private static unsafe class Scratch
    {
        [ThreadStatic] private static float[]? _buffer;

        public static float* Get(int floats)
        {
            if (_buffer is null || _buffer.Length < floats)
                _buffer = GC.AllocateUninitializedArray<float>(Math.Max(floats, 16 * 64), pinned: true);
            return (float*)Unsafe.AsPointer(ref _buffer[0]);
        }
    }
}
