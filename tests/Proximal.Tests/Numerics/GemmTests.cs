using Proximal.Numerics;

namespace Proximal.Tests.Numerics;

public class GemmTests
{
    private static readonly (float Alpha, float Beta)[] AlphaBeta = [(1f, 0f), (1f, 1f), (-1.5f, 0.25f), (0.75f, -2f), (0f, 0.5f), (0f, 0f)];

    /// <summary>A stored operand: its rows×cols values with row stride ld (ld ≥ cols; the gap holds junk).</summary>
    private static float[] RandomMatrix(Rng rng, int rows, int cols, int ld)
    {
        var x = new float[Math.Max(0, (rows - 1) * ld + cols) + 3];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.Uniform(-1, 1);
        return x;
    }

    /// <summary>
    /// Runs one case and checks every element of C against a float64 product, within
    /// 4·k·eps·(|alpha|·Σ|a||b| + |beta·c|) (the standard forward error bound of a dot product),
    /// and checks that C's padding between rows is untouched.
    /// </summary>
    private static float[] CheckCase(Rng rng, Transpose ta, Transpose tb, int m, int n, int k, float alpha, float beta,
        int pad = 0, bool nanInC = false, int threads = 1, Gemm.Tier? tier = null, Gemm.Packing packing = Gemm.Packing.Auto, bool verify = true,
        Gemm.Orientation orientation = Gemm.Orientation.Auto, Gemm.TileShape shape = Gemm.TileShape.Auto)
    {
        int aRows = ta == Transpose.No ? m : k, aCols = ta == Transpose.No ? k : m;
        int bRows = tb == Transpose.No ? k : n, bCols = tb == Transpose.No ? n : k;
        int lda = aCols + pad, ldb = bCols + 2 * pad, ldc = n + pad;
        var a = RandomMatrix(rng, aRows, aCols, lda);
        var b = RandomMatrix(rng, bRows, bCols, ldb);
        var c = RandomMatrix(rng, m, n, ldc);
        if (nanInC) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[i * ldc + j] = float.NaN;
        var c0 = (float[])c.Clone();

        if (tier is not null || packing != Gemm.Packing.Auto || orientation != Gemm.Orientation.Auto || shape != Gemm.TileShape.Auto)
            Gemm.Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, tier ?? Gemm.BestTier, packing, orientation, shape);
        else Gemm.Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);

        const double eps = 1.0 / (1 << 23);
        string what = $"ta={ta} tb={tb} m={m} n={n} k={k} alpha={alpha} beta={beta} pad={pad} threads={threads} tier={tier} packing={packing} orientation={orientation} shape={shape}";
        for (int i = 0; i < m && verify; i++)
        for (int j = 0; j < n; j++)
        {
            double s = 0, mag = 0;
            for (int p = 0; p < k; p++)
            {
                double x = ta == Transpose.No ? a[i * lda + p] : a[p * lda + i];
                double y = tb == Transpose.No ? b[p * ldb + j] : b[j * ldb + p];
                s += x * y; mag += Math.Abs(x * y);
            }
            double old = c0[i * ldc + j];
            double expect = beta == 0 ? alpha * s : alpha * s + beta * old;
            double bound = 4 * (k + 2) * eps * (Math.Abs(alpha) * mag + (beta == 0 ? 0 : Math.Abs(beta * old))) + 1e-30;
            double got = c[i * ldc + j];
            Assert.False(double.IsNaN(got), $"NaN at ({i},{j}) for {what}");
            Assert.True(Math.Abs(got - expect) <= bound, $"C[{i},{j}] = {got}, expected {expect} ± {bound} for {what}");
        }
        for (int i = 0; i < c.Length; i++)
        {
            bool inside = i / ldc < m && i % ldc < n;
            if (!inside) Assert.True(c0[i].Equals(c[i]), $"C padding at flat index {i} was overwritten for {what}");
        }
        return c;
    }

    public static TheoryData<int, int, int> Shapes()
    {
        // Every edge size appears in every dimension (against the tile sizes 8×32 and 6×16 and the
        // 256-deep k blocks), with the other two dimensions moderate; plus the MLP shapes.
        int[] sizes = [1, 2, 3, 15, 16, 17, 63, 64, 65, 257];
        var data = new TheoryData<int, int, int>();
        foreach (int s in sizes)
        {
            data.Add(s, 17, 33);
            data.Add(31, s, 9);
            data.Add(7, 40, s);
        }
        data.Add(257, 257, 257); // takes the packed-A and packed-B paths
        data.Add(64, 64, 600);   // several k blocks
        data.Add(130, 64, 17);
        // SAC's 256-wide shapes (HalfCheetah: 17 observations, 17 + 6 critic inputs): layer forward m×n×k = B×out×in,
        // weight gradient out×in×B, input gradient B×in×out, and the one-unit Q head.
        foreach (int f in (int[])[17, 23])
        {
            data.Add(256, 256, f);
            data.Add(256, f, 256);
        }
        // Short k and thin n around them (the 4×24 tile's edges: 16, 24, 25 columns; k just below and above 17, 23).
        foreach (int f in (int[])[16, 18, 22, 24, 25])
        {
            data.Add(96, 70, f);
            data.Add(70, f, 96);
        }
        data.Add(256, 256, 256);
        data.Add(256, 1, 256);
        data.Add(1, 256, 256);
        data.Add(256, 256, 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesFloat64ReferenceForEveryTransposeCombination(int m, int n, int k)
    {
        var rng = new Rng((ulong)(m * 1_000_003 + n * 1009 + k));
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        {
            var (alpha, beta) = AlphaBeta[rng.NextInt(AlphaBeta.Length)];
            CheckCase(rng, ta, tb, m, n, k, alpha, beta);
        }
    }

    [Fact]
    public void EveryAlphaBetaCombinationIncludingNaNInCWhenBetaIsZero()
    {
        var rng = new Rng(11);
        foreach (var (alpha, beta) in AlphaBeta)
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        {
            CheckCase(rng, ta, tb, 19, 37, 21, alpha, beta);
            if (beta == 0) CheckCase(rng, ta, tb, 19, 37, 21, alpha, beta, nanInC: true);
        }
        // k == 0 is the same as alpha == 0: C = beta·C.
        CheckCase(rng, Transpose.No, Transpose.No, 5, 6, 0, 1f, 0.5f);
        CheckCase(rng, Transpose.No, Transpose.No, 5, 6, 0, 1f, 0f, nanInC: true);
    }

    [Fact]
    public void StridedViewsReadAndWriteOnlyTheirElements()
    {
        var rng = new Rng(12);
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        {
            CheckCase(rng, ta, tb, 33, 47, 29, 1f, 0f, pad: 5);
            CheckCase(rng, ta, tb, 65, 70, 300, -0.5f, 1f, pad: 3);
            CheckCase(rng, ta, tb, 257, 260, 260, 1f, 0.5f, pad: 7);
            CheckCase(rng, ta, tb, 200, 150, 270, 1f, 0.5f, pad: 1030); // strides of a page or more: Auto packs
        }
    }

    [Fact]
    public void EveryKernelTierAndPackingPathMatchesTheReferenceAndTheOthersBitForBit()
    {
        var tiers = new[] { Gemm.Tier.Scalar, Gemm.Tier.V256, Gemm.Tier.V512 }
            .Where(t => t != Gemm.Tier.V512 || System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            .Where(t => t == Gemm.Tier.Scalar || System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated).ToArray();
        (int m, int n, int k)[] shapes = [(1, 1, 1), (9, 33, 17), (70, 50, 300), (200, 150, 270), (257, 65, 3), (256, 17, 40), (100, 23, 20)];
        foreach (var (m, n, k) in shapes)
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        {
            float[]? first = null;
            foreach (var tier in tiers)
            foreach (var packing in new[] { Gemm.Packing.Auto, Gemm.Packing.Always, Gemm.Packing.Never })
            foreach (var orientation in new[] { Gemm.Orientation.Auto, Gemm.Orientation.AsIs, Gemm.Orientation.Transposed })
            {
                if (tier == Gemm.Tier.Scalar && packing != Gemm.Packing.Auto) continue; // the scalar tier never packs
                // The first run is checked against float64; the others must equal it bit for bit.
                var c = CheckCase(new Rng(5), ta, tb, m, n, k, -1.25f, 0.5f, pad: 1, tier: tier, packing: packing, verify: first is null,
                    orientation: orientation);
                if (first is null) first = c;
                else Assert.True(first.AsSpan().SequenceEqual(c), $"tier {tier} packing {packing} orientation {orientation} differs from the scalar tier for {m}×{n}×{k} ta={ta} tb={tb}");
            }
        }
    }

    /// <summary>
    /// The strip kernels (a panel's full row tiles in one call, with their own k loops and a plain store for alpha = 1,
    /// beta = 0) and the transposed-B packing with its overlapping last 8×8 block (k = 9, 15, 17, 23: k mod 8 ≠ 0; k = 8,
    /// 16 and 5 take no extra block): every SIMD tier, packing path and store path against the float64 reference and bit
    /// for bit against the scalar tier. m spans several 8- and 6-row tiles plus an edge tile; n several full panels plus
    /// a ragged one, so strips, edge tiles and both B sources (in place, packed) all run.
    /// </summary>
    [Fact]
    public void StripsAndShortKTransposedPackingMatchTheScalarTierBitForBit()
    {
        var tiers = new[] { Gemm.Tier.V256, Gemm.Tier.V512 }
            .Where(t => t != Gemm.Tier.V512 || System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            .Where(_ => System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated).ToArray();
        (int m, int n, int k)[] shapes = [(53, 70, 17), (53, 70, 23), (48, 64, 9), (49, 96, 15), (50, 65, 8), (41, 70, 16), (52, 40, 5), (256, 256, 17)];
        (float alpha, float beta)[] alphaBeta = [(1f, 0f), (-1.25f, 0.5f)];
        foreach (var (m, n, k) in shapes)
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        foreach (var (alpha, beta) in alphaBeta)
        {
            var reference = CheckCase(new Rng(9), ta, tb, m, n, k, alpha, beta, pad: 1, tier: Gemm.Tier.Scalar, verify: true);
            foreach (var tier in tiers)
            foreach (var packing in new[] { Gemm.Packing.Auto, Gemm.Packing.Always, Gemm.Packing.Never })
            {
                var c = CheckCase(new Rng(9), ta, tb, m, n, k, alpha, beta, pad: 1, tier: tier, packing: packing, verify: m < 256,
                    orientation: Gemm.Orientation.AsIs);
                Assert.True(reference.AsSpan().SequenceEqual(c),
                    $"tier {tier} packing {packing} differs from the scalar tier for {m}×{n}×{k} ta={ta} tb={tb} alpha={alpha} beta={beta}");
            }
        }
    }

    /// <summary>
    /// The AVX-512 tier's tiling, edges and packing on a machine without AVX-512: Vector512 operations then run in
    /// .NET's software fallback (element by element, fused multiply-add still fused), which is slow but computes the
    /// same bits, so the tier's logic is checked on every CI machine, not only where it is fast. On an AVX-512 machine
    /// the test above already covers the tier in hardware; this one then runs it once more.
    /// </summary>
    [Fact]
    public void TheAvx512TierMatchesTheScalarTierBitForBitEvenWhenEmulated()
    {
        (int m, int n, int k)[] shapes = [(1, 1, 1), (9, 33, 17), (17, 40, 70), (70, 50, 300), (33, 65, 3), (64, 23, 20)];
        foreach (var (m, n, k) in shapes)
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        {
            var reference = CheckCase(new Rng(7), ta, tb, m, n, k, 0.75f, -0.5f, pad: 1, tier: Gemm.Tier.Scalar, packing: Gemm.Packing.Auto, verify: true);
            foreach (var packing in new[] { Gemm.Packing.Auto, Gemm.Packing.Always, Gemm.Packing.Never })
            {
                var c = CheckCase(new Rng(7), ta, tb, m, n, k, 0.75f, -0.5f, pad: 1, tier: Gemm.Tier.V512, packing: packing, verify: true);
                Assert.True(reference.AsSpan().SequenceEqual(c), $"AVX-512 tier (packing {packing}) differs from the scalar tier for {m}×{n}×{k} ta={ta} tb={tb}");
            }
        }
    }

    [Fact]
    public void TheWideTileMatchesTheReferenceAndTheStandardTileBitForBit()
    {
        if (!System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) return; // the 4×24 tile is the AVX2 tier's
        // Rows and columns on both sides of the 4×24 and 6×16 edges, k short (SAC's first layers) and over one k block.
        int[] ms = [1, 3, 5, 17, 23, 50], ns = [1, 8, 17, 23, 24, 25, 49], ks = [1, 17, 23, 260];
        foreach (int m in ms)
        foreach (int n in ns)
        foreach (int k in ks)
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        {
            bool checkedOnce = false;
            float[]? first = null;
            foreach (var shape in new[] { Gemm.TileShape.Standard, Gemm.TileShape.Wide })
            foreach (var packing in new[] { Gemm.Packing.Auto, Gemm.Packing.Always, Gemm.Packing.Never })
            {
                // Orientation AsIs: the wide tile on the caller's own C (Auto may swap a thin C to Cᵀ first).
                var c = CheckCase(new Rng(7), ta, tb, m, n, k, -1.25f, 0.5f, pad: 1, tier: Gemm.Tier.V256, packing: packing,
                    verify: !checkedOnce || shape == Gemm.TileShape.Wide && packing == Gemm.Packing.Auto,
                    orientation: Gemm.Orientation.AsIs, shape: shape);
                checkedOnce = true;
                if (first is null) first = c;
                else Assert.True(first.AsSpan().SequenceEqual(c), $"shape {shape} packing {packing} differs from the 6×16 tile for {m}×{n}×{k} ta={ta} tb={tb}");
            }
        }
    }

    [Theory]
    [InlineData(256, 17, 256)]  // the 4×24 tile (A not transposed), split by rows
    [InlineData(300, 23, 40)]
    [InlineData(700, 300, 400)] // split by rows
    [InlineData(150, 900, 300)] // split by columns
    [InlineData(256, 256, 256)] // SAC's hidden layer
    [InlineData(256, 23, 256)]  // a thin C: computed transposed on the AVX2 tier, then split
    public void MultiThreadedIsBitIdenticalToSingleThreaded(int m, int n, int k)
    {
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        {
            var rng = new Rng(21);
            int aLen = m * k, bLen = k * n;
            var a = new float[aLen]; var b = new float[bLen];
            for (int i = 0; i < aLen; i++) a[i] = rng.NextFloat() - 0.5f;
            for (int i = 0; i < bLen; i++) b[i] = rng.NextFloat() - 0.5f;
            int lda = ta == Transpose.No ? k : m, ldb = tb == Transpose.No ? n : k;
            var c1 = new float[m * n];
            for (int i = 0; i < c1.Length; i++) c1[i] = rng.NextFloat();
            var cT = (float[])c1.Clone();
            Gemm.Multiply(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c1, n, threads: 1);
            foreach (int threads in new[] { 2, 3 })
            {
                var c = (float[])cT.Clone();
                Gemm.Multiply(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c, n, threads);
                Assert.True(c1.AsSpan().SequenceEqual(c), $"threads={threads} differs from threads=1 for ta={ta} tb={tb} {m}×{n}×{k}");
            }
        }
    }

    [Fact]
    public void SteadyStateCallsDoNotAllocate()
    {
        (Transpose ta, Transpose tb, int m, int n, int k)[] calls =
        [
            (Transpose.No, Transpose.Yes, 2048, 64, 17), (Transpose.No, Transpose.No, 2048, 64, 64),
            (Transpose.Yes, Transpose.No, 64, 64, 2048), (Transpose.No, Transpose.Yes, 64, 64, 64),
            (Transpose.No, Transpose.No, 300, 300, 300), (Transpose.Yes, Transpose.Yes, 65, 33, 17),
        ];
        var a = new float[2048 * 2048 / 8]; var b = new float[a.Length]; var c = new float[a.Length];
        void RunAll()
        {
            foreach (var (ta, tb, m, n, k) in calls)
                Gemm.Multiply(ta, tb, m, n, k, 1f, a, ta == Transpose.No ? k : m, b, tb == Transpose.No ? n : k, 0.5f, c, n);
        }
        RunAll(); RunAll(); // grow the pack buffers, JIT everything
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 3; r++) RunAll();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"steady-state GEMM calls allocated {allocated} bytes");
    }

    [Fact]
    public void MultiThreadedCallsDoNotAllocateAndConcurrentCallersGetTheSameBits()
    {
        const int m = 256, n = 256, k = 256;
        var rng = new Rng(31);
        var a = new float[m * k]; var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextFloat() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextFloat() - 0.5f;
        var expect = new float[m * n];
        Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, expect, n, threads: 1);

        var c = new float[m * n];
        for (int r = 0; r < 3; r++) Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, c, n, threads: 2); // helpers started
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 5; r++) Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, c, n, threads: 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"steady-state 2-thread GEMM calls allocated {allocated} bytes on the calling thread");
        Assert.True(expect.AsSpan().SequenceEqual(c));

        // Several threads at once: one uses the helpers, the others run their parts themselves; all get the same bits.
        var results = new float[4][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length }, t =>
        {
            var ct = new float[m * n];
            for (int r = 0; r < 10; r++) Gemm.Multiply(Transpose.No, Transpose.Yes, m, n, k, 1f, a, k, b, k, 0f, ct, n, threads: 2 + t % 2);
            results[t] = ct;
        });
        foreach (var ct in results) Assert.True(expect.AsSpan().SequenceEqual(ct), "a concurrent multi-threaded call differs from threads = 1");
    }

    [Fact]
    public void ValidationNamesTheOffendingOperand()
    {
        float[] ok = new float[100], shortOne = new float[99];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(Transpose.No, Transpose.No, 10, 10, 10, 1, shortOne, 10, ok, 10, 0, ok, 10));
        Assert.Contains("operand A", e.Message);
        Assert.Contains("needs 100 floats", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(Transpose.No, Transpose.Yes, 10, 10, 10, 1, ok, 10, ok, 9, 0, ok, 10));
        Assert.Contains("operand B", e.Message);
        Assert.Contains("leading dimension 9", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(Transpose.Yes, Transpose.No, 10, 10, 10, 1, ok, 10, ok, 10, 0, shortOne, 10));
        Assert.Contains("operand C", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(Transpose.No, Transpose.No, 10, -1, 10, 1, ok, 10, ok, 10, 0, ok, 10));
        Assert.Contains("n=-1", e.Message);
        var t = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(Transpose.No, Transpose.No, 10, 10, 10, 1, ok, 10, ok, 10, 0, ok, 10, threads: 0));
        Assert.Equal("threads", t.ParamName);
    }
}
