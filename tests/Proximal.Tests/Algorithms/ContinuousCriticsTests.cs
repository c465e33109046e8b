using Proximal.Algorithms.Policies;
using Proximal.Numerics;
using NnRef = Proximal.Tests.Nn.Reference;

namespace Proximal.Tests.Algorithms;

public sealed class ContinuousCriticsTests
{
    private const int Od = 3, Ad = 2, B = 5;

    private static double[] Input(float[] obs, float[] act)
    {
        var x = new double[B * (Od + Ad)];
        for (int b = 0; b < B; b++)
        {
            for (int j = 0; j < Od; j++) x[b * (Od + Ad) + j] = obs[b * Od + j];
            for (int j = 0; j < Ad; j++) x[b * (Od + Ad) + Od + j] = act[b * Ad + j];
        }
        return x;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)] // quantile critics
    public void ForwardIntoCallerOwnedArraysMatchesFloat64AndSurvivesLaterCalls(int m)
    {
        var rng = new Rng(2);
        var critics = new ContinuousCritics(Od, Ad, 2, [8, 6], rng, outputsPerCritic: m);
        var obs = NnRef.RandomFloats(rng, B * Od); var act = NnRef.RandomFloats(rng, B * Ad);
        var q = new float[2 * B * m];
        critics.Forward(obs, act, B, q);
        var keep = (float[])q.Clone();
        var other = new float[2 * B * m];
        critics.Forward(NnRef.RandomFloats(rng, B * Od), NnRef.RandomFloats(rng, B * Ad), B, other);
        Assert.Equal(keep, q); // a later forward does not touch the first destination
        var theta = NnRef.ToDouble(critics.Parameters.Values);
        var x = Input(obs, act);
        for (int k = 0; k < 2; k++)
            NnRef.Close(NnRef.Mlp(critics.Networks[k], theta, x, B), q.AsSpan(k * B * m, B * m), 1e-5, 1e-4, $"critic {k}");
    }

    [Fact]
    public void BackwardGivesParameterAndActionGradientsOfTheWeightedSumAgainstFiniteDifferences()
    {
        var rng = new Rng(3);
        var critics = new ContinuousCritics(Od, Ad, 2, [7, 5], rng);
        var obs = NnRef.RandomFloats(rng, B * Od); var act = NnRef.RandomFloats(rng, B * Ad);
        var c = NnRef.RandomFloats(rng, 2 * B);
        critics.Forward(obs, act, B, new float[2 * B]);
        critics.Parameters.ZeroGradients();
        var gradActions = new float[B * Ad];
        gradActions.AsSpan().Fill(99); // set, not accumulated
        critics.Backward(c, gradActions);

        double L(double[] theta, double[] x)
        {
            double s = 0;
            for (int k = 0; k < 2; k++)
            {
                var y = NnRef.Mlp(critics.Networks[k], theta, x, B);
                for (int b = 0; b < B; b++) s += c[k * B + b] * y[b];
            }
            return s;
        }
        var th = NnRef.ToDouble(critics.Parameters.Values);
        var xs = Input(obs, act);
        var (dTheta, dX) = NnRef.Gradients((t, x) => [L(t, x)], th, xs, [1.0]);
        NnRef.Close(dTheta, critics.Parameters.Gradients, 1e-4, 1e-3, "dθ");
        var dA = new double[B * Ad];
        for (int b = 0; b < B; b++) for (int j = 0; j < Ad; j++) dA[b * Ad + j] = dX[b * (Od + Ad) + Od + j];
        NnRef.Close(dA, gradActions, 1e-4, 1e-3, "da");
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 5)] // quantile critics, as TQC
    public void ActionGradientEqualsBackwardsActionGradientBitForBitAndLeavesParameterGradientsAlone(int m, int count)
    {
        var rng = new Rng(4);
        var critics = new ContinuousCritics(Od, Ad, count, [9, 7], rng, outputsPerCritic: m);
        var obs = NnRef.RandomFloats(rng, B * Od); var act = NnRef.RandomFloats(rng, B * Ad);
        var g = NnRef.RandomFloats(rng, count * B * m);
        critics.Forward(obs, act, B, new float[count * B * m]);
        critics.Parameters.ZeroGradients();
        var full = new float[B * Ad];
        critics.Backward(g, full);

        var dirty = NnRef.RandomFloats(rng, critics.Parameters.Count);
        dirty.CopyTo(critics.Parameters.Gradients, 0);
        var only = new float[B * Ad];
        only.AsSpan().Fill(99); // set, not accumulated
        critics.ActionGradient(g, only);
        Assert.Equal(full, only);                          // the same products in the same order
        Assert.Equal(dirty, critics.Parameters.Gradients); // d Q/d θ neither computed nor cleared
    }

    [Fact]
    public void ForwardOfTheFirstCriticOnlyAndItsActionGradientMatchTheFullEvaluation()
    {
        var rng = new Rng(5);
        var critics = new ContinuousCritics(Od, Ad, 2, [8, 6], rng);
        var obs = NnRef.RandomFloats(rng, B * Od); var act = NnRef.RandomFloats(rng, B * Ad);
        var both = new float[2 * B];
        critics.Forward(obs, act, B, both);
        var g = NnRef.RandomFloats(rng, B);
        var gBoth = new float[2 * B];
        g.CopyTo(gBoth, 0); // zero for the second critic: it adds nothing
        var expect = new float[B * Ad];
        critics.ActionGradient(gBoth, expect);

        var first = new float[B];
        critics.Forward(obs, act, B, first, critics: 1);
        Assert.Equal(both.AsSpan(0, B).ToArray(), first);
        var got = new float[B * Ad];
        critics.ActionGradient(g, got);
        Assert.Equal(expect, got);
        // Backward needs every critic's forward; the one-critic forward is for ActionGradient.
        Assert.Throws<InvalidOperationException>(() => critics.Backward(gBoth, got));
        Assert.Throws<ArgumentOutOfRangeException>(() => critics.Forward(obs, act, B, first, critics: 3));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 5)] // an odd count: the helper core takes critics 2..4, this one 0..1
    public void CriticsRunSideBySideOnTwoThreadsGiveTheSameBitsAsOneThread(int m, int count)
    {
        ContinuousCritics Make(int threads)
        {
            var c = new ContinuousCritics(Od, Ad, count, [9, 7], new Rng(8), outputsPerCritic: m) { Threads = threads };
            return c;
        }
        var one = Make(1);
        var two = Make(2);
        var rng = new Rng(9);
        for (int round = 0; round < 3; round++) // the helper thread is reused across calls
        {
            var obs = NnRef.RandomFloats(rng, B * Od); var act = NnRef.RandomFloats(rng, B * Ad);
            var g = NnRef.RandomFloats(rng, count * B * m);
            float[] q1 = new float[count * B * m], q2 = new float[count * B * m];
            one.Forward(obs, act, B, q1);
            two.Forward(obs, act, B, q2);
            Assert.Equal(q1, q2);
            one.Parameters.ZeroGradients(); two.Parameters.ZeroGradients();
            float[] a1 = new float[B * Ad], a2 = new float[B * Ad];
            one.Backward(g, a1);
            two.Backward(g, a2);
            Assert.Equal(a1, a2);
            Assert.Equal(one.Parameters.Gradients, two.Parameters.Gradients);
            Assert.Contains(two.Parameters.Gradients, x => x != 0);
            one.ActionGradient(g, a1);
            two.ActionGradient(g, a2);
            Assert.Equal(a1, a2);
            one.Parameters.ZeroGradients(); two.Parameters.ZeroGradients();
            one.Backward(g, default); // no action gradient wanted
            two.Backward(g, default);
            Assert.Equal(one.Parameters.Gradients, two.Parameters.Gradients);
        }
    }
}
