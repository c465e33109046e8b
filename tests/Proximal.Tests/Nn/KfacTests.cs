using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public class KfacTests
{
    // ---------------------------------------------------------------- float64 helpers

    /// <summary>x = M⁻¹·b by Gaussian elimination with partial pivoting (M is copied).</summary>
    private static double[] Solve(double[,] m, double[] b)
    {
        int n = b.Length;
        var a = (double[,])m.Clone();
        var x = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(a[r, c]) > Math.Abs(a[p, c])) p = r;
            for (int k = 0; k < n; k++) (a[c, k], a[p, k]) = (a[p, k], a[c, k]);
            (x[c], x[p]) = (x[p], x[c]);
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r, c] / a[c, c];
                for (int k = c; k < n; k++) a[r, k] -= f * a[c, k];
                x[r] -= f * x[c];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            double s = x[r];
            for (int k = r + 1; k < n; k++) s -= a[r, k] * x[k];
            x[r] = s / a[r, r];
        }
        return x;
    }

    /// <summary>
    /// One linear layer (in → out) whose natural gradient K-FAC must get exactly: the exact Fisher of its output
    /// distribution built by brute force over states and outcomes, the layer fed "quadrature" output gradients whose
    /// second moment is that distribution's Fisher, and a gradient in the Fisher's range.
    /// </summary>
    private sealed class OneLayerCase
    {
        public const int In = 3, B = 6;
        public readonly int Out;
        public readonly Parameters P = new();
        public readonly Linear Layer;
        public readonly double[] X;            // [B × In]
        public readonly double[,] Fisher;      // exact, flat parameter layout (W row-major, then b)
        public readonly double[] Gradient;     // flat layout
        public readonly double[,] AExact, GExact;
        public readonly float[] ReplicatedX, QuadratureGradients;
        public readonly int Rows;
        public readonly bool Gaussian;

        public OneLayerCase(bool gaussian, ulong seed = 7)
        {
            Gaussian = gaussian;
            Out = gaussian ? 2 : 3;
            Layer = new Linear(P, In, Out, "l");
            var rng = new Rng(seed);
            var w = Layer.WeightValues; var bias = Layer.BiasValues;
            // Categorical: W = 0, so every state has the same p (K-FAC's A ⊗ G is then the exact Fisher; with W ≠ 0 the
            // softmax Fisher varies with the state and K-FAC is an approximation by design). Gaussian: any W.
            for (int i = 0; i < w.Length; i++) w[i] = gaussian ? (float)rng.NextGaussian() : 0f;
            for (int i = 0; i < bias.Length; i++) bias[i] = (float)rng.NextGaussian();
            X = new double[B * In];
            for (int i = 0; i < X.Length; i++) X[i] = (float)rng.NextGaussian(); // float-representable
            int n = P.Count;
            double XT(int b, int j) => j < In ? X[b * In + j] : 1.0; // homogeneous coordinate
            int Idx(int o, int j) => j < In ? Layer.Weight.Offset + o * In + j : Layer.Bias.Offset + o;

            AExact = new double[In + 1, In + 1];
            for (int b = 0; b < B; b++) for (int i = 0; i <= In; i++) for (int j = 0; j <= In; j++) AExact[i, j] += XT(b, i) * XT(b, j) / B;
            GExact = new double[Out, Out];
            double[] p = new double[Out], sigma = new double[Out];
            if (gaussian)
            {
                for (int o = 0; o < Out; o++) { sigma[o] = 0.5 + 0.7 * o; GExact[o, o] = 1 / (sigma[o] * sigma[o]); }
            }
            else
            {
                double z = 0;
                for (int o = 0; o < Out; o++) z += Math.Exp(bias[o]);
                for (int o = 0; o < Out; o++) p[o] = Math.Exp(bias[o]) / z;
                for (int o = 0; o < Out; o++) for (int k = 0; k < Out; k++) GExact[o, k] = (o == k ? p[o] : 0) - p[o] * p[k];
            }

            // Brute-force Fisher E_s E_y[∇θ log p(y|s) ∇θ log p(y|s)ᵀ]: for the softmax over the K outcomes y with weights p_y,
            // ∂ log p(y|s)/∂W[o, j] = (δ_oy − p_o)·x̃_j; for the Gaussian mean, F = Σ_o ∇μ_o ∇μ_oᵀ / σ_o².
            Fisher = new double[n, n];
            var v = new double[n];
            for (int b = 0; b < B; b++)
                for (int y = 0; y < Out; y++)
                {
                    Array.Clear(v);
                    double weight;
                    if (gaussian) { weight = 1 / (sigma[y] * sigma[y]); for (int j = 0; j <= In; j++) v[Idx(y, j)] = XT(b, j); }
                    else { weight = p[y]; for (int o = 0; o < Out; o++) for (int j = 0; j <= In; j++) v[Idx(o, j)] = ((o == y ? 1 : 0) - p[o]) * XT(b, j); }
                    for (int i = 0; i < n; i++) for (int k = 0; k < n; k++) Fisher[i, k] += weight * v[i] * v[k] / B;
                }

            // A policy-gradient-like g = (1/B) Σ_b adv_b ∇ log p(y_b|s_b): in the Fisher's range (the softmax's Fisher is singular).
            Gradient = new double[n];
            for (int b = 0; b < B; b++)
            {
                double adv = rng.NextGaussian();
                int y = rng.NextInt(Out);
                for (int o = 0; o < Out; o++)
                    for (int j = 0; j <= In; j++)
                        Gradient[Idx(o, j)] += adv / B * XT(b, j) * (gaussian ? (o == y ? 1 / sigma[o] : 0.3 * o / sigma[o]) : (o == y ? 1 : 0) - p[o]);
            }

            // The statistics' input: each state repeated once per outcome, row (b, y) carrying √(K·w_y)·∂ log p(y|s_b)/∂output,
            // so that the mean of g gᵀ over the rows is exactly the output Fisher (a quadrature of the expectation).
            Rows = B * Out;
            ReplicatedX = new float[Rows * In];
            QuadratureGradients = new float[Rows * Out];
            for (int b = 0; b < B; b++)
                for (int y = 0; y < Out; y++)
                {
                    int r = b * Out + y;
                    for (int j = 0; j < In; j++) ReplicatedX[r * In + j] = (float)X[b * In + j];
                    for (int o = 0; o < Out; o++)
                        QuadratureGradients[r * Out + o] = gaussian
                            ? (o == y ? (float)(Math.Sqrt(Out) / sigma[o]) : 0f)
                            : (float)(Math.Sqrt(Out * p[y]) * ((o == y ? 1 : 0) - p[o]));
                }
        }

        public Kfac Engine(double damping)
        {
            var kfac = new Kfac([Layer], statsDecay: 0.99, damping: damping);
            Layer.Forward(ReplicatedX, Rows);
            Layer.Backward(QuadratureGradients);
            kfac.UpdateStatistics();
            kfac.RefreshInverses();
            return kfac;
        }

        /// <summary>The flat vector with, for the softmax, the unidentifiable shift of all logits removed per input coordinate.</summary>
        public double[] Identifiable(IReadOnlyList<double> s)
        {
            var r = s.ToArray();
            if (Gaussian) return r;
            for (int j = 0; j <= In; j++)
            {
                int Idx(int o) => j < In ? Layer.Weight.Offset + o * In + j : Layer.Bias.Offset + o;
                double mean = 0;
                for (int o = 0; o < Out; o++) mean += r[Idx(o)] / Out;
                for (int o = 0; o < Out; o++) r[Idx(o)] -= mean;
            }
            return r;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NaturalGradientOfOneLinearLayerEqualsTheBruteForceFisherInverse(bool gaussian)
    {
        var c = new OneLayerCase(gaussian);
        int n = c.P.Count, inDim = OneLayerCase.In + 1;

        // The factorisation is exact here: F = A ⊗ G (vec over W̃[o, j]).
        for (int o = 0; o < c.Out; o++) for (int j = 0; j < inDim; j++)
            for (int o2 = 0; o2 < c.Out; o2++) for (int j2 = 0; j2 < inDim; j2++)
            {
                int i1 = j < OneLayerCase.In ? c.Layer.Weight.Offset + o * OneLayerCase.In + j : c.Layer.Bias.Offset + o;
                int i2 = j2 < OneLayerCase.In ? c.Layer.Weight.Offset + o2 * OneLayerCase.In + j2 : c.Layer.Bias.Offset + o2;
                Assert.Equal(c.AExact[j, j2] * c.GExact[o, o2], c.Fisher[i1, i2], 1e-12);
            }

        var g32 = c.Gradient.Select(x => (float)x).ToArray();
        var s = new float[n];

        // 1. Tiny damping: K-FAC gives the exact natural gradient F⁻¹g (for the softmax, F⁺g: the shift of all logits is
        // not identifiable, so that component is removed from both sides).
        var tiny = c.Engine(damping: 1e-9);
        tiny.Precondition(g32, s);
        var fTiny = (double[,])c.Fisher.Clone();
        for (int i = 0; i < n; i++) fTiny[i, i] += 1e-9;
        var exact = c.Identifiable(Solve(fTiny, c.Gradient));
        var got = c.Identifiable(s.Select(x => (double)x).ToArray());
        double scale = exact.Max(Math.Abs);
        Assert.True(scale > 0.1, "the natural gradient must be non-trivial");
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(exact[i] - got[i]) <= 2e-3 * scale, $"[{i}] K-FAC {got[i]}, exact F⁻¹g {exact[i]} ({(gaussian ? "Gaussian" : "Categorical")})");

        // 2. The specified damping (λ = 0.01, factored Tikhonov): (A + π√λ I)⁻¹ ⊗ (G + √λ/π I)⁻¹, π² = (tr A / dim A) / (tr G / dim G),
        // built as an explicit Kronecker matrix from the exact factors.
        const double lambda = 0.01;
        var damped = c.Engine(lambda);
        damped.Precondition(g32, s);
        double trA = 0, trG = 0;
        for (int j = 0; j < inDim; j++) trA += c.AExact[j, j];
        for (int o = 0; o < c.Out; o++) trG += c.GExact[o, o];
        double pi = Math.Sqrt(trA / inDim / (trG / c.Out));
        Assert.Equal(pi, damped.Blocks[0].Pi, 1e-5 * pi);
        var kron = new double[n, n];
        for (int o = 0; o < c.Out; o++) for (int j = 0; j < inDim; j++)
            for (int o2 = 0; o2 < c.Out; o2++) for (int j2 = 0; j2 < inDim; j2++)
            {
                int i1 = j < OneLayerCase.In ? c.Layer.Weight.Offset + o * OneLayerCase.In + j : c.Layer.Bias.Offset + o;
                int i2 = j2 < OneLayerCase.In ? c.Layer.Weight.Offset + o2 * OneLayerCase.In + j2 : c.Layer.Bias.Offset + o2;
                double a = c.AExact[j, j2] + (j == j2 ? pi * Math.Sqrt(lambda) : 0);
                double gg = c.GExact[o, o2] + (o == o2 ? Math.Sqrt(lambda) / pi : 0);
                kron[i1, i2] = a * gg;
            }
        var reference = Solve(kron, c.Gradient);
        scale = reference.Max(Math.Abs);
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(reference[i] - s[i]) <= 1e-4 * scale, $"[{i}] K-FAC {s[i]}, damped reference {reference[i]}");
        // Damping shrinks the step: the damped natural gradient is shorter than the (near-)undamped one.
        Assert.True(reference.Sum(x => x * x) < exact.Sum(x => x * x));
    }

    [Fact]
    public void RunningAveragesAndFactoredDampingFollowTheirDefinitionOnHandValues()
    {
        var p = new Parameters();
        var layer = new Linear(p, 1, 1, "l");
        var kfac = new Kfac([layer], statsDecay: 0.99, damping: 0.01);
        Assert.Throws<InvalidOperationException>(() => kfac.UpdateStatistics()); // no forward/backward yet
        Assert.Throws<InvalidOperationException>(() => kfac.RefreshInverses());  // no statistics yet

        // Batch 1: inputs 1, 3 (ã = [x, 1]); output gradients 2, −2. The first batch initialises the averages:
        // A = ½([1 1; 1 1] + [9 3; 3 1]) = [5 2; 2 1], G = ½(4 + 4) = 4.
        layer.Forward([1f, 3f], 2);
        layer.Backward([2f, -2f]);
        kfac.UpdateStatistics();
        Assert.Equal([5.0, 2.0, 2.0, 1.0], kfac.Blocks[0].A);
        Assert.Equal([4.0], kfac.Blocks[0].G);

        // Batch 2: input 2, gradient 1 → Â = [4 2; 2 1], Ĝ = 1; A = 0.99·A + 0.01·Â, G = 0.99·4 + 0.01·1.
        layer.Forward([2f], 1);
        layer.Backward([1f]);
        kfac.UpdateStatistics();
        double[] a = [4.99, 2, 2, 1];
        for (int i = 0; i < 4; i++) Assert.Equal(a[i], kfac.Blocks[0].A[i], 1e-12);
        Assert.Equal(3.97, kfac.Blocks[0].G[0], 1e-12);
        Assert.Equal(2, kfac.StatisticsUpdates);

        // Damping: π = √((tr A / 2) / (tr G / 1)); A_d = A + 0.1·π·I, G_d = G + 0.1/π.
        kfac.RefreshInverses();
        double pi = Math.Sqrt(5.99 / 2 / 3.97);
        Assert.Equal(pi, kfac.Blocks[0].Pi, 1e-12);
        double a00 = 4.99 + 0.1 * pi, a11 = 1 + 0.1 * pi, det = a00 * a11 - 4;
        double[] aInv = [a11 / det, -2 / det, -2 / det, a00 / det];
        double gInv = 1 / (3.97 + 0.1 / pi);
        for (int i = 0; i < 4; i++) Assert.Equal(aInv[i], kfac.Blocks[0].AInverse[i], 1e-6);
        Assert.Equal(gInv, kfac.Blocks[0].GInverse[0], 1e-6);

        // ΔW̃ = G_d⁻¹ [∇W ∇b] A_d⁻¹ with ∇W = 0.3, ∇b = −0.2.
        var grad = new float[p.Count];
        grad[layer.Weight.Offset] = 0.3f; grad[layer.Bias.Offset] = -0.2f;
        var s = new float[p.Count];
        kfac.Precondition(grad, s);
        Assert.Equal(gInv * (0.3 * aInv[0] - 0.2 * aInv[2]), s[layer.Weight.Offset], 1e-6);
        Assert.Equal(gInv * (0.3 * aInv[1] - 0.2 * aInv[3]), s[layer.Bias.Offset], 1e-6);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(65)] // a 64-wide layer's A: the dot products' vector path and its scalar tails
    public void InvertSpdMatchesTheIdentityInFloat64AndRefusesIndefiniteMatrices(int n)
    {
        var rng = new Rng(3);
        var m = new double[n * n];
        var r = new double[n * n];
        for (int i = 0; i < r.Length; i++) r[i] = rng.NextGaussian();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++)
        {
            double s = i == j ? 0.1 : 0;
            for (int k = 0; k < n; k++) s += r[k * n + i] * r[k * n + j];
            m[i * n + j] = s;
        }
        var inv = new double[n * n];
        Assert.True(Kfac.InvertSpd(m, n, inv, new double[2 * n * n]));
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int k = 0; k < n; k++) s += m[i * n + k] * inv[k * n + j];
            Assert.Equal(i == j ? 1.0 : 0.0, s, 1e-9);
        }
        m[0] = -1;
        Assert.False(Kfac.InvertSpd(m, n, inv, new double[2 * n * n]));
    }

    /// <summary>
    /// The factors' Gram products are computed over the lower triangle only, by a tiled kernel (AVX-512) or GEMMs of row
    /// blocks; every entry either path produces must be bit-identical to the full GEMM's (the statistics, and so every
    /// ACKTR run, stay the same bits whatever the path). Shapes: K-FAC's own (64 and 11 wide over 500 rows, 3 and 1 wide),
    /// widths off the 16-lane grid, more than one k block (rows > 256), a single row.
    /// </summary>
    [Theory]
    [InlineData(64, 500, false)]
    [InlineData(64, 500, true)]
    [InlineData(11, 500, true)]
    [InlineData(65, 37, false)]
    [InlineData(65, 37, true)]
    [InlineData(3, 500, false)]
    [InlineData(3, 500, true)]
    [InlineData(1, 300, true)]
    [InlineData(17, 1, false)]
    [InlineData(17, 1, true)]
    [InlineData(40, 2500, true)]
    [InlineData(256, 300, true)]
    public void LowerGramIsBitIdenticalToTheFullGemmOnTheLowerTriangle(int n, int rows, bool tiled)
    {
        // The tiled kernel is the AVX-512 tier's; elsewhere the GEMM path is the one that runs.
        var path = tiled && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? Gram.Path.Tiled : Gram.Path.Gemm;
        var rng = new Rng((ulong)(n * 1000 + rows));
        var x = new float[rows * n];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextGaussian();
        foreach (float alpha in new[] { 0.002f, 1f }) // alpha == 1 takes the stores' unscaled branch
        {
            var full = new float[n * n];
            Gemm.Multiply(Transpose.Yes, Transpose.No, n, n, rows, alpha, x, n, x, n, 0f, full, n);
            var lower = new float[n * n];
            Array.Fill(lower, float.NaN);
            Gram.LowerTriangle(x, rows, n, alpha, lower, threads: 1, path);
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(full[i * n + j]) == BitConverter.SingleToInt32Bits(lower[i * n + j]),
                        $"alpha {alpha}, C[{i}, {j}]: full GEMM {full[i * n + j]:R}, {path} {lower[i * n + j]:R}");
        }
    }

    /// <summary>The batched dot products of the inverse must be DotShort's sums to the bit (the inverses, and so ACKTR runs, stay the same).</summary>
    [Fact]
    public void FourDotProductsAtOnceAreBitIdenticalToOneAtATime()
    {
        var rng = new Rng(77);
        const int stride = 70;
        var a = new double[4 * stride];
        var b = new double[stride];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextGaussian() * Math.Exp(4 * rng.NextGaussian());
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextGaussian();
        for (int n = 0; n <= 65; n++)
        {
            Kfac.DotShort4(ref a[0], stride, ref b[0], n, out double s0, out double s1, out double s2, out double s3);
            double[] batched = [s0, s1, s2, s3];
            for (int k = 0; k < 4; k++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(Kfac.DotShort(a.AsSpan(k * stride, n), b)), BitConverter.DoubleToInt64Bits(batched[k]));
        }
    }

    [Fact]
    public void SteadyStateStatisticsInversesAndPreconditioningAllocateNothing()
    {
        var p = new Parameters();
        var mlp = new Mlp(p, [5, 16, 16, 3], Activation.Tanh, new Rng(1));
        var kfac = new Kfac(mlp.Linears);
        var rng = new Rng(2);
        var x = new float[32 * 5];
        var g = new float[32 * 3];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextGaussian();
        for (int i = 0; i < g.Length; i++) g[i] = (float)rng.NextGaussian();
        var grad = new float[p.Count];
        var s = new float[p.Count];
        void Round()
        {
            mlp.Forward(x, 32);
            mlp.Backward(g, computeInputGradient: false);
            kfac.UpdateStatistics();
            kfac.RefreshInverses();
            kfac.Precondition(grad, s);
        }
        for (int i = 0; i < 3; i++) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
