using Proximal.Nn;

namespace Proximal.Tests.Nn;

public class RmspropTests
{
    private static Parameters Model(float[] values)
    {
        var p = new Parameters();
        p.Allocate(values.Length, "w");
        values.CopyTo(p.Values, 0);
        return p;
    }

    // 19 entries: vector body plus scalar tail on any vector width; some gradients tiny so ε matters.
    private static readonly float[] Theta0 = Enumerable.Range(0, 19).Select(i => 0.1f * i - 0.7f).ToArray();
    private static float[] Grad(int step) => Enumerable.Range(0, 19).Select(i => (float)Math.Sin(i + 3 * step) * (i % 4 == 0 ? 1e-3f : 1f)).ToArray();

    [Theory]
    [InlineData(RmspropStyle.Torch)]
    [InlineData(RmspropStyle.Tensorflow)]
    public void MatchesHandComputedSteps(RmspropStyle style)
    {
        var p = Model(Theta0);
        var rms = new Rmsprop(p, 7e-4, alpha: 0.99, epsilon: 1e-5, style: style);
        bool tf = style == RmspropStyle.Tensorflow;
        double[] theta = Theta0.Select(v => (double)v).ToArray();
        double[] v = Enumerable.Repeat(tf ? 1.0 : 0.0, 19).ToArray();
        Assert.Equal(v.Select(x => (float)x), rms.SquareAverage);
        double[] lrs = [7e-4, 5e-4, 2.5e-4];
        for (int t = 1; t <= 3; t++)
        {
            var g = Grad(t);
            g.CopyTo(p.Gradients, 0);
            var before = (float[])p.Values.Clone();
            rms.Step(lrs[t - 1]);
            if (t == 1 && !tf)
            {
                // Closed form of the first torch step: v = 0.01·g², so Δθ = −lr·g/(0.1·|g| + ε) ≈ −10·lr·sign(g).
                for (int i = 0; i < 19; i++)
                {
                    double expected = -lrs[0] * g[i] / (0.1 * Math.Abs(g[i]) + 1e-5);
                    Assert.True(Math.Abs(p.Values[i] - before[i] - expected) <= 1e-5 * Math.Abs(expected) + 1e-7,
                        $"step 1 moved θ[{i}] by {p.Values[i] - before[i]:E6}; torch RMSprop moves it by {expected:E6}");
                }
            }
            if (t == 1 && tf)
            {
                // TF form starts from v = 1: the first step is ≈ −lr·g (the denominator √(0.99 + 0.01g² + ε) ≈ 1).
                for (int i = 0; i < 19; i++)
                {
                    double expected = -lrs[0] * g[i] / Math.Sqrt(0.99 + 0.01 * g[i] * g[i] + 1e-5);
                    Assert.True(Math.Abs(p.Values[i] - before[i] - expected) <= 1e-4 * Math.Abs(expected) + 1e-7,
                        $"step 1 moved θ[{i}] by {p.Values[i] - before[i]:E6}; TF RMSprop moves it by {expected:E6}");
                }
            }
            for (int i = 0; i < 19; i++)
            {
                v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
                double denom = tf ? Math.Sqrt(v[i] + 1e-5) : Math.Sqrt(v[i]) + 1e-5;
                theta[i] -= lrs[t - 1] * g[i] / denom;
            }
            Assert.Equal(t, rms.StepCount);
            Reference.Close(theta, p.Values, 1e-6, 1e-6, $"θ after step {t}");
            Reference.Close(v, rms.SquareAverage, 1e-9, 1e-5, "v");
        }
        Assert.Equal(lrs[2], rms.LearningRate);
    }

    [Fact]
    public void EpsilonPlacementDiffersWhereTheGradientIsTiny()
    {
        // From the same state v = 0 and a gradient of 1e-4, v becomes 1e-10: torch divides by √v + ε = 2e-5,
        // the TF form by √(v + ε) ≈ 3.16e-3 — a 158× smaller step. Pins where ε sits in each style.
        var a = new Rmsprop(Model(new float[4]), 1e-3, style: RmspropStyle.Torch);
        var b = new Rmsprop(Model(new float[4]), 1e-3, style: RmspropStyle.Tensorflow);
        b.LoadState(new float[4], 0); // same v = 0 start as torch
        foreach (var o in new[] { a, b }) { Array.Fill(o.Parameters.Gradients, 1e-4f); o.Step(); }
        double torch = -1e-3 * 1e-4 / (0.1 * 1e-4 + 1e-5);     // = −5e-3
        double tfl = -1e-3 * 1e-4 / Math.Sqrt(0.01 * 1e-8 + 1e-5); // ≈ −3.16e-5
        Assert.Equal(torch, a.Parameters.Values[0], 1e-3 * Math.Abs(torch));
        Assert.Equal(tfl, b.Parameters.Values[0], 1e-3 * Math.Abs(tfl));
    }

    [Fact]
    public void StateRoundTripsExactly()
    {
        var a = new Rmsprop(Model(Theta0), 7e-4);
        for (int t = 1; t <= 2; t++) { Grad(t).CopyTo(a.Parameters.Gradients, 0); a.Step(); }
        var b = new Rmsprop(Model(a.Parameters.Values), 7e-4);
        b.LoadState(a.SquareAverage, a.StepCount);
        Grad(3).CopyTo(a.Parameters.Gradients, 0); a.Step();
        Grad(3).CopyTo(b.Parameters.Gradients, 0); b.Step();
        Assert.Equal(a.Parameters.Values, b.Parameters.Values);
        Assert.Equal(a.SquareAverage, b.SquareAverage);
        Assert.Equal(3, b.StepCount);
        b.Reset();
        Assert.Equal(0, b.StepCount);
        Assert.All(b.SquareAverage, x => Assert.Equal(0f, x));
        var bad = new float[19]; bad[3] = -1;
        Assert.Throws<ArgumentException>(() => b.LoadState(bad, 1));
        Assert.Throws<ArgumentException>(() => b.LoadState(new float[5], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rmsprop(Model(Theta0), 1e-3, alpha: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rmsprop(Model(Theta0), 1e-3, epsilon: 0));
    }

    [Fact]
    public void SteadyStateStepAllocatesNothing()
    {
        var p = Model(Enumerable.Range(0, 1001).Select(i => (float)Math.Cos(i)).ToArray());
        var rms = new Rmsprop(p, 7e-4);
        Array.Fill(p.Gradients, 0.3f);
        for (int i = 0; i < 3; i++) rms.Step(7e-4);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) rms.Step(7e-4 * (20 - i) / 20);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
