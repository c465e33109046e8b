// Generated-style unrolled micro-kernels for Gemm: every accumulator is a named local so the JIT keeps it in a register.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Proximal.Numerics;

public static partial class Gemm
{
    /// <summary>Vector512&lt;float&gt; tier: a 8×32 tile of C held in 16 accumulators; each k step loads 2 vectors of B
    /// and broadcasts 8 elements of A. Rows past <c>rows</c> re-read the last valid row (results discarded by the caller).</summary>
    internal static unsafe class Kernels512
    {
        public const int MR = 8;
        public const int NR = 32;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Tile(int kb, float* a, nint rs, nint cs, int rows, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            nint last = rows - 1;
            float* a0 = a;
            float* a1 = a + Math.Min(1, last) * rs;
            float* a2 = a + Math.Min(2, last) * rs;
            float* a3 = a + Math.Min(3, last) * rs;
            float* a4 = a + Math.Min(4, last) * rs;
            float* a5 = a + Math.Min(5, last) * rs;
            float* a6 = a + Math.Min(6, last) * rs;
            float* a7 = a + Math.Min(7, last) * rs;
            Vector512<float> c00 = Vector512<float>.Zero, c01 = Vector512<float>.Zero, c10 = Vector512<float>.Zero, c11 = Vector512<float>.Zero, c20 = Vector512<float>.Zero, c21 = Vector512<float>.Zero, c30 = Vector512<float>.Zero, c31 = Vector512<float>.Zero, c40 = Vector512<float>.Zero, c41 = Vector512<float>.Zero, c50 = Vector512<float>.Zero, c51 = Vector512<float>.Zero, c60 = Vector512<float>.Zero, c61 = Vector512<float>.Zero, c70 = Vector512<float>.Zero, c71 = Vector512<float>.Zero;
            nint off = 0;
            for (int p = 0; p < kb; p++)
            {
                var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
                var x0 = Vector512.Create(a0[off]); c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
                var x1 = Vector512.Create(a1[off]); c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
                var x2 = Vector512.Create(a2[off]); c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
                var x3 = Vector512.Create(a3[off]); c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
                var x4 = Vector512.Create(a4[off]); c40 = Vector512.FusedMultiplyAdd(x4, b0, c40); c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
                var x5 = Vector512.Create(a5[off]); c50 = Vector512.FusedMultiplyAdd(x5, b0, c50); c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
                var x6 = Vector512.Create(a6[off]); c60 = Vector512.FusedMultiplyAdd(x6, b0, c60); c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
                var x7 = Vector512.Create(a7[off]); c70 = Vector512.FusedMultiplyAdd(x7, b0, c70); c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
                off += cs;
                b += ldb;
            }
            Store(c + 0 * ldc, alpha, beta, c00, c01);
            Store(c + 1 * ldc, alpha, beta, c10, c11);
            Store(c + 2 * ldc, alpha, beta, c20, c21);
            Store(c + 3 * ldc, alpha, beta, c30, c31);
            Store(c + 4 * ldc, alpha, beta, c40, c41);
            Store(c + 5 * ldc, alpha, beta, c50, c51);
            Store(c + 6 * ldc, alpha, beta, c60, c61);
            Store(c + 7 * ldc, alpha, beta, c70, c71);
        }

        /// <summary>
        /// An edge tile of at most 4 rows (rows past <c>rows</c> re-read the last valid row): 8 accumulators, still enough
        /// independent chains to keep both FMA pipes busy, at half the work of an 8-row tile. A C whose row count leaves
        /// 1–4 over (Cᵀ of a 17-column C: 8 + 8 + 1) no longer pays a whole 8-row tile for them. Each element is the same
        /// fused multiply-adds in the same k order as in <see cref="Tile"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Tile4(int kb, float* a, nint rs, nint cs, int rows, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            nint last = rows - 1;
            float* a0 = a;
            float* a1 = a + Math.Min(1, last) * rs;
            float* a2 = a + Math.Min(2, last) * rs;
            float* a3 = a + Math.Min(3, last) * rs;
            Vector512<float> c00 = Vector512<float>.Zero, c01 = Vector512<float>.Zero, c10 = Vector512<float>.Zero, c11 = Vector512<float>.Zero, c20 = Vector512<float>.Zero, c21 = Vector512<float>.Zero, c30 = Vector512<float>.Zero, c31 = Vector512<float>.Zero;
            nint off = 0;
            for (int p = 0; p < kb; p++)
            {
                var b0 = Vector512.Load(b + 0); var b1 = Vector512.Load(b + 16);
                var x0 = Vector512.Create(a0[off]); c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
                var x1 = Vector512.Create(a1[off]); c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
                var x2 = Vector512.Create(a2[off]); c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
                var x3 = Vector512.Create(a3[off]); c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
                off += cs;
                b += ldb;
            }
            Store(c + 0 * ldc, alpha, beta, c00, c01);
            Store(c + 1 * ldc, alpha, beta, c10, c11);
            Store(c + 2 * ldc, alpha, beta, c20, c21);
            Store(c + 3 * ldc, alpha, beta, c30, c31);
        }

        /// <summary>
        /// <paramref name="tiles"/> full 8×32 tiles down one B panel in one call: tile t reads A at a + t·aTileStride and
        /// writes C at c + t·8·ldc. The same arithmetic per element as <see cref="Tile"/>. A short k (17–23 steps of 8 cycles)
        /// cannot hide a per-tile call and row-pointer set-up (measured on Zen 5, 256×256×17: 77 → 87 % of peak).
        /// The k loop runs on the B pointer alone, and A rows that lie side by side (Aᵀ read in place, packed A) are
        /// broadcast from one pointer: with eight row pointers, an offset, a counter and the bound the JIT ran out of
        /// registers and reloaded the B stride from the stack at every k step.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Strip(int tiles, nint aTileStride, int kb, float* a, nint rs, nint cs, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            bool plain = alpha == 1f && beta == 0f;
            float* bEnd = b + kb * ldb;
            for (int t = 0; t < tiles; t++, a += aTileStride, c += MR * ldc)
            {
                Vector512<float> c00 = Vector512<float>.Zero, c01 = Vector512<float>.Zero, c10 = Vector512<float>.Zero, c11 = Vector512<float>.Zero, c20 = Vector512<float>.Zero, c21 = Vector512<float>.Zero, c30 = Vector512<float>.Zero, c31 = Vector512<float>.Zero, c40 = Vector512<float>.Zero, c41 = Vector512<float>.Zero, c50 = Vector512<float>.Zero, c51 = Vector512<float>.Zero, c60 = Vector512<float>.Zero, c61 = Vector512<float>.Zero, c70 = Vector512<float>.Zero, c71 = Vector512<float>.Zero;
                if (rs == 1)
                {
                    float* ap = a;
                    for (float* bp = b; bp != bEnd; bp += ldb, ap += cs)
                    {
                        var b0 = Vector512.Load(bp + 0); var b1 = Vector512.Load(bp + 16);
                    var x0 = Vector512.Create(ap[0]); c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
                    var x1 = Vector512.Create(ap[1]); c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
                    var x2 = Vector512.Create(ap[2]); c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
                    var x3 = Vector512.Create(ap[3]); c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
                    var x4 = Vector512.Create(ap[4]); c40 = Vector512.FusedMultiplyAdd(x4, b0, c40); c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
                    var x5 = Vector512.Create(ap[5]); c50 = Vector512.FusedMultiplyAdd(x5, b0, c50); c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
                    var x6 = Vector512.Create(ap[6]); c60 = Vector512.FusedMultiplyAdd(x6, b0, c60); c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
                    var x7 = Vector512.Create(ap[7]); c70 = Vector512.FusedMultiplyAdd(x7, b0, c70); c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
                    }
                }
                else
                {
                    float* a0 = a, a1 = a + rs, a2 = a + 2 * rs, a3 = a + 3 * rs, a4 = a + 4 * rs, a5 = a + 5 * rs, a6 = a + 6 * rs, a7 = a + 7 * rs;
                    nint off = 0;
                    for (float* bp = b; bp != bEnd; bp += ldb, off += cs)
                    {
                        var b0 = Vector512.Load(bp + 0); var b1 = Vector512.Load(bp + 16);
                    var x0 = Vector512.Create(a0[off]); c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
                    var x1 = Vector512.Create(a1[off]); c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
                    var x2 = Vector512.Create(a2[off]); c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
                    var x3 = Vector512.Create(a3[off]); c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
                    var x4 = Vector512.Create(a4[off]); c40 = Vector512.FusedMultiplyAdd(x4, b0, c40); c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
                    var x5 = Vector512.Create(a5[off]); c50 = Vector512.FusedMultiplyAdd(x5, b0, c50); c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
                    var x6 = Vector512.Create(a6[off]); c60 = Vector512.FusedMultiplyAdd(x6, b0, c60); c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
                    var x7 = Vector512.Create(a7[off]); c70 = Vector512.FusedMultiplyAdd(x7, b0, c70); c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
                    }
                }
                float* cp = c;
                if (plain)
                {
                    c00.Store(cp); c01.Store(cp + 16); cp += ldc;
                    c10.Store(cp); c11.Store(cp + 16); cp += ldc;
                    c20.Store(cp); c21.Store(cp + 16); cp += ldc;
                    c30.Store(cp); c31.Store(cp + 16); cp += ldc;
                    c40.Store(cp); c41.Store(cp + 16); cp += ldc;
                    c50.Store(cp); c51.Store(cp + 16); cp += ldc;
                    c60.Store(cp); c61.Store(cp + 16); cp += ldc;
                    c70.Store(cp); c71.Store(cp + 16);
                    continue;
                }
                Store(cp + 0 * ldc, alpha, beta, c00, c01);
                Store(cp + 1 * ldc, alpha, beta, c10, c11);
                Store(cp + 2 * ldc, alpha, beta, c20, c21);
                Store(cp + 3 * ldc, alpha, beta, c30, c31);
                Store(cp + 4 * ldc, alpha, beta, c40, c41);
                Store(cp + 5 * ldc, alpha, beta, c50, c51);
                Store(cp + 6 * ldc, alpha, beta, c60, c61);
                Store(cp + 7 * ldc, alpha, beta, c70, c71);
            }
        }

        /// <summary>C = alpha·acc (beta == 0, C not read) or fma(beta, C, alpha·acc).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, float alpha, float beta, Vector512<float> v0, Vector512<float> v1)
        {
            // alpha == 1 (every layer's product) skips the scaling: 1·x == x exactly, and the two multiplies per row took
            // FMA-port slots that a short-k tile (k = 17: 12 multiplies against 204 FMAs) could not spare.
            if (alpha != 1f)
            {
                v0 *= alpha;
                v1 *= alpha;
            }
            if (beta == 0)
            {
                v0.Store(c + 0);
                v1.Store(c + 16);
            }
            else
            {
                var vb = Vector512.Create(beta);
                Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 0), v0).Store(c + 0);
                Vector512.FusedMultiplyAdd(vb, Vector512.Load(c + 16), v1).Store(c + 16);
            }
        }
    }

    /// <summary>Vector256&lt;float&gt; tier: a 6×16 tile of C held in 12 accumulators; each k step loads 2 vectors of B
    /// and broadcasts 6 elements of A. Rows past <c>rows</c> re-read the last valid row (results discarded by the caller).</summary>
    private static unsafe class Kernels256
    {
        public const int MR = 6;
        public const int NR = 16;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Tile(int kb, float* a, nint rs, nint cs, int rows, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            nint last = rows - 1;
            float* a0 = a;
            float* a1 = a + Math.Min(1, last) * rs;
            float* a2 = a + Math.Min(2, last) * rs;
            float* a3 = a + Math.Min(3, last) * rs;
            float* a4 = a + Math.Min(4, last) * rs;
            float* a5 = a + Math.Min(5, last) * rs;
            Vector256<float> c00 = Vector256<float>.Zero, c01 = Vector256<float>.Zero, c10 = Vector256<float>.Zero, c11 = Vector256<float>.Zero, c20 = Vector256<float>.Zero, c21 = Vector256<float>.Zero, c30 = Vector256<float>.Zero, c31 = Vector256<float>.Zero, c40 = Vector256<float>.Zero, c41 = Vector256<float>.Zero, c50 = Vector256<float>.Zero, c51 = Vector256<float>.Zero;
            nint off = 0;
            for (int p = 0; p < kb; p++)
            {
                var b0 = Vector256.Load(b + 0); var b1 = Vector256.Load(b + 8);
                var x0 = Vector256.Create(a0[off]); c00 = Vector256.FusedMultiplyAdd(x0, b0, c00); c01 = Vector256.FusedMultiplyAdd(x0, b1, c01);
                var x1 = Vector256.Create(a1[off]); c10 = Vector256.FusedMultiplyAdd(x1, b0, c10); c11 = Vector256.FusedMultiplyAdd(x1, b1, c11);
                var x2 = Vector256.Create(a2[off]); c20 = Vector256.FusedMultiplyAdd(x2, b0, c20); c21 = Vector256.FusedMultiplyAdd(x2, b1, c21);
                var x3 = Vector256.Create(a3[off]); c30 = Vector256.FusedMultiplyAdd(x3, b0, c30); c31 = Vector256.FusedMultiplyAdd(x3, b1, c31);
                var x4 = Vector256.Create(a4[off]); c40 = Vector256.FusedMultiplyAdd(x4, b0, c40); c41 = Vector256.FusedMultiplyAdd(x4, b1, c41);
                var x5 = Vector256.Create(a5[off]); c50 = Vector256.FusedMultiplyAdd(x5, b0, c50); c51 = Vector256.FusedMultiplyAdd(x5, b1, c51);
                off += cs;
                b += ldb;
            }
            if (alpha == 1f && beta == 0f)
            {
                // The common case (a layer's product into fresh output) as plain stores: no tests between them.
                c00.Store(c); c01.Store(c + 8); c += ldc;
                c10.Store(c); c11.Store(c + 8); c += ldc;
                c20.Store(c); c21.Store(c + 8); c += ldc;
                c30.Store(c); c31.Store(c + 8); c += ldc;
                c40.Store(c); c41.Store(c + 8); c += ldc;
                c50.Store(c); c51.Store(c + 8);
                return;
            }
            Store(c + 0 * ldc, alpha, beta, c00, c01);
            Store(c + 1 * ldc, alpha, beta, c10, c11);
            Store(c + 2 * ldc, alpha, beta, c20, c21);
            Store(c + 3 * ldc, alpha, beta, c30, c31);
            Store(c + 4 * ldc, alpha, beta, c40, c41);
            Store(c + 5 * ldc, alpha, beta, c50, c51);
        }

        /// <summary>
        /// <paramref name="tiles"/> full 6×16 tiles down one B panel in one call: tile t reads A at a + t·aTileStride and
        /// writes C at c + t·6·ldc. The same arithmetic per element as <see cref="Tile"/>; what it saves is the per-tile call
        /// and row-pointer set-up, which a short k (17–23 steps of 6 cycles) cannot hide.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Strip(int tiles, nint aTileStride, int kb, float* a, nint rs, nint cs, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            bool plain = alpha == 1f && beta == 0f;
            for (int t = 0; t < tiles; t++, a += aTileStride, c += MR * ldc)
            {
                float* a0 = a, a1 = a + rs, a2 = a + 2 * rs, a3 = a + 3 * rs, a4 = a + 4 * rs, a5 = a + 5 * rs;
                float* bp = b;
                Vector256<float> c00 = Vector256<float>.Zero, c01 = Vector256<float>.Zero, c10 = Vector256<float>.Zero, c11 = Vector256<float>.Zero, c20 = Vector256<float>.Zero, c21 = Vector256<float>.Zero, c30 = Vector256<float>.Zero, c31 = Vector256<float>.Zero, c40 = Vector256<float>.Zero, c41 = Vector256<float>.Zero, c50 = Vector256<float>.Zero, c51 = Vector256<float>.Zero;
                nint off = 0;
                for (int p = 0; p < kb; p++)
                {
                    var b0 = Vector256.Load(bp + 0); var b1 = Vector256.Load(bp + 8);
                    var x0 = Vector256.Create(a0[off]); c00 = Vector256.FusedMultiplyAdd(x0, b0, c00); c01 = Vector256.FusedMultiplyAdd(x0, b1, c01);
                    var x1 = Vector256.Create(a1[off]); c10 = Vector256.FusedMultiplyAdd(x1, b0, c10); c11 = Vector256.FusedMultiplyAdd(x1, b1, c11);
                    var x2 = Vector256.Create(a2[off]); c20 = Vector256.FusedMultiplyAdd(x2, b0, c20); c21 = Vector256.FusedMultiplyAdd(x2, b1, c21);
                    var x3 = Vector256.Create(a3[off]); c30 = Vector256.FusedMultiplyAdd(x3, b0, c30); c31 = Vector256.FusedMultiplyAdd(x3, b1, c31);
                    var x4 = Vector256.Create(a4[off]); c40 = Vector256.FusedMultiplyAdd(x4, b0, c40); c41 = Vector256.FusedMultiplyAdd(x4, b1, c41);
                    var x5 = Vector256.Create(a5[off]); c50 = Vector256.FusedMultiplyAdd(x5, b0, c50); c51 = Vector256.FusedMultiplyAdd(x5, b1, c51);
                    off += cs;
                    bp += ldb;
                }
                float* cp = c;
                if (plain)
                {
                    c00.Store(cp); c01.Store(cp + 8); cp += ldc;
                    c10.Store(cp); c11.Store(cp + 8); cp += ldc;
                    c20.Store(cp); c21.Store(cp + 8); cp += ldc;
                    c30.Store(cp); c31.Store(cp + 8); cp += ldc;
                    c40.Store(cp); c41.Store(cp + 8); cp += ldc;
                    c50.Store(cp); c51.Store(cp + 8);
                    continue;
                }
                Store(cp + 0 * ldc, alpha, beta, c00, c01);
                Store(cp + 1 * ldc, alpha, beta, c10, c11);
                Store(cp + 2 * ldc, alpha, beta, c20, c21);
                Store(cp + 3 * ldc, alpha, beta, c30, c31);
                Store(cp + 4 * ldc, alpha, beta, c40, c41);
                Store(cp + 5 * ldc, alpha, beta, c50, c51);
            }
        }

        /// <summary>Rows and columns of the wide tile (<see cref="TileWide"/>).</summary>
        public const int WideMR = 4, WideNR = 24;

        /// <summary>
        /// A 4×24 tile for a C with few columns (n = 17 or 23: 24 columns waste 1–7, where two 16-wide panels waste 9–15):
        /// 12 accumulators again; each k step loads 3 vectors of B and broadcasts 4 elements of A. Each element is the same
        /// fused multiply-adds in the same k order as in <see cref="Tile"/>, so the tile shape never changes a bit.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void TileWide(int kb, float* a, nint rs, nint cs, int rows, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        {
            nint last = rows - 1;
            float* a0 = a;
            float* a1 = a + Math.Min(1, last) * rs;
            float* a2 = a + Math.Min(2, last) * rs;
            float* a3 = a + Math.Min(3, last) * rs;
            Vector256<float> c00 = Vector256<float>.Zero, c01 = Vector256<float>.Zero, c02 = Vector256<float>.Zero, c10 = Vector256<float>.Zero, c11 = Vector256<float>.Zero, c12 = Vector256<float>.Zero, c20 = Vector256<float>.Zero, c21 = Vector256<float>.Zero, c22 = Vector256<float>.Zero, c30 = Vector256<float>.Zero, c31 = Vector256<float>.Zero, c32 = Vector256<float>.Zero;
            nint off = 0;
            for (int p = 0; p < kb; p++)
            {
                var b0 = Vector256.Load(b + 0); var b1 = Vector256.Load(b + 8); var b2 = Vector256.Load(b + 16);
                var x0 = Vector256.Create(a0[off]); c00 = Vector256.FusedMultiplyAdd(x0, b0, c00); c01 = Vector256.FusedMultiplyAdd(x0, b1, c01); c02 = Vector256.FusedMultiplyAdd(x0, b2, c02);
                var x1 = Vector256.Create(a1[off]); c10 = Vector256.FusedMultiplyAdd(x1, b0, c10); c11 = Vector256.FusedMultiplyAdd(x1, b1, c11); c12 = Vector256.FusedMultiplyAdd(x1, b2, c12);
                var x2 = Vector256.Create(a2[off]); c20 = Vector256.FusedMultiplyAdd(x2, b0, c20); c21 = Vector256.FusedMultiplyAdd(x2, b1, c21); c22 = Vector256.FusedMultiplyAdd(x2, b2, c22);
                var x3 = Vector256.Create(a3[off]); c30 = Vector256.FusedMultiplyAdd(x3, b0, c30); c31 = Vector256.FusedMultiplyAdd(x3, b1, c31); c32 = Vector256.FusedMultiplyAdd(x3, b2, c32);
                off += cs;
                b += ldb;
            }
            Store(c + 0 * ldc, alpha, beta, c00, c01); Store(c + 0 * ldc + 16, alpha, beta, c02);
            Store(c + 1 * ldc, alpha, beta, c10, c11); Store(c + 1 * ldc + 16, alpha, beta, c12);
            Store(c + 2 * ldc, alpha, beta, c20, c21); Store(c + 2 * ldc + 16, alpha, beta, c22);
            Store(c + 3 * ldc, alpha, beta, c30, c31); Store(c + 3 * ldc + 16, alpha, beta, c32);
        }

        /// <summary>One vector of <see cref="Store(float*, float, float, Vector256{float}, Vector256{float})"/>: the same arithmetic.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, float alpha, float beta, Vector256<float> v)
        {
            if (alpha != 1f) v *= alpha;
            if (beta == 0) v.Store(c);
            else Vector256.FusedMultiplyAdd(Vector256.Create(beta), Vector256.Load(c), v).Store(c);
        }

        /// <summary>C = alpha·acc (beta == 0, C not read) or fma(beta, C, alpha·acc).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, float alpha, float beta, Vector256<float> v0, Vector256<float> v1)
        {
            // alpha == 1 (every layer's product) skips the scaling: 1·x == x exactly, and the two multiplies per row took
            // FMA-port slots that a short-k tile (k = 17: 12 multiplies against 204 FMAs) could not spare.
            if (alpha != 1f)
            {
                v0 *= alpha;
                v1 *= alpha;
            }
            if (beta == 0)
            {
                v0.Store(c + 0);
                v1.Store(c + 8);
            }
            else
            {
                var vb = Vector256.Create(beta);
                Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 0), v0).Store(c + 0);
                Vector256.FusedMultiplyAdd(vb, Vector256.Load(c + 8), v1).Store(c + 8);
            }
        }
    }
}
