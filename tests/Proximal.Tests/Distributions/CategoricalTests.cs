using Proximal.Distributions;
using Proximal.Numerics;
using static Proximal.Tests.Distributions.Reference;

namespace Proximal.Tests.Distributions;

public class CategoricalTests
{
    private const int B = 7, N = 5;

    private static (float[] logits, float[] actions) Batch(Rng rng, bool[]? mask, double scale = 2)
    {
        var logits = Randn(rng, B * N, scale);
        var actions = new float[B];
        for (int b = 0; b < B; b++)
        {
            int a;
            do a = rng.NextInt(N); while (mask != null && !mask[b * N + a]);
            actions[b] = a;
        }
        return (logits, actions);
    }

    private static ReadOnlySpan<bool> Row(bool[]? mask, int b) => mask is null ? default : mask.AsSpan(b * N, N);

    [Theory]
    [InlineData(false, 2.0)]
    [InlineData(true, 2.0)]
    [InlineData(false, 60.0)] // large logits: exp would overflow without the max shift
    public void QuantitiesMatchFloat64Reference(bool masked, double scale)
    {
        var rng = new Rng(11);
        var mask = masked ? RandomMask(rng, B, N, 0.6) : null;
        var (logits, actions) = Batch(rng, mask, scale);
        var newLogits = Randn(rng, B * N, scale);
        var dist = new Categorical(N);
        var lp = new float[B]; var h = new float[B]; var kl = new float[B]; var p = new float[B * N];
        dist.LogProb(logits, actions, lp, mask);
        dist.Entropy(logits, h, mask);
        dist.Kl(logits, newLogits, kl, mask);
        dist.Probabilities(logits, p, mask);
        for (int b = 0; b < B; b++)
        {
            var z = ToDouble(logits.AsSpan(b * N, N));
            var zn = ToDouble(newLogits.AsSpan(b * N, N));
            double tolScale = scale / 2;
            Close(CatLogProb(z, Row(mask, b), (int)actions[b]), lp[b], 1e-5 * tolScale, 1e-5, $"logProb row {b}");
            Close(CatEntropy(z, Row(mask, b)), h[b], 1e-5 * tolScale, 1e-5, $"entropy row {b}");
            Close(CatKl(z, zn, Row(mask, b)), kl[b], 1e-5 * tolScale, 1e-4, $"kl row {b}");
            AllClose(Softmax(z, Row(mask, b)), p.AsSpan(b * N, N), 1e-6, 1e-5, $"probabilities row {b}");
        }
    }

    [Fact]
    public void UniformEntropyIsLogN()
    {
        foreach (int n in new[] { 1, 2, 3, 10, 1000 })
        {
            var dist = new Categorical(n);
            var logits = new float[3 * n];
            for (int i = 0; i < logits.Length; i++) logits[i] = i < n ? 0f : (i < 2 * n ? 7.5f : -3f);
            var h = new float[3];
            dist.Entropy(logits, h);
            foreach (float v in h) Close(Math.Log(n), v, 1e-5, 1e-5, $"entropy n={n}");
        }
    }

    [Fact]
    public void KlOfItselfIsZeroAndOtherwisePositive()
    {
        var rng = new Rng(5);
        var dist = new Categorical(N);
        var kl = new float[B];
        for (int trial = 0; trial < 50; trial++)
        {
            var a = Randn(rng, B * N, 3);
            var c = Randn(rng, B * N, 3);
            dist.Kl(a, a, kl);
            foreach (float v in kl) Assert.InRange(v, -1e-6f, 1e-6f);
            dist.Kl(a, c, kl);
            foreach (float v in kl) Assert.True(v >= -1e-6f, $"KL = {v} < 0");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFiniteDifferences(bool masked)
    {
        var rng = new Rng(21);
        var mask = masked ? RandomMask(rng, B, N, 0.6) : null;
        var (logits, actions) = Batch(rng, mask);
        var oldLogits = Randn(rng, B * N, 1.5);
        var w = Randn(rng, B);
        var dist = new Categorical(N);

        // The float64 loss Σ_b w_b f_b(row b of x), differentiated numerically.
        double[] Numeric(Func<double[], int, double> f, double[] x) =>
            NumericGradient(v => { double s = 0; for (int b = 0; b < B; b++) s += w[b] * f(v, b); return s; }, x);
        var x0 = ToDouble(logits);
        var xOld = ToDouble(oldLogits);

        var g = new float[B * N];
        dist.LogProbBackward(logits, actions, w, g, mask);
        AllClose(Numeric((v, b) => CatLogProb(v.AsSpan(b * N, N), Row(mask, b), (int)actions[b]), x0), g, 1e-5, 1e-4, "dlogp/dlogits");

        Array.Clear(g);
        dist.EntropyBackward(logits, w, g, mask);
        AllClose(Numeric((v, b) => CatEntropy(v.AsSpan(b * N, N), Row(mask, b)), x0), g, 1e-5, 1e-4, "dH/dlogits");

        Array.Clear(g);
        dist.KlBackward(oldLogits, logits, w, g, mask);
        AllClose(Numeric((v, b) => CatKl(xOld.AsSpan(b * N, N), v.AsSpan(b * N, N), Row(mask, b)), x0), g, 1e-5, 1e-4, "dKL/dnewLogits");

        if (mask != null)
            for (int i = 0; i < g.Length; i++) if (!mask[i]) Assert.Equal(0f, g[i]);
    }

    [Fact]
    public void BackwardAccumulatesIntoTheGradient()
    {
        var rng = new Rng(8);
        var (logits, actions) = Batch(rng, null);
        var w = Randn(rng, B);
        var dist = new Categorical(N);
        var fresh = new float[B * N];
        dist.LogProbBackward(logits, actions, w, fresh);
        var acc = new float[B * N];
        Array.Fill(acc, 0.25f);
        dist.LogProbBackward(logits, actions, w, acc);
        for (int i = 0; i < acc.Length; i++) Assert.Equal(fresh[i] + 0.25f, acc[i], 6);
    }

    [Fact]
    public void FisherVectorProductIsTheKlHessian()
    {
        var rng = new Rng(31);
        var mask = RandomMask(rng, B, N, 0.7);
        var logits = Randn(rng, B * N);
        var v = Randn(rng, B * N);
        var dist = new Categorical(N);
        var fv = new float[B * N];
        dist.FisherVectorProduct(logits, v, fv, mask);
        // d/dt ∇_new KL(old ‖ new + t v) at t = 0, new = old, from the float64 KL gradient p_new − p_old.
        var z = ToDouble(logits);
        for (int b = 0; b < B; b++)
        {
            var zr = z.AsSpan(b * N, N).ToArray();
            const double h = 1e-5;
            var up = new double[N]; var down = new double[N];
            for (int i = 0; i < N; i++) { up[i] = zr[i] + h * v[b * N + i]; down[i] = zr[i] - h * v[b * N + i]; }
            var pu = Softmax(up, Row(mask, b)); var pd = Softmax(down, Row(mask, b));
            for (int i = 0; i < N; i++) Close((pu[i] - pd[i]) / (2 * h), fv[b * N + i], 1e-5, 1e-4, $"Fv row {b} [{i}]");
        }
    }

    [Fact]
    public void SamplingFollowsTheProbabilitiesAndNeverPicksMaskedActions()
    {
        var dist = new Categorical(4);
        float[] logits = [1f, 0f, -1f, 2f, 1f, 0f, -1f, 2f];
        bool[] mask = [true, true, true, true, true, false, true, false];
        var probs = new float[8];
        dist.Probabilities(logits, probs, mask);
        Assert.Equal(0f, probs[5]);
        Assert.Equal(0f, probs[7]);
        var rng = new Rng(99);
        var counts = new int[8];
        var actions = new float[2];
        const int draws = 40_000;
        for (int t = 0; t < draws; t++)
        {
            dist.Sample(logits, rng, actions, mask);
            counts[(int)actions[0]]++;
            counts[4 + (int)actions[1]]++;
        }
        Assert.Equal(0, counts[5]);
        Assert.Equal(0, counts[7]);
        for (int i = 0; i < 8; i++)
        {
            double sd = Math.Sqrt(probs[i] * (1 - probs[i]) / draws);
            Assert.True(Math.Abs(counts[i] / (double)draws - probs[i]) <= 5 * sd + 1e-9, $"action {i % 4} of row {i / 4}: frequency {counts[i] / (double)draws}, probability {probs[i]}");
        }
    }

    [Fact]
    public void SamplingIsReproducibleForASeed()
    {
        var dist = new Categorical(N);
        var logits = Randn(new Rng(1), B * N);
        var a1 = new float[B]; var a2 = new float[B];
        dist.Sample(logits, new Rng(4), a1);
        dist.Sample(logits, new Rng(4), a2);
        Assert.Equal(a1, a2);
    }

    [Fact]
    public void ModeIsTheArgmaxOfTheAllowedActions()
    {
        var dist = new Categorical(4);
        float[] logits = [0f, 3f, 1f, 3f, 5f, 1f, 2f, 0f];
        var modes = new float[2];
        dist.Mode(logits, modes);
        Assert.Equal([1f, 0f], modes);
        dist.Mode(logits, modes, [true, false, true, false, false, true, true, true]);
        Assert.Equal([2f, 2f], modes);
    }

    [Fact]
    public void MaskedEntriesHaveZeroProbabilityAndGradientAndCannotBeScored()
    {
        var dist = new Categorical(3);
        float[] logits = [10f, 0f, 0f];
        bool[] mask = [false, true, true];
        var h = new float[1];
        dist.Entropy(logits, h, mask);
        Close(Math.Log(2), h[0], 1e-6, 1e-6, "entropy of two equal allowed actions");
        var lp = new float[1];
        dist.LogProb(logits, [1f], lp, mask);
        Close(Math.Log(0.5), lp[0], 1e-6, 1e-6, "log-prob with mask");
        var g = new float[3];
        dist.EntropyBackward(logits, [1f], g, mask);
        dist.LogProbBackward(logits, [2f], [1f], g, mask);
        Assert.Equal(0f, g[0]);
        var ex = Assert.Throws<ArgumentException>(() => dist.LogProb(logits, [0f], lp, mask));
        Assert.Contains("masked", ex.Message);
    }

    [Fact]
    public void AllMaskedRowThrows()
    {
        var dist = new Categorical(3);
        var ex = Assert.Throws<ArgumentException>(() => dist.Sample(new float[6], new Rng(1), new float[2], [true, false, false, false, false, false]));
        Assert.Contains("row 1", ex.Message);
        Assert.Contains("every action", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.Entropy(new float[3], new float[1], [false, false, false]));
        Assert.Contains("every action", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.Kl(new float[3], new float[3], new float[1], [false, false, false]));
        Assert.Contains("every action", ex.Message);
    }

    [Fact]
    public void BadInputThrowsWithAClearMessage()
    {
        var dist = new Categorical(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Categorical(0));
        var ex = Assert.Throws<ArgumentException>(() => dist.Entropy(new float[7], new float[2]));
        Assert.Contains("multiple", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.Entropy(new float[6], new float[3]));
        Assert.Contains("entropy", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => dist.LogProb(new float[6], [0f, 3f], new float[2]));
        Assert.Contains("actions", ex.Message);
        Assert.Throws<ArgumentException>(() => dist.LogProb(new float[6], [0.5f, 1f], new float[2]));
        Assert.Throws<ArgumentException>(() => dist.LogProb(new float[6], [float.NaN, 1f], new float[2]));
        ex = Assert.Throws<ArgumentException>(() => dist.Entropy([0f, float.NaN, 0f], new float[1]));
        Assert.Contains("NaN", ex.Message);
        Assert.Throws<ArgumentException>(() => dist.Entropy([0f, float.PositiveInfinity, 0f], new float[1]));
        ex = Assert.Throws<ArgumentException>(() => dist.Entropy(new float[3], new float[1], new bool[2]));
        Assert.Contains("actionMask", ex.Message);
        Assert.Throws<ArgumentException>(() => dist.Kl(new float[6], new float[3], new float[2]));
        Assert.Throws<ArgumentException>(() => dist.LogProbBackward(new float[6], [0f, 1f], new float[2], new float[5]));
    }

    [Fact]
    public void NegativeInfinityLogitsActLikeMaskedEntries()
    {
        var dist = new Categorical(3);
        float[] logits = [float.NegativeInfinity, 1f, 1f];
        var h = new float[1];
        dist.Entropy(logits, h);
        Close(Math.Log(2), h[0], 1e-6, 1e-6, "entropy");
        var g = new float[3];
        dist.EntropyBackward(logits, [1f], g);
        Assert.All(g, v => Assert.False(float.IsNaN(v)));
    }

    [Fact]
    public void SteadyStateCallsDoNotAllocate()
    {
        var rng = new Rng(2);
        var mask = RandomMask(rng, B, N, 0.7);
        var (logits, actions) = Batch(rng, mask);
        var dist = new Categorical(N);
        var outB = new float[B]; var g = new float[B * N];
        void All()
        {
            dist.Sample(logits, rng, actions, mask);
            dist.LogProb(logits, actions, outB, mask);
            dist.Entropy(logits, outB, mask);
            dist.Kl(logits, logits, outB, mask);
            dist.LogProbBackward(logits, actions, outB, g, mask);
            dist.EntropyBackward(logits, outB, g, mask);
            dist.KlBackward(logits, logits, outB, g, mask);
        }
        All();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) All();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
