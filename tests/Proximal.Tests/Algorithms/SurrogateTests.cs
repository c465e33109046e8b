using Proximal.Algorithms.OnPolicy;

namespace Proximal.Tests.Algorithms;

public class SurrogateTests
{
    private static (float[] newLp, float[] oldLp, float[] adv) Batch()
    {
        // ratios exp(new − old): 1.0, 1.5, 0.6, 1.1, 0.7, 1.3 and advantages of both signs.
        double[] ratios = { 1.0, 1.5, 0.6, 1.1, 0.7, 1.3 };
        float[] adv = { 1, 2, -1, -0.5f, 0.8f, -2 };
        var oldLp = new float[] { -1, -0.5f, -2, -1.2f, -0.3f, -0.9f };
        var newLp = new float[6];
        for (int i = 0; i < 6; i++) newLp[i] = (float)(oldLp[i] + Math.Log(ratios[i]));
        return (newLp, oldLp, adv);
    }

    [Fact]
    public void ClipLossAndGradientMatchFloat64ReferenceAndAreZeroExactlyWhereClipped()
    {
        var (n, o, a) = Batch();
        var grad = new float[6];
        var stats = Surrogate.PolicyLoss(SurrogateKind.Clip, 0.2, n, o, a, grad);
        double sum = 0;
        for (int i = 0; i < 6; i++)
        {
            double r = Math.Exp((double)n[i] - o[i]);
            sum += Math.Min(r * a[i], Math.Clamp(r, 0.8, 1.2) * a[i]);
            // Finite difference in float64 of the per-sample objective, divided by the batch size.
            double h = 1e-6;
            double f(double lp) { double rr = Math.Exp(lp - o[i]); return -Math.Min(rr * a[i], Math.Clamp(rr, 0.8, 1.2) * a[i]) / 6; }
            double fd = (f(n[i] + h) - f(n[i] - h)) / (2 * h);
            Assert.Equal(fd, grad[i], 5);
        }
        Assert.Equal(-sum / 6, stats.Loss, 6);
        // Paper Fig. 1: A > 0 and r > 1+ε (sample 1), A < 0 and r < 1−ε (sample 2): zero gradient.
        Assert.Equal(0f, grad[1]);
        Assert.Equal(0f, grad[2]);
        // A > 0 with r < 1−ε (sample 4) and A < 0 with r > 1+ε (sample 5) keep the gradient (pessimistic bound).
        Assert.NotEqual(0f, grad[4]);
        Assert.NotEqual(0f, grad[5]);
        Assert.Equal(4.0 / 6, stats.ClipFraction, 6); // samples 1, 2, 4, 5 are outside [0.8, 1.2]
    }

    [Fact]
    public void RatioOneGivesZeroKlAndPlainAdvantageGradient()
    {
        float[] lp = { -1, -2, -0.5f };
        float[] a = { 1, -1, 2 };
        var grad = new float[3];
        var s = Surrogate.PolicyLoss(SurrogateKind.Clip, 0.2, lp, lp, a, grad);
        Assert.Equal(0, s.ApproxKl);
        Assert.Equal(0, s.ApproxKlNaive);
        Assert.Equal(0, s.ClipFraction);
        Assert.Equal(-(1 - 1 + 2) / 3.0, s.Loss, 12);
        Assert.Equal(new float[] { -1f / 3, 1f / 3, -2f / 3 }, grad);
    }

    [Theory]
    [InlineData(SurrogateKind.None)]
    [InlineData(SurrogateKind.FixedKl)]
    [InlineData(SurrogateKind.AdaptiveKl)]
    public void UnclippedSurrogateIsRatioTimesAdvantage(SurrogateKind kind)
    {
        var (n, o, a) = Batch();
        var grad = new float[6];
        var s = Surrogate.PolicyLoss(kind, 0.2, n, o, a, grad);
        double sum = 0;
        for (int i = 0; i < 6; i++)
        {
            double r = Math.Exp((double)n[i] - o[i]);
            sum += r * a[i];
            Assert.Equal(-r * a[i] / 6, grad[i], 6);
        }
        Assert.Equal(-sum / 6, s.Loss, 6);
        // Approx-KL estimators against their definitions.
        double k1 = 0, k2 = 0;
        for (int i = 0; i < 6; i++) { double lr = (double)n[i] - o[i]; k1 += -lr; k2 += Math.Exp(lr) - 1 - lr; }
        Assert.Equal(k1 / 6, s.ApproxKlNaive, 6);
        Assert.Equal(k2 / 6, s.ApproxKl, 6);
    }

    [Theory]
    [InlineData(0.001, 1.0, 0.5)]   // d < d_targ/1.5 → halve
    [InlineData(0.02, 1.0, 2.0)]    // d > 1.5·d_targ → double
    [InlineData(0.01, 1.0, 1.0)]    // inside the band → unchanged
    [InlineData(0.0067, 3.0, 3.0)]  // just above d_targ/1.5
    [InlineData(0.0066, 3.0, 1.5)]  // just below d_targ/1.5
    public void AdaptiveBetaFollowsThePaperRule(double kl, double beta, double expected)
        => Assert.Equal(expected, Surrogate.AdaptBeta(beta, kl, 0.01));

    [Fact]
    public void ValueLossWithAndWithoutClipping()
    {
        float[] v = { 1, 2, 3 };
        float[] vOld = { 1.5f, 1, 3 };
        float[] ret = { 0, 3, 4 };
        var g = new float[3];
        double plain = Surrogate.ValueLoss(v, vOld, ret, null, g);
        Assert.Equal(0.5 * (1 + 1 + 1) / 3, plain, 12);
        Assert.Equal(new float[] { 1f / 3, -1f / 3, -1f / 3 }, g);

        double clipped = Surrogate.ValueLoss(v, vOld, ret, 0.2, g);
        // sample 0: delta −0.5 → clipped 1.3, err 1.3² = 1.69 > 1 → clipped branch, outside band → grad 0
        // sample 1: delta +1 → clipped 1.2, err (1.2−3)² = 3.24 > 1 → clipped branch, grad 0
        // sample 2: delta 0 → same, plain branch
        Assert.Equal(0.5 * (1.69 + 3.24 + 1) / 3, clipped, 6);
        Assert.Equal(0f, g[0]);
        Assert.Equal(0f, g[1]);
        Assert.Equal(-1f / 3, g[2]);
    }

    [Fact]
    public void AdvantageNormalisationGivesMeanZeroStdOne()
    {
        float[] a = { 1, 2, 3, 4, 10 };
        Surrogate.NormalizeAdvantages(a);
        double m = a.Average(x => (double)x);
        double s = Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / 4);
        Assert.Equal(0, m, 6);
        Assert.Equal(1, s, 5);
    }

    [Fact]
    public void ExplainedVarianceIsOneForPerfectValues()
    {
        float[] y = { 1, 2, 3 };
        Assert.Equal(1, Surrogate.ExplainedVariance(y, y), 12);
        Assert.Equal(0, Surrogate.ExplainedVariance(new float[] { 2, 2, 2 }, y), 12);
    }
}
