using Proximal.Distributions;
using Proximal.Numerics;
using static Proximal.Tests.Distributions.Reference;

namespace Proximal.Tests.Distributions;

public class SquashedGaussianTests
{
    private const int B = 6, D = 2;
    private static int S(bool perRow, int b, int j) => perRow ? b * D + j : j;

    /// <summary>log π(tanh u) in float64: Gaussian density of u minus log(1 − tanh² u) (via log cosh).</summary>
    private static double RefLogProb(double u, double mu, double ls) => GaussLogProb(u, mu, ls) - LogSech2(u);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RSampleIsConsistentAndLogProbMatchesFloat64Reference(bool perRow)
    {
        var rng = new Rng(41);
        var mean = Randn(rng, B * D, 1.5);
        var ls = Randn(rng, perRow ? B * D : D, 0.4, -0.5);
        var dist = new SquashedGaussian(D);
        var actions = new float[B * D]; var noise = new float[B * D]; var lp = new float[B];
        dist.RSample(mean, ls, rng, actions, noise, lp);
        var pre = new float[B * D];
        var lp2 = new float[B];
        for (int b = 0; b < B; b++)
        {
            double e = 0;
            for (int j = 0; j < D; j++)
            {
                int i = b * D + j;
                double u = mean[i] + Math.Exp(ls[S(perRow, b, j)]) * noise[i];
                pre[i] = (float)u;
                Close(Math.Tanh(u), actions[i], 1e-6, 1e-6, $"action {i}");
                e += RefLogProb(u, mean[i], ls[S(perRow, b, j)]);
            }
            Close(e, lp[b], 1e-4, 1e-5, $"RSample logProb row {b}");
        }
        dist.LogProb(mean, ls, pre, lp2);
        for (int b = 0; b < B; b++) Close(lp[b], lp2[b], 1e-4, 1e-5, $"LogProb(preTanh) row {b}");
    }

    [Fact]
    public void TanhCorrectionStaysFiniteWhereTanhSaturates()
    {
        var dist = new SquashedGaussian(1);
        float[] mean = [0f, 0f, 0f, 0f]; float[] ls = [0f];
        float[] pre = [12f, -25f, 60f, -90f]; // tanh² u rounds to 1 in float32 (and for the last ones in float64)
        var lp = new float[4];
        dist.LogProb(mean, ls, pre, lp);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(float.IsFinite(lp[i]), $"log-prob at u = {pre[i]} is {lp[i]}");
            Close(RefLogProb(pre[i], 0, 0), lp[i], 1e-4, 1e-6, $"u = {pre[i]}");
        }
        var noise = new float[4]; var gm = new float[4]; var gs = new float[1];
        pre.CopyTo(noise); // σ = 1, μ = 0: u = ε
        dist.RSampleBackward(mean, ls, noise, [1f, 1f, 1f, 1f], [1f, 1f, 1f, 1f], gm, gs);
        Assert.All(gm, g => Assert.True(float.IsFinite(g)));
        Assert.True(float.IsFinite(gs[0]));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void RSampleBackwardMatchesFiniteDifferences(bool perRow, bool withActionGradient)
    {
        var rng = new Rng(43);
        var mean = Randn(rng, B * D, 1.2);
        var ls = Randn(rng, perRow ? B * D : D, 0.4, -0.4);
        var noise = Randn(rng, B * D);
        var gLp = Randn(rng, B);
        var gA = withActionGradient ? Randn(rng, B * D) : [];
        var dist = new SquashedGaussian(D);
        var gm = new float[B * D]; var gs = new float[ls.Length];
        dist.RSampleBackward(mean, ls, noise, gLp, gA, gm, gs);

        int nm = B * D;
        // L(μ, log σ) = Σ_b gLp_b log π(a_b) + Σ gA·a with a = tanh(μ + σε), ε fixed.
        var expected = NumericGradient(x =>
        {
            double l = 0;
            for (int b = 0; b < B; b++)
                for (int j = 0; j < D; j++)
                {
                    int i = b * D + j;
                    double mu = x[i], s = x[nm + S(perRow, b, j)];
                    double u = mu + Math.Exp(s) * noise[i];
                    l += gLp[b] * RefLogProb(u, mu, s);
                    if (withActionGradient) l += gA[i] * Math.Tanh(u);
                }
            return l;
        }, ToDouble([.. mean, .. ls]));
        AllClose(expected.AsSpan(0, nm), gm, 1e-5, 1e-4, "dL/dmean");
        AllClose(expected.AsSpan(nm), gs, 1e-5, 1e-4, "dL/dlogStd");
    }

    [Fact]
    public void PreTanhSampleMomentsMatchMeanAndStd()
    {
        var dist = new SquashedGaussian(1);
        const int rows = 40_000;
        var mean = new float[rows]; Array.Fill(mean, 0.3f);
        float[] ls = [MathF.Log(0.7f)];
        var a = new float[rows]; var eps = new float[rows]; var lp = new float[rows];
        dist.RSample(mean, ls, new Rng(5), a, eps, lp);
        double s = 0, s2 = 0;
        foreach (float e in eps) { s += e; s2 += e * e; }
        double m = s / rows, sd = Math.Sqrt(s2 / rows - m * m);
        Assert.True(Math.Abs(m) < 5 / Math.Sqrt(rows), $"noise mean {m}");
        Assert.True(Math.Abs(sd - 1) < 0.02, $"noise std {sd}");
        Assert.All(a, x => Assert.InRange(x, -1f, 1f));
        var mode = new float[1];
        dist.Mode([0.3f], mode);
        Assert.Equal(MathF.Tanh(0.3f), mode[0]);
    }

    [Fact]
    public void BadInputThrows()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SquashedGaussian(-1));
        var dist = new SquashedGaussian(2);
        var ex = Assert.Throws<ArgumentException>(() => dist.RSample(new float[4], new float[3], new Rng(1), new float[4], new float[4], new float[2]));
        Assert.Contains("logStd", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.RSample(new float[4], new float[2], new Rng(1), new float[4], new float[3], new float[2]));
        Assert.Contains("noise", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.RSampleBackward(new float[4], new float[2], new float[4], new float[2], new float[3], new float[4], new float[2]));
        Assert.Contains("gradActions", ex.Message);
        Assert.Throws<ArgumentException>(() => dist.LogProb(new float[4], [float.PositiveInfinity, 0f], new float[4], new float[2]));
    }

    [Fact]
    public void SteadyStateCallsDoNotAllocate()
    {
        var rng = new Rng(3);
        var dist = new SquashedGaussian(D);
        var mean = Randn(rng, B * D); var ls = Randn(rng, D);
        var a = new float[B * D]; var eps = new float[B * D]; var lp = new float[B]; var gm = new float[B * D]; var gs = new float[D];
        var mc = new MultiCategorical(3, 4);
        var logits = Randn(rng, B * 7); var acts = new float[B * 2]; var g = new float[B * 7];
        void All()
        {
            dist.RSample(mean, ls, rng, a, eps, lp);
            dist.LogProb(mean, ls, a, lp);
            dist.RSampleBackward(mean, ls, eps, lp, a, gm, gs);
            mc.Sample(logits, rng, acts);
            mc.LogProb(logits, acts, lp);
            mc.LogProbBackward(logits, acts, lp, g);
            mc.Kl(logits, logits, lp);
        }
        All();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) All();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
