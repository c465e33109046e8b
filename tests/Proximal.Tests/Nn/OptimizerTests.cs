using Proximal.Nn;

namespace Proximal.Tests.Nn;

public class OptimizerTests
{
    private static Parameters Model(float[] values)
    {
        var p = new Parameters();
        p.Allocate(values.Length, "w");
        values.CopyTo(p.Values, 0);
        return p;
    }

    // 19 entries: vector body plus scalar tail on any vector width.
    private static readonly float[] Theta0 = Enumerable.Range(0, 19).Select(i => 0.1f * i - 0.7f).ToArray();
    private static float[] Grad(int step) => Enumerable.Range(0, 19).Select(i => (float)Math.Sin(i + 3 * step) * (i % 4 == 0 ? 1e-3f : 1f)).ToArray();

    [Fact]
    public void AdamMatchesHandComputedSteps()
    {
        var p = Model(Theta0);
        var adam = new Adam(p, 1e-2);
        double[] theta = Theta0.Select(v => (double)v).ToArray(), m = new double[19], v = new double[19];
        double[] lrs = [1e-2, 5e-3, 2.5e-3];
        for (int t = 1; t <= 3; t++)
        {
            var g = Grad(t);
            g.CopyTo(p.Gradients, 0);
            var before = (float[])p.Values.Clone();
            adam.Step(lrs[t - 1]);
            if (t == 1)
            {
                // Bias correction, checked in closed form rather than through the recurrence: at step 1
                // m̂ = g and v̂ = g², so Δθ = −lr·g/(|g| + ε), i.e. ≈ lr·sign(g) wherever |g| ≫ ε. Without the
                // correction the step would be lr·0.1g/(√0.001·|g| + ε) ≈ 3.16·lr, with only the first
                // 0.1·lr, with only the second 31.6·lr.
                for (int i = 0; i < 19; i++)
                {
                    double expected = -lrs[0] * g[i] / (Math.Abs(g[i]) + 1e-5);
                    Assert.True(Math.Abs(p.Values[i] - before[i] - expected) <= 1e-6 * Math.Abs(expected) + 2e-7,
                        $"step 1 moved θ[{i}] by {p.Values[i] - before[i]:E6}; bias-corrected Adam moves it by {expected:E6}");
                    if (Math.Abs(g[i]) >= 1e-3) Assert.InRange(Math.Abs(p.Values[i] - before[i]) / lrs[0], 0.98, 1.0 + 1e-5);
                }
            }
            for (int i = 0; i < 19; i++)
            {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(0.9, t)), vHat = v[i] / (1 - Math.Pow(0.999, t));
                theta[i] -= lrs[t - 1] * mHat / (Math.Sqrt(vHat) + 1e-5);
            }
            Assert.Equal(t, adam.StepCount);
            Reference.Close(theta, p.Values, 1e-6, 1e-6, $"θ after step {t}");
            Reference.Close(m, adam.FirstMoment, 1e-7, 1e-6, "m");
            Reference.Close(v, adam.SecondMoment, 1e-9, 1e-5, "v");
        }
        Assert.Equal(lrs[2], adam.LearningRate);
    }

    [Fact]
    public void AdamStateRoundTripsExactly()
    {
        var a = new Adam(Model(Theta0), 3e-4);
        for (int t = 1; t <= 2; t++) { Grad(t).CopyTo(a.Parameters.Gradients, 0); a.Step(); }
        var b = new Adam(Model(a.Parameters.Values), 3e-4);
        b.LoadState(a.FirstMoment, a.SecondMoment, a.StepCount);
        Grad(3).CopyTo(a.Parameters.Gradients, 0); a.Step();
        Grad(3).CopyTo(b.Parameters.Gradients, 0); b.Step();
        Assert.Equal(a.Parameters.Values, b.Parameters.Values);
        Assert.Equal(a.FirstMoment, b.FirstMoment);
        Assert.Equal(3, b.StepCount);
        b.Reset();
        Assert.Equal(0, b.StepCount);
        Assert.All(b.SecondMoment, x => Assert.Equal(0f, x));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.9)]
    public void SgdMatchesHandComputedSteps(double momentum)
    {
        var p = Model(Theta0);
        var sgd = new Sgd(p, 0.1, momentum);
        double[] theta = Theta0.Select(v => (double)v).ToArray(), u = new double[19];
        for (int t = 1; t <= 3; t++)
        {
            var g = Grad(t);
            g.CopyTo(p.Gradients, 0);
            sgd.Step(0.1 / t);
            for (int i = 0; i < 19; i++)
            {
                u[i] = momentum * u[i] + g[i];
                theta[i] -= 0.1 / t * u[i];
            }
            Reference.Close(theta, p.Values, 1e-6, 1e-6, $"θ after step {t}");
        }
    }

    [Fact]
    public void ClippingScalesToMaxNormAndReportsNormBefore()
    {
        var g = Enumerable.Range(0, 1001).Select(i => (float)Math.Cos(i)).ToArray();
        double expected = Math.Sqrt(g.Sum(x => (double)x * x));
        var p = Model(new float[g.Length]);
        g.CopyTo(p.Gradients, 0);
        double before = p.ClipGradientNorm(0.5);
        Assert.Equal(expected, before, 1e-9 * expected);
        Assert.Equal(0.5, p.GradientNorm(), 1e-6);
        for (int i = 0; i < g.Length; i++) Assert.Equal(g[i] * 0.5 / expected, p.Gradients[i], 1e-6);
        // Below the threshold nothing changes.
        var copy = p.Gradients.ToArray();
        Assert.Equal(0.5, p.ClipGradientNorm(1.0), 1e-6);
        Assert.Equal(copy, p.Gradients);
    }

    [Fact]
    public void NormIsAccumulatedInDouble()
    {
        // A float running sum of squares starting at 2²⁴ drops every +1 (float spacing there is 2);
        // the double accumulation must count all 65535 of them.
        var g = new float[1 << 16];
        g[0] = 4096f; // 4096² = 2²⁴: adding 1.0f to a float 2²⁴ is lost
        for (int i = 1; i < g.Length; i++) g[i] = 1f;
        double expected = Math.Sqrt(4096.0 * 4096.0 + (g.Length - 1));
        Assert.Equal(expected, GradientClipping.Norm(g), 1e-9 * expected);
    }

    [Fact]
    public void NonFiniteGradientsAreReportedNotScaled()
    {
        var g = new float[] { 1f, float.NaN, 2f };
        Assert.True(double.IsNaN(GradientClipping.ClipGlobalNorm(g, 0.5)));
        Assert.Equal(1f, g[0]);
        Assert.Equal(2f, g[2]);
    }

    [Fact]
    public void LinearScheduleInterpolatesAndClamps()
    {
        var s = new LinearSchedule(3e-4, 0);
        Assert.Equal(3e-4, s.ValueAt(0));
        Assert.Equal(1.5e-4, s.ValueAt(0.5), 1e-15);
        Assert.Equal(0, s.ValueAt(1));
        Assert.Equal(0, s.ValueAt(1.2));
        Assert.Equal(3e-4, s.ValueAt(-0.1));
        var e = new LinearSchedule(1.0, 0.05, endFraction: 0.1);
        Assert.Equal(0.525, e.ValueAt(0.05), 1e-12);
        Assert.Equal(0.05, e.ValueAt(0.5));
        Assert.Equal(0.25, LinearSchedule.Value(0, 1, 0.25));
        Assert.Equal(7, new ConstantSchedule(7).ValueAt(0.3));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.ValueAt(double.NaN));
    }
}
