using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Proximal.Numerics;

/// <summary>Whether an operand is used as stored or transposed.</summary>
public enum Transpose { No, Yes }

/// <summary>
/// Single-precision GEMM on row-major strided operands:
/// C[m×n] = alpha·op(A)·op(B) + beta·C, with op(A) of size m×k and op(B) of size k×n.
/// Leading dimensions are row strides: A is (ta==No ? m×k : k×m) with row stride lda, and so on.
/// beta == 0 overwrites C (NaN in C does not propagate), as BLAS does; alpha == 0 (or k == 0) only scales C.
/// </summary>
/// <remarks>
/// <para>Every element of C is summed in the same order on every path — one fused multiply-add per
/// k step, k cut into fixed blocks of <see cref="KC"/> — whatever the SIMD tier, the tiling, the packing
/// choice or the number of threads. So results are bit-identical for threads = 1 and threads &gt; 1, and
/// across the Vector512, Vector256 and scalar tiers.</para>
/// <para>Small problems (the common case in small MLPs) read A and B in place: A elements are
/// broadcast straight from their rows or columns, B rows are loaded straight from B; only a transposed
/// B and the ragged last column panel are packed. Large problems pack A and B panels (Goto-style cache
/// blocking). Pack buffers are per thread and grow once, so steady-state calls allocate nothing.</para>
/// </remarks>
public static partial class Gemm
{
    /// <summary>Depth of one k block. Fixed (not tier- or thread-dependent) because it fixes the summation order.</summary>
    internal const int KC = 256;
    /// <summary>Rows of one packed A block (it lives in L2 while the B panels stream past).</summary>
    private const int MC = 192;
    /// <summary>Columns of one packed B block.</summary>
    private const int NC = 2048;
    /// <summary>Below this many multiply-adds per thread, extra threads cost more than they save.</summary>
    private const long MinWorkPerThread = 1L << 20;
    /// <summary>Floats in a 4 KiB page.</summary>
    private const int PageFloats = 1024;

    /// <summary>Packing choice; tests force each path, production uses <see cref="Auto"/>.</summary>
    internal enum Packing { Auto, Always, Never }

    internal enum Tier { Scalar, V256, V512 }

    /// <summary>
    /// Whether C is computed as stored or as Cᵀ = op(B)ᵀ·op(A)ᵀ (written back transposed); tests force each, production
    /// uses <see cref="Auto"/>. Each element is the same fused multiply-adds in the same k order either way (a·b = b·a
    /// exactly), so the choice never changes a bit.
    /// </summary>
    internal enum Orientation { Auto, AsIs, Transposed }

    /// <summary>
    /// AVX2 tile shape: 6×16 (<see cref="Standard"/>) or 4×24 (<see cref="Wide"/>, for C with 17–24 columns and the like);
    /// tests force each, production uses <see cref="Auto"/>. The shape decides which elements share a tile, never how an
    /// element is summed, so it never changes a bit. The other tiers ignore it.
    /// </summary>
    internal enum TileShape { Auto, Standard, Wide }

    internal static Tier BestTier =>
        Vector512.IsHardwareAccelerated ? Tier.V512 :
        Vector256.IsHardwareAccelerated ? Tier.V256 : Tier.Scalar;

    public static void Multiply(Transpose ta, Transpose tb, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int threads = 1)
        => Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, BestTier);

    /// <summary>Same as the public overload with an explicit kernel tier (tests run every tier on one machine).</summary>
    internal static unsafe void Multiply(Transpose ta, Transpose tb, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int threads, Tier tier, Packing packing = Packing.Auto, Orientation orientation = Orientation.Auto, TileShape shape = TileShape.Auto)
    {
        Validate(ta, tb, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, threads);
        if (m == 0 || n == 0) return;
        fixed (float* pc = c)
        {
            if (alpha == 0 || k == 0)
            {
                ScaleC(m, n, beta, pc, ldc);
                return;
            }
            fixed (float* pa = a)
            fixed (float* pb = b)
            {
                bool swap = orientation == Orientation.Transposed
                    || (orientation == Orientation.Auto && tier != Tier.Scalar && TransposedPays(tier, ta, m, n, k));
                int jm = swap ? n : m, jn = swap ? m : n; // the job's own rows and columns
                bool wide = tier == Tier.V256 && (shape == TileShape.Wide || shape == TileShape.Auto && WidePays(jm, jn));
                var job = swap
                    ? new Job(Flip(tb), Flip(ta), n, m, k, alpha, pb, ldb, pa, lda, beta, pc, ldc, tier, packing, transposedC: true, wide)
                    : new Job(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, tier, packing, transposedC: false, wide);
                long work = (long)m * n * k;
                int parts = (int)Math.Min(threads, Math.Max(1, work / MinWorkPerThread));
                if (parts <= 1) job.Run(0, swap ? n : m, 0, swap ? m : n); // the job's own rows and columns
                else job.RunParallel(parts);
            }
        }
    }

    private static Transpose Flip(Transpose t) => t == Transpose.No ? Transpose.Yes : Transpose.No;

    /// <summary>
    /// SIMD tiers: a C with few columns wastes most of a 16-wide tile (n = 17 computes 32 columns, n = 1 sixteen), while
    /// rows pad only to 6. Computing Cᵀ swaps the two: n = 17 then pads to 18 rows. Worth it when the padded area
    /// shrinks by more than the transposed write-back costs (a scalar store per element: about k = 16 steps' worth, hence
    /// the margin and the floor on k), and only when A is stored transposed: then the swapped job reads A in place as its
    /// B, where otherwise it would have to transpose all of A into packed panels that few row tiles reuse (measured: a
    /// loss). The AVX-512 tier's 8×32 tiles follow the same rule (n = 17: 32 columns as stored, or 8 + 8 rows and a 4-row
    /// edge tile transposed; n = 23: 32 columns or 24 rows; the write-back goes 8×8 blocks at a time): on Zen 5,
    /// 256×17×256 with A transposed rose from 41 to 66 % of peak, 256×23×256 from 54 to 79 %.
    /// </summary>
    private static bool TransposedPays(Tier tier, Transpose ta, int m, int n, int k)
    {
        int mr = tier == Tier.V512 ? Kernels512.MR : Kernels256.MR, nr = tier == Tier.V512 ? Kernels512.NR : Kernels256.NR;
        long asIs = (long)RoundUp(m, mr) * RoundUp(n, nr), swapped = (long)RoundUp(n, mr) * RoundUp(m, nr);
        return ta == Transpose.Yes && k >= 16 && swapped * 115 < asIs * 100;
    }

    /// <summary>
    /// AVX2 tier: the 4×24 tile when it computes clearly less padding than 6×16 — a C of 17–24 columns (the first layer's
    /// weight gradient and a critic's input gradient at HalfCheetah sizes: n = 17 or 23 pads to 24, not 32); never for the
    /// square shapes, where 6×16 tiles fit exactly and load fewer vectors per multiply-add.
    /// </summary>
    private static bool WidePays(int m, int n)
    {
        long standard = (long)RoundUp(m, Kernels256.MR) * RoundUp(n, Kernels256.NR);
        long wide = (long)RoundUp(m, Kernels256.WideMR) * RoundUp(n, Kernels256.WideNR);
        return wide * 115 < standard * 100;
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private static unsafe void ScaleC(int m, int n, float beta, float* c, nint ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>One multiplication: operands as raw pointers so that worker threads can share them.</summary>
    private readonly unsafe struct Job(Transpose ta, Transpose tb, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc, Tier tier, Packing packing, bool transposedC,
        bool wide) : IPartitionedWork
    {
        /// <summary>
        /// Splits C (never k) into <paramref name="parts"/> blocks of rows, or of columns when C is wide, so every element
        /// is still summed by one thread in the one fixed order. The calling thread computes the first block, persistent
        /// helper threads (<see cref="WorkerTeam"/>) the others: no allocation and no thread-pool hop per call.
        /// </summary>
        public void RunParallel(int parts)
        {
            int chunks = (Extent + Grain - 1) / Grain;
            parts = Math.Min(parts, chunks);
            if (parts <= 1) Run(0, m, 0, n);
            else WorkerTeam.RunStruct(this, parts);
        }

        private bool ByRows => m >= n;
        private int Extent => ByRows ? m : n;
        // Multiples of the tile height (8; 6 and 4 on AVX2) / width (32, 16; 24 when wide). Fine row grains balance the
        // two halves of a 256-row product (AVX2: 11 + 11 grains of 12 rows, where grains of 24 gave 120 against 136 rows).
        private int Grain => ByRows ? (tier == Tier.V512 ? 8 : 12) : wide ? 48 : 64;

        /// <summary>Block <paramref name="part"/> of <paramref name="parts"/>: whole grains, the same cut whoever runs it.</summary>
        public void RunPart(int part, int parts)
        {
            int grain = Grain, extent = Extent;
            int chunks = (extent + grain - 1) / grain;
            int lo = (int)((long)chunks * part / parts) * grain;
            int hi = Math.Min(extent, (int)((long)chunks * (part + 1) / parts) * grain);
            if (lo >= hi) return;
            if (ByRows) Run(lo, hi, 0, n);
            else Run(0, m, lo, hi);
        }

        /// <summary>Computes the block C[i0..i1, j0..j1] on the calling thread.</summary>
        public void Run(int i0, int i1, int j0, int j1)
        {
            switch (tier)
            {
                case Tier.V512: RunTiled(i0, i1, j0, j1, Kernels512.MR, Kernels512.NR); break;
                case Tier.V256 when wide: RunTiled(i0, i1, j0, j1, Kernels256.WideMR, Kernels256.WideNR); break;
                case Tier.V256: RunTiled(i0, i1, j0, j1, Kernels256.MR, Kernels256.NR); break;
                default: RunScalar(i0, i1, j0, j1); break;
            }
        }

        private void RunTiled(int i0, int i1, int j0, int j1, int mr, int nr)
        {
            int rows = i1 - i0, cols = j1 - j0;
            // B is read in place unless it is transposed (the kernel needs op(B) rows contiguous) or its strided
            // panel would not fit L1 while enough row tiles reuse a packed copy (PackBPays, both SIMD tiers). A is read
            // in place (an A row is a sequential stream), except Aᵀ whose strided panel would not fit L1 (AVX2) or
            // whose stride is a page or more (AVX-512). Measured on Zen 5: packing A rows (not transposed) always lost
            // to in-place reads.
            bool packB = packing switch
            {
                Packing.Always => true,
                Packing.Never => tb == Transpose.Yes,
                _ => PackBPays(rows, mr),
            };
            bool packA = packing switch
            {
                Packing.Always => true,
                Packing.Never => false,
                _ => tier == Tier.V256 ? PackAOnAvx2(cols, nr) : ta == Transpose.Yes && lda >= PageFloats && cols >= 4 * nr && (long)rows * k > 64 * 1024,
            };
            int ncMax = Math.Min(NC, cols);
            int kcMax = Math.Min(KC, k);
            int mcMax = Math.Min(MC, rows);
            var buffers = PackBuffers.Get(
                packB ? ((ncMax + nr - 1) / nr) * nr * kcMax : nr * kcMax,
                packA ? ((mcMax + mr - 1) / mr) * mr * kcMax : 0);
            float* bufB = buffers.B;
            float* bufA = buffers.A;
            {
                float* tile = stackalloc float[mr * nr];
                for (int jc = j0; jc < j1; jc += NC)
                {
                    int nb = Math.Min(NC, j1 - jc);
                    for (int pc = 0; pc < k; pc += KC)
                    {
                        int kb = Math.Min(KC, k - pc);
                        bool first = pc == 0;
                        int fullPanels = packB ? (nb + nr - 1) / nr : nb / nr;
                        if (packB) PackB(pc, kb, jc, nb, nr, bufB);
                        else if (nb % nr != 0) PackB(pc, kb, jc + fullPanels * nr, nb % nr, nr, bufB);
                        for (int ic = i0; ic < i1; ic += MC)
                        {
                            int mb = Math.Min(MC, i1 - ic);
                            if (packA) PackA(ic, mb, pc, kb, mr, bufA);
                            int panels = (nb + nr - 1) / nr;
                            for (int jp = 0; jp < panels; jp++)
                            {
                                int jj = jc + jp * nr;
                                int cw = Math.Min(nr, jc + nb - jj);
                                float* bp; nint bStride;
                                if (packB) { bp = bufB + (nint)jp * kb * nr; bStride = nr; }
                                else if (jp < fullPanels) { bp = ColumnOfB(pc, jj); bStride = ldb; }
                                else { bp = bufB; bStride = nr; }
                                int ir0 = 0;
                                if ((tier == Tier.V512 || tier == Tier.V256 && !wide) && !transposedC && cw == nr && mb >= mr)
                                {
                                    // The panel's full row tiles in one kernel call (see Kernels256.Strip); the edge tile below.
                                    int full = mb / mr;
                                    float* ap0; nint rs0, cs0, aStride;
                                    if (packA) { ap0 = bufA; rs0 = 1; cs0 = mr; aStride = (nint)kb * mr; }
                                    else if (ta == Transpose.No) { ap0 = a + ic * lda + pc; rs0 = lda; cs0 = 1; aStride = mr * lda; }
                                    else { ap0 = a + (nint)pc * lda + ic; rs0 = 1; cs0 = lda; aStride = mr; }
                                    if (tier == Tier.V512) Kernels512.Strip(full, aStride, kb, ap0, rs0, cs0, bp, bStride, c + ic * ldc + jj, ldc, alpha, first ? beta : 1f);
                                    else Kernels256.Strip(full, aStride, kb, ap0, rs0, cs0, bp, bStride, c + ic * ldc + jj, ldc, alpha, first ? beta : 1f);
                                    ir0 = full * mr;
                                }
                                for (int ir = ir0; ir < mb; ir += mr)
                                {
                                    int ii = ic + ir;
                                    int rh = Math.Min(mr, mb - ir);
                                    float* ap; nint rs, cs;
                                    if (packA) { ap = bufA + (nint)(ir / mr) * kb * mr; rs = 1; cs = mr; }
                                    else if (ta == Transpose.No) { ap = a + ii * lda + pc; rs = lda; cs = 1; }
                                    else { ap = a + (nint)pc * lda + ii; rs = 1; cs = lda; }
                                    if (transposedC)
                                    {
                                        // This job's (ii, jj) tile is C[jj.., ii..] of the caller's C.
                                        Kernel(kb, ap, rs, cs, rh, bp, bStride, tile, nr, 1f, 0f);
                                        if (rh == 8 && Avx.IsSupported) StoreTransposed8(tile, nr, c + jj * ldc + ii, ldc, cw, alpha, first ? beta : 1f);
                                        else StoreTransposed(tile, nr, c + jj * ldc + ii, ldc, rh, cw, alpha, first ? beta : 1f);
                                        continue;
                                    }
                                    float* cp = c + ii * ldc + jj;
                                    bool full = rh == mr && cw == nr;
                                    if (full) Kernel(kb, ap, rs, cs, rh, bp, bStride, cp, ldc, alpha, first ? beta : 1f);
                                    else
                                    {
                                        Kernel(kb, ap, rs, cs, rh, bp, bStride, tile, nr, 1f, 0f);
                                        StoreEdge(tile, nr, cp, ldc, rh, cw, alpha, first ? beta : 1f);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        private void Kernel(int kb, float* ap, nint rs, nint cs, int rows, float* bp, nint ldbp, float* cp, nint ldcp, float al, float be)
        {
            if (tier == Tier.V512 && rows <= 4) Kernels512.Tile4(kb, ap, rs, cs, rows, bp, ldbp, cp, ldcp, al, be);
            else if (tier == Tier.V512) Kernels512.Tile(kb, ap, rs, cs, rows, bp, ldbp, cp, ldcp, al, be);
            else if (wide) Kernels256.TileWide(kb, ap, rs, cs, rows, bp, ldbp, cp, ldcp, al, be);
            else Kernels256.Tile(kb, ap, rs, cs, rows, bp, ldbp, cp, ldcp, al, be);
        }

        /// <summary>
        /// Both SIMD tiers (measured on Zen 3 with AVX2, then on Zen 5 with AVX-512): B read in place at a row stride of
        /// 1 KiB (a 256-wide layer) puts every k step of a 16-column panel in the same few L1 sets, so the panel streams from
        /// L2 at each row tile; packed, the kb×16 panel is contiguous and stays in L1 (256 NN rose from 76 % to the packed-B figure). A strided panel of kb rows at
        /// stride ld floats finds about 8 ways × 64 sets / (ld/16 lines) = 8192/ld lines of L1, and needs up to 2·kb:
        /// packing pays when kb·ld exceeds 4096 and more than four row tiles reuse the copy (a 256×256 B used by three or
        /// four row tiles ran at 54 % packed, 71 % in place; 64×64×64 at 77 % packed, 85 % in place). A transposed B is
        /// always packed (the kernel needs op(B) rows contiguous). On Zen 5 (8×32 tiles, 48 KiB L1) the rule held too: with
        /// Aᵀ also read in place at the same 1 KiB stride, both streams fought over the same L1 sets (256 TN 81 % in place,
        /// 92 % packed; 256×256×17 TN 76 → 86 %), and packing B of 256 NN cost nothing (92–93 % either way).
        /// </summary>
        private bool PackBPays(int rows, int mr) => tb == Transpose.Yes || (rows > 4 * mr && (long)Math.Min(KC, k) * ldb > 4096);

        /// <summary>
        /// AVX2 tier: Aᵀ read in place touches a new row every k step, so by the same L1 rule it is packed when kb·lda
        /// exceeds 4096 and more than two column panels reuse it (256 TN: 54 % in place, 86 % packed; with two panels, or at
        /// 64×64×64, the packing pass cost more than it saved). A not transposed is six sequential streams the prefetcher
        /// follows: read in place, as on the other tier.
        /// </summary>
        private bool PackAOnAvx2(int cols, int nr) => ta == Transpose.Yes && cols > 2 * nr && (long)Math.Min(KC, k) * lda > 4096;

        private float* ColumnOfB(int p, int j) => b + p * ldb + j;

        /// <summary>Packs op(B)[p0..p0+kb, j0..j0+nb] into kb×nr panels, zero-padding the last one.</summary>
        private void PackB(int p0, int kb, int j0, int nb, int nr, float* dst)
        {
            for (int jp = 0; jp < nb; jp += nr)
            {
                int w = Math.Min(nr, nb - jp);
                float* panel = dst + (nint)(jp / nr) * kb * nr;
                if (tb == Transpose.No)
                {
                    for (int p = 0; p < kb; p++)
                    {
                        float* src = b + (p0 + p) * ldb + j0 + jp;
                        float* d = panel + p * nr;
                        if (w == nr && nr == 16 && Avx.IsSupported)
                        {
                            // Two vector moves: a 64-byte span copy per row cost more in call overhead than in bytes.
                            Avx.Store(d, Avx.LoadVector256(src));
                            Avx.Store(d + 8, Avx.LoadVector256(src + 8));
                        }
                        else if (w == nr && nr == 32 && Vector512.IsHardwareAccelerated)
                        {
                            Vector512.Load(src).Store(d);
                            Vector512.Load(src + 16).Store(d + 16);
                        }
                        else if (w == nr) new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(d, nr));
                        else
                        {
                            for (int j = 0; j < w; j++) d[j] = src[j];
                            for (int j = w; j < nr; j++) d[j] = 0;
                        }
                    }
                }
                else
                {
                    // op(B)[p, j] = B[j, p]: a transpose. 8×8 blocks with AVX shuffles where possible
                    // (scalar transposing was the main cost of small Bᵀ products), scalar for the ragged rest.
                    // A k not a multiple of 8 (17, 23: SAC's first layers) ends with one more block over the last 8 k steps,
                    // overlapping the previous one: the overlapped values are written twice, the same both times, where the
                    // scalar rest cost 7 strided loads per column (256×256×23 B transposed: 83 → 87 % on Zen 5).
                    float* src = b + (j0 + jp) * ldb + p0;
                    int p8 = 0, w8 = 0;
                    if (Avx.IsSupported)
                    {
                        p8 = kb & ~7; w8 = w & ~7;
                        int tail = kb >= 8 && p8 < kb ? kb - 8 : -1;
                        for (int j = 0; j < w8; j += 8)
                        {
                            for (int p = 0; p < p8; p += 8)
                                Transpose8x8(src + j * ldb + p, ldb, panel + p * nr + j, nr);
                            if (tail >= 0) Transpose8x8(src + j * ldb + tail, ldb, panel + tail * nr + j, nr);
                        }
                        if (tail >= 0) p8 = kb;
                    }
                    for (int p = 0; p < kb; p++)
                    {
                        float* d = panel + p * nr;
                        float* sp = src + p;
                        for (int j = p < p8 ? w8 : 0; j < w; j++) d[j] = sp[j * ldb];
                        for (int j = w; j < nr; j++) d[j] = 0;
                    }
                }
            }
        }

        /// <summary>dst[q, r] = src[r, q] for an 8×8 block.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
        {
            Transposition.Transposed8x8(src, lds, out var q0, out var q1, out var q2, out var q3, out var q4, out var q5, out var q6, out var q7);
            Avx.Store(dst, q0); Avx.Store(dst + ldd, q1); Avx.Store(dst + 2 * ldd, q2); Avx.Store(dst + 3 * ldd, q3);
            Avx.Store(dst + 4 * ldd, q4); Avx.Store(dst + 5 * ldd, q5); Avx.Store(dst + 6 * ldd, q6); Avx.Store(dst + 7 * ldd, q7);
        }

        /// <summary>Packs op(A)[i0..i0+mb, p0..p0+kb] into kb×mr panels (mr values of one k step side by side).</summary>
        private void PackA(int i0, int mb, int p0, int kb, int mr, float* dst)
        {
            for (int ip = 0; ip < mb; ip += mr)
            {
                int h = Math.Min(mr, mb - ip);
                float* panel = dst + (nint)(ip / mr) * kb * mr;
                if (ta == Transpose.Yes)
                {
                    // op(A) columns are rows of A: mr contiguous floats per k step. One 8-float load and store when 8
                    // are readable: the 8 − mr extra floats land in the next k step's slot (written next) or, after
                    // the last, in the next panel or the buffer's slack; never read past the block's rows.
                    bool wide = Avx.IsSupported && h == mr && mr <= 8 && ip + 8 <= mb;
                    for (int p = 0; p < kb; p++)
                    {
                        float* src = a + (p0 + p) * lda + i0 + ip;
                        float* d = panel + p * mr;
                        if (wide) { Avx.Store(d, Avx.LoadVector256(src)); continue; }
                        for (int i = 0; i < h; i++) d[i] = src[i];
                        for (int i = h; i < mr; i++) d[i] = 0;
                    }
                }
                else
                {
                    // A transpose again: 8×8 AVX blocks when the panel is 8 rows high, sequential stores otherwise.
                    float* src = a + (i0 + ip) * lda + p0;
                    int p8 = Avx.IsSupported && h == 8 && mr == 8 ? kb & ~7 : 0;
                    for (int p = 0; p < p8; p += 8) Transpose8x8(src + p, lda, panel + p * mr, mr);
                    for (int p = p8; p < kb; p++)
                    {
                        float* d = panel + p * mr;
                        for (int i = 0; i < h; i++) d[i] = src[i * lda + p];
                        for (int i = h; i < mr; i++) d[i] = 0;
                    }
                }
            }
        }

        /// <summary>Writes the valid corner of a tile computed with alpha = 1, beta = 0; same arithmetic as the kernels' store.</summary>
        private static void StoreEdge(float* tile, int nr, float* cp, nint ldcp, int rows, int cols, float al, float be)
        {
            for (int r = 0; r < rows; r++)
            {
                float* t = tile + r * nr;
                float* d = cp + r * ldcp;
                if (be == 0) for (int j = 0; j < cols; j++) d[j] = al * t[j];
                else for (int j = 0; j < cols; j++) d[j] = MathF.FusedMultiplyAdd(be, d[j], al * t[j]);
            }
        }

        /// <summary>StoreEdge into a transposed destination: tile[r, j] goes to cT[j, r]; the same arithmetic per element.</summary>
        private static void StoreTransposed(float* tile, int nr, float* cT, nint ldcT, int rows, int cols, float al, float be)
        {
            for (int j = 0; j < cols; j++)
            {
                float* d = cT + j * ldcT;
                if (be == 0) for (int r = 0; r < rows; r++) d[r] = al * tile[r * nr + j];
                else for (int r = 0; r < rows; r++) d[r] = MathF.FusedMultiplyAdd(be, d[r], al * tile[r * nr + j]);
            }
        }

        /// <summary>
        /// <see cref="StoreTransposed"/> for a tile of 8 full rows: 8×8 blocks transposed in registers, then each Cᵀ row's 8
        /// values scaled and stored as one vector (the same multiply and fused multiply-add per element as the scalar
        /// version); columns past the last whole block go the scalar way.
        /// </summary>
        private static void StoreTransposed8(float* tile, int nr, float* cT, nint ldcT, int cols, float al, float be)
        {
            int cols8 = cols & ~7;
            for (int j = 0; j < cols8; j += 8)
            {
                Transposition.Transposed8x8(tile + j, nr, out var q0, out var q1, out var q2, out var q3, out var q4, out var q5, out var q6, out var q7);
                float* d = cT + j * ldcT;
                ScaleStore(d, q0, al, be); ScaleStore(d + ldcT, q1, al, be);
                ScaleStore(d + 2 * ldcT, q2, al, be); ScaleStore(d + 3 * ldcT, q3, al, be);
                ScaleStore(d + 4 * ldcT, q4, al, be); ScaleStore(d + 5 * ldcT, q5, al, be);
                ScaleStore(d + 6 * ldcT, q6, al, be); ScaleStore(d + 7 * ldcT, q7, al, be);
            }
            if (cols8 < cols) StoreTransposed(tile + cols8, nr, cT + cols8 * ldcT, ldcT, 8, cols - cols8, al, be);
        }

        /// <summary>d = al·v (be == 0, d not read) or fma(be, d, al·v), per element as in <see cref="StoreEdge"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ScaleStore(float* d, Vector256<float> v, float al, float be)
        {
            v *= al;
            if (be == 0) v.Store(d);
            else Vector256.FusedMultiplyAdd(Vector256.Create(be), Vector256.Load(d), v).Store(d);
        }

        /// <summary>Portable fallback: one fused multiply-add per k step in the same k blocks as the SIMD tiers.</summary>
        private void RunScalar(int i0, int i1, int j0, int j1)
        {
            nint ars = ta == Transpose.No ? lda : 1, acs = ta == Transpose.No ? 1 : lda;
            nint brs = tb == Transpose.No ? ldb : 1, bcs = tb == Transpose.No ? 1 : ldb;
            for (int pc = 0; pc < k; pc += KC)
            {
                int kb = Math.Min(KC, k - pc);
                float be = pc == 0 ? beta : 1f;
                for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++)
                {
                    float* ai = a + i * ars + pc * acs;
                    float* bj = b + j * bcs + pc * brs;
                    float s = 0;
                    for (int p = 0; p < kb; p++) s = MathF.FusedMultiplyAdd(ai[p * acs], bj[p * brs], s);
                    ref float cij = ref c[transposedC ? j * ldc + i : i * ldc + j];
                    cij = be == 0 ? alpha * s : MathF.FusedMultiplyAdd(be, cij, alpha * s);
                }
            }
        }
    }

    /// <summary>
    /// Per-thread pack buffers, grown on demand and then reused (no allocation in steady state). Pinned and aligned to
    /// 64 bytes, so a packed 16- or 32-float panel row is one or two whole cache lines (unaligned, every vector load of a
    /// packed 16-float row straddled two lines).
    /// </summary>
    private sealed unsafe class PackBuffers
    {
        [ThreadStatic] private static PackBuffers? _current;
        private float[] _a = [], _b = [];
        public float* A, B;

        public static PackBuffers Get(int bFloats, int aFloats)
        {
            var p = _current ??= new PackBuffers();
            if (p._b.Length < bFloats + 80) p.B = Grow(ref p._b, bFloats);
            if (p._a.Length < aFloats + 80) p.A = Grow(ref p._a, aFloats);
            return p;
        }

        // 16 floats to align, 64 of slack that keeps vector loads and stores of a padded panel inside the array.
        private static float* Grow(ref float[] array, int floats)
        {
            array = GC.AllocateUninitializedArray<float>(floats + 80, pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref array[0]);
            return (float*)((start + 63) & ~(nint)63);
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
