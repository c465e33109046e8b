using Proximal.Distributions;
using Proximal.Numerics;
using static Proximal.Tests.Distributions.Reference;

namespace Proximal.Tests.Distributions;

public class DiagGaussianTests
{
    private const int B = 5, D = 3;

    /// <summary>Log-std for either layout: [D] shared or [B × D] per row.</summary>
    private static float[] LogStd(Rng rng, bool perRow) => Randn(rng, perRow ? B * D : D, 0.5, -0.3);
    private static int S(bool perRow, int b, int j) => perRow ? b * D + j : j;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void QuantitiesMatchFloat64Reference(bool perRow)
    {
        var rng = new Rng(7);
        var mean = Randn(rng, B * D); var ls = LogStd(rng, perRow);
        var actions = Randn(rng, B * D, 1.5);
        var mean2 = Randn(rng, B * D); var ls2 = LogStd(rng, !perRow); // mixed layouts on purpose
        var dist = new DiagGaussian(D);
        var lp = new float[B]; var h = new float[B]; var kl = new float[B];
        dist.LogProb(mean, ls, actions, lp);
        dist.Entropy(ls, h);
        dist.Kl(mean, ls, mean2, ls2, kl);
        for (int b = 0; b < B; b++)
        {
            double elp = 0, eh = 0, ekl = 0;
            for (int j = 0; j < D; j++)
            {
                int i = b * D + j;
                elp += GaussLogProb(actions[i], mean[i], ls[S(perRow, b, j)]);
                eh += GaussEntropy(ls[S(perRow, b, j)]);
                ekl += GaussKl(mean[i], ls[S(perRow, b, j)], mean2[i], ls2[S(!perRow, b, j)]);
            }
            Close(elp, lp[b], 1e-5, 1e-5, $"logProb row {b}");
            Close(eh, h[b], 1e-5, 1e-5, $"entropy row {b}");
            Close(ekl, kl[b], 1e-5, 1e-4, $"kl row {b}");
        }
        dist.Kl(mean, ls, mean, ls, kl);
        foreach (float v in kl) Assert.InRange(v, -1e-6f, 1e-6f);
        for (int t = 0; t < 30; t++)
        {
            dist.Kl(Randn(rng, B * D), LogStd(rng, perRow), Randn(rng, B * D), LogStd(rng, perRow), kl);
            foreach (float v in kl) Assert.True(v >= -1e-6f, $"KL = {v} < 0");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFiniteDifferences(bool perRow)
    {
        var rng = new Rng(23);
        var mean = Randn(rng, B * D); var ls = LogStd(rng, perRow);
        var actions = Randn(rng, B * D, 1.5);
        var oldMean = Randn(rng, B * D); var oldLs = LogStd(rng, true);
        var w = Randn(rng, B);
        var dist = new DiagGaussian(D);
        int nm = B * D;
        // Parameters packed as [mean | logStd] so one numeric gradient covers both.
        var x0 = ToDouble([.. mean, .. ls]);
        double[] Numeric(Func<double, double, int, int, double> term) => NumericGradient(x =>
        {
            double s = 0;
            for (int b = 0; b < B; b++)
                for (int j = 0; j < D; j++) s += w[b] * term(x[b * D + j], x[nm + S(perRow, b, j)], b, j);
            return s;
        }, x0);
        void Check(double[] expected, float[] gm, float[] gs, string what)
        {
            AllClose(expected.AsSpan(0, nm), gm, 1e-5, 1e-4, what + "/dmean");
            AllClose(expected.AsSpan(nm), gs, 1e-5, 1e-4, what + "/dlogstd");
        }

        var gMean = new float[nm]; var gLs = new float[ls.Length];
        dist.LogProbBackward(mean, ls, actions, w, gMean, gLs);
        Check(Numeric((m, s, b, j) => GaussLogProb(actions[b * D + j], m, s)), gMean, gLs, "logProb");

        Array.Clear(gMean); Array.Clear(gLs);
        dist.EntropyBackward(ls, w, gLs);
        Check(Numeric((m, s, b, j) => GaussEntropy(s)), gMean, gLs, "entropy");

        Array.Clear(gLs);
        dist.KlBackward(oldMean, oldLs, mean, ls, w, gMean, gLs);
        Check(Numeric((m, s, b, j) => GaussKl(oldMean[b * D + j], oldLs[b * D + j], m, s)), gMean, gLs, "kl");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FisherVectorProductIsTheKlHessian(bool perRow)
    {
        var rng = new Rng(29);
        var mean = Randn(rng, B * D); var ls = LogStd(rng, perRow);
        var vm = Randn(rng, B * D); var vs = Randn(rng, ls.Length);
        var dist = new DiagGaussian(D);
        var fm = new float[B * D]; var fs = new float[ls.Length];
        dist.FisherVectorProduct(ls, vm, vs, fm, fs);
        // Directional derivative of ∇_new Σ_b KL(old ‖ new) along v at new = old, by central differences of the analytic float64 gradient.
        const double h = 1e-5;
        var em = new double[B * D]; var es = new double[ls.Length];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < D; j++)
            {
                int i = b * D + j, s = S(perRow, b, j);
                double dmdt(double t) { double mn = mean[i] + t * vm[i], sn = ls[s] + t * vs[s]; return (mn - mean[i]) / Math.Exp(2 * sn); }
                double dsdt(double t) { double mn = mean[i] + t * vm[i], sn = ls[s] + t * vs[s]; return 1 - (Math.Exp(2 * ls[s]) + (mn - mean[i]) * (mn - mean[i])) / Math.Exp(2 * sn); }
                em[i] += (dmdt(h) - dmdt(-h)) / (2 * h);
                es[s] += (dsdt(h) - dsdt(-h)) / (2 * h);
            }
        AllClose(em, fm, 1e-5, 1e-4, "F v (mean)");
        AllClose(es, fs, 1e-5, 1e-4, "F v (logStd)");
    }

    [Fact]
    public void SampleMomentsMatchMeanAndStd()
    {
        var dist = new DiagGaussian(2);
        float[] mean = [1.5f, -2f]; float[] ls = [MathF.Log(0.5f), MathF.Log(2f)];
        const int rows = 50_000;
        var means = new float[rows * 2];
        for (int b = 0; b < rows; b++) { means[2 * b] = mean[0]; means[2 * b + 1] = mean[1]; }
        var actions = new float[rows * 2];
        dist.Sample(means, ls, new Rng(123), actions);
        for (int j = 0; j < 2; j++)
        {
            double s = 0, s2 = 0;
            for (int b = 0; b < rows; b++) { double a = actions[2 * b + j]; s += a; s2 += a * a; }
            double m = s / rows, sd = Math.Sqrt(s2 / rows - m * m), sigma = Math.Exp(ls[j]);
            Assert.True(Math.Abs(m - mean[j]) < 5 * sigma / Math.Sqrt(rows), $"dim {j}: sample mean {m}, expected {mean[j]}");
            Assert.True(Math.Abs(sd / sigma - 1) < 0.02, $"dim {j}: sample std {sd}, expected {sigma}");
        }
        var mode = new float[rows * 2];
        dist.Mode(means, mode);
        Assert.Equal(means, mode);
    }

    [Fact]
    public void BadInputThrows()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiagGaussian(0));
        var dist = new DiagGaussian(3);
        var ex = Assert.Throws<ArgumentException>(() => dist.LogProb(new float[6], new float[4], new float[6], new float[2]));
        Assert.Contains("logStd", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.LogProb(new float[6], new float[3], new float[5], new float[2]));
        Assert.Contains("actions", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.LogProb(new float[6], [0f, float.NaN, 0f], new float[6], new float[2]));
        Assert.Contains("logStd", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.LogProb([0f, 0f, 0f, 0f, float.NaN, 0f], new float[3], new float[6], new float[2]));
        Assert.Contains("mean[row 1, dim 1]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.LogProbBackward(new float[6], new float[3], new float[6], new float[2], new float[6], new float[6]));
        Assert.Contains("gradLogStd", ex.Message);
        Assert.Throws<ArgumentException>(() => dist.Kl(new float[6], new float[3], new float[3], new float[3], new float[2]));
        Assert.Throws<ArgumentException>(() => dist.Mode(new float[7], new float[7]));
    }

    [Fact]
    public void SteadyStateCallsDoNotAllocate()
    {
        var rng = new Rng(2);
        var dist = new DiagGaussian(D);
        var mean = Randn(rng, B * D); var ls = LogStd(rng, false);
        var actions = new float[B * D]; var outB = new float[B]; var gm = new float[B * D]; var gs = new float[D];
        void All()
        {
            dist.Sample(mean, ls, rng, actions);
            dist.LogProb(mean, ls, actions, outB);
            dist.Entropy(ls, outB);
            dist.Kl(mean, ls, mean, ls, outB);
            dist.LogProbBackward(mean, ls, actions, outB, gm, gs);
            dist.KlBackward(mean, ls, mean, ls, outB, gm, gs);
        }
        All();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) All();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
