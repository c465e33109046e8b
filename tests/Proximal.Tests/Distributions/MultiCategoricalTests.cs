using Proximal.Distributions;
using Proximal.Numerics;
using Proximal.Spaces;
using static Proximal.Tests.Distributions.Reference;

namespace Proximal.Tests.Distributions;

public class MultiCategoricalTests
{
    private static readonly int[] Nvec = [3, 1, 5, 2];
    private const int B = 6, W = 11, K = 4;

    private static ReadOnlySpan<bool> Sub(bool[]? mask, int offset, int n) => mask is null ? default : mask.AsSpan(offset, n);

    private static (float[] logits, float[] actions, bool[] mask) Batch(Rng rng)
    {
        var logits = Randn(rng, B * W, 2);
        var mask = new bool[B * W];
        var actions = new float[B * K];
        for (int b = 0; b < B; b++)
        {
            int o = 0;
            for (int c = 0; c < K; c++)
            {
                for (int i = 0; i < Nvec[c]; i++) mask[b * W + o + i] = rng.NextDouble() < 0.7;
                int a = rng.NextInt(Nvec[c]);
                mask[b * W + o + a] = true;
                actions[b * K + c] = a;
                o += Nvec[c];
            }
        }
        return (logits, actions, mask);
    }

    /// <summary>Σ over components of a per-component float64 reference, for row b of x.</summary>
    private static double SumOverComponents(double[] x, int b, Func<double[], int, int, int, double> term)
    {
        double s = 0; int o = 0;
        for (int c = 0; c < K; c++) { s += term(x, b * W + o, Nvec[c], c); o += Nvec[c]; }
        return s;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SumsOfComponentQuantitiesMatchFloat64Reference(bool masked)
    {
        var rng = new Rng(3);
        var (logits, actions, maskAll) = Batch(rng);
        var mask = masked ? maskAll : null;
        var newLogits = Randn(rng, B * W, 2);
        var dist = new MultiCategorical(new MultiDiscrete(Nvec));
        Assert.Equal(W, dist.LogitsPerRow);
        var lp = new float[B]; var h = new float[B]; var kl = new float[B];
        dist.LogProb(logits, actions, lp, mask);
        dist.Entropy(logits, h, mask);
        dist.Kl(logits, newLogits, kl, mask);
        var z = ToDouble(logits); var zn = ToDouble(newLogits);
        for (int b = 0; b < B; b++)
        {
            Close(SumOverComponents(z, b, (x, o, n, c) => CatLogProb(x.AsSpan(o, n), Sub(mask, o, n), (int)actions[b * K + c])), lp[b], 1e-5, 1e-5, $"logProb row {b}");
            Close(SumOverComponents(z, b, (x, o, n, c) => CatEntropy(x.AsSpan(o, n), Sub(mask, o, n))), h[b], 1e-5, 1e-5, $"entropy row {b}");
            Close(SumOverComponents(z, b, (x, o, n, c) => CatKl(x.AsSpan(o, n), zn.AsSpan(o, n), Sub(mask, o, n))), kl[b], 1e-5, 1e-4, $"kl row {b}");
        }
        dist.Kl(logits, logits, kl, mask);
        foreach (float v in kl) Assert.InRange(v, -1e-6f, 1e-6f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFiniteDifferences(bool masked)
    {
        var rng = new Rng(13);
        var (logits, actions, maskAll) = Batch(rng);
        var mask = masked ? maskAll : null;
        var oldLogits = Randn(rng, B * W, 1.5);
        var w = Randn(rng, B);
        var dist = new MultiCategorical(Nvec);
        var x0 = ToDouble(logits); var xo = ToDouble(oldLogits);
        double[] Numeric(Func<double[], int, int, int, double> term) =>
            NumericGradient(v => { double s = 0; for (int b = 0; b < B; b++) s += w[b] * SumOverComponents(v, b, term); return s; }, x0);

        var g = new float[B * W];
        dist.LogProbBackward(logits, actions, w, g, mask);
        AllClose(Numeric((x, o, n, c) => CatLogProb(x.AsSpan(o, n), Sub(mask, o, n), (int)actions[(o / W) * K + c])), g, 1e-5, 1e-4, "dlogp");
        Array.Clear(g);
        dist.EntropyBackward(logits, w, g, mask);
        AllClose(Numeric((x, o, n, c) => CatEntropy(x.AsSpan(o, n), Sub(mask, o, n))), g, 1e-5, 1e-4, "dH");
        Array.Clear(g);
        dist.KlBackward(oldLogits, logits, w, g, mask);
        AllClose(Numeric((x, o, n, c) => CatKl(xo.AsSpan(o, n), x.AsSpan(o, n), Sub(mask, o, n))), g, 1e-5, 1e-4, "dKL");
    }

    [Fact]
    public void FisherVectorProductIsTheBlockDiagonalKlHessian()
    {
        var rng = new Rng(19);
        var (logits, _, mask) = Batch(rng);
        var v = Randn(rng, B * W);
        var fv = new float[B * W];
        new MultiCategorical(Nvec).FisherVectorProduct(logits, v, fv, mask);
        // Directional derivative of the KL gradient (p_new − p_old) along v, per component, by central differences.
        const double h = 1e-5;
        var expected = new double[B * W];
        for (int b = 0; b < B; b++)
        {
            int o = b * W;
            for (int c = 0; c < K; c++)
            {
                int n = Nvec[c];
                var up = new double[n]; var down = new double[n];
                for (int i = 0; i < n; i++) { up[i] = logits[o + i] + h * v[o + i]; down[i] = logits[o + i] - h * v[o + i]; }
                var pu = Softmax(up, mask.AsSpan(o, n)); var pd = Softmax(down, mask.AsSpan(o, n));
                for (int i = 0; i < n; i++) expected[o + i] = (pu[i] - pd[i]) / (2 * h);
                o += n;
            }
        }
        AllClose(expected, fv, 1e-5, 1e-4, "F v");
    }

    [Fact]
    public void SamplesRespectRangesAndMasks()
    {
        var rng = new Rng(17);
        var (logits, _, mask) = Batch(rng);
        var dist = new MultiCategorical(Nvec);
        var space = new MultiDiscrete(Nvec);
        var actions = new float[B * K];
        var lp = new float[B];
        for (int t = 0; t < 500; t++)
        {
            dist.Sample(logits, rng, actions, mask);
            for (int b = 0; b < B; b++) Assert.True(space.Contains(actions.AsSpan(b * K, K)));
            dist.LogProb(logits, actions, lp, mask); // throws if a masked action was drawn
        }
        dist.Mode(logits, actions, mask);
        dist.LogProb(logits, actions, lp, mask);
    }

    [Fact]
    public void BadInputThrows()
    {
        Assert.Throws<ArgumentException>(() => new MultiCategorical());
        Assert.Throws<ArgumentException>(() => new MultiCategorical(2, 0));
        var dist = new MultiCategorical(2, 3);
        var ex = Assert.Throws<ArgumentException>(() => dist.LogProb(new float[10], new float[3], new float[2]));
        Assert.Contains("actions", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.LogProb(new float[10], [0f, 3f, 1f, 1f], new float[2]));
        Assert.Contains("component 1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.Entropy(new float[5], new float[1], [true, true, false, false, false]));
        Assert.Contains("component 1", ex.Message);
        Assert.Throws<ArgumentException>(() => dist.Entropy(new float[9], new float[2]));
    }
}
