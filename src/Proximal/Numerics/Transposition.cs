using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Proximal.Numerics;

/// <summary>
/// Matrix transposes in 8 × 8 tiles: with AVX each tile is eight vector loads, a fixed shuffle network and eight
/// vector stores (without it, and at the ragged edges, element by element). Copies and additions only: no value
/// changes other than the addition's one rounding, element by element.
/// </summary>
public static class Transposition
{
    /// <summary>destination [cols × rows] = sourceᵀ for a row-major source [rows × cols].</summary>
    public static unsafe void Transpose(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
    {
        Check(source.Length, rows, cols, destination.Length);
        fixed (float* s = source)
        fixed (float* d = destination)
            Run(s, cols, d, rows, rows, cols, add: false);
    }

    /// <summary>
    /// destination [cols × rows] += sourceᵀ for a row-major source [rows × cols], with source rows <paramref name="sourceStride"/>
    /// apart and destination rows <paramref name="destinationStride"/> apart (each element: one float addition).
    /// </summary>
    internal static unsafe void AddTransposed(float* source, int sourceStride, float* destination, int destinationStride, int rows, int cols)
        => Run(source, sourceStride, destination, destinationStride, rows, cols, add: true);

    private static void Check(int sourceLength, int rows, int cols, int destinationLength)
    {
        long n = (long)rows * cols;
        if (rows < 0 || cols < 0 || sourceLength < n || destinationLength < n)
            throw new ArgumentException("Transpose: source or destination is smaller than rows × columns.");
    }

    private static unsafe void Run(float* s, nint ls, float* d, nint ld, int rows, int cols, bool add)
    {
        int r0 = 0;
        if (Avx.IsSupported)
            for (; r0 + 8 <= rows; r0 += 8)
            {
                int c0 = 0;
                for (; c0 + 8 <= cols; c0 += 8) Tile8(s + r0 * ls + c0, ls, d + c0 * ld + r0, ld, add);
                Scalar(s, ls, d, ld, r0, r0 + 8, c0, cols, add);
            }
        Scalar(s, ls, d, ld, r0, rows, 0, cols, add);
    }

    private static unsafe void Scalar(float* s, nint ls, float* d, nint ld, int r0, int r1, int c0, int c1, bool add)
    {
        for (int r = r0; r < r1; r++)
            for (int c = c0; c < c1; c++)
            {
                if (add) d[c * ld + r] += s[r * ls + c];
                else d[c * ld + r] = s[r * ls + c];
            }
    }

    /// <summary>One 8 × 8 tile: rows of s (stride ls) become rows of d (stride ld).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Tile8(float* s, nint ls, float* d, nint ld, bool add)
    {
        Transposed8x8(s, ls, out var q0, out var q1, out var q2, out var q3, out var q4, out var q5, out var q6, out var q7);
        Put(d, q0, add); Put(d + ld, q1, add); Put(d + 2 * ld, q2, add); Put(d + 3 * ld, q3, add);
        Put(d + 4 * ld, q4, add); Put(d + 5 * ld, q5, add); Put(d + 6 * ld, q6, add); Put(d + 7 * ld, q7, add);
    }

    /// <summary>
    /// The 8×8 block at <paramref name="src"/> (row stride <paramref name="lds"/>) transposed in registers (unpack,
    /// shuffle, lane permute): q_c holds column c of the block. Moves values only, so every bit is kept. Needs AVX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Transposed8x8(float* src, nint lds, out Vector256<float> q0, out Vector256<float> q1, out Vector256<float> q2,
        out Vector256<float> q3, out Vector256<float> q4, out Vector256<float> q5, out Vector256<float> q6, out Vector256<float> q7)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2 * lds); var r3 = Avx.LoadVector256(src + 3 * lds);
        var r4 = Avx.LoadVector256(src + 4 * lds); var r5 = Avx.LoadVector256(src + 5 * lds);
        var r6 = Avx.LoadVector256(src + 6 * lds); var r7 = Avx.LoadVector256(src + 7 * lds);
        // pairs of rows interleaved, then pairs of pairs, then the 128-bit halves exchanged
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        q0 = Avx.Permute2x128(u0, u4, 0x20); q1 = Avx.Permute2x128(u1, u5, 0x20);
        q2 = Avx.Permute2x128(u2, u6, 0x20); q3 = Avx.Permute2x128(u3, u7, 0x20);
        q4 = Avx.Permute2x128(u0, u4, 0x31); q5 = Avx.Permute2x128(u1, u5, 0x31);
        q6 = Avx.Permute2x128(u2, u6, 0x31); q7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Put(float* d, Vector256<float> v, bool add)
    {
        if (add) Avx.Store(d, Avx.Add(Avx.LoadVector256(d), v));
        else Avx.Store(d, v);
    }
}
