using Proximal.Algorithms.OnPolicy;

namespace Proximal.Tests.Algorithms;

public class GaeTests
{
    [Fact]
    public void MatchesHandComputedValuesWithTerminationAndTruncation()
    {
        // T = 3 steps, N = 2 envs, time-major (t·2 + i).
        // env 0: s0 → s1 → s2 terminated at t = 1 (so t = 2 starts a new episode), bootstrap from last value.
        // env 1: truncated at t = 0 (bootstrap from V(final) = 10), then continues to the end.
        double g = 0.9, l = 0.8;
        float[] r = { 1, 2, 3, 4, 5, 6 };
        float[] v = { 0.5f, 1, 1.5f, 2, 2.5f, 3 };
        bool[] term = { false, false, true, false, false, false };
        bool[] trunc = { false, true, false, false, false, false };
        float[] tv = { 0, 10, 0, 0, 0, 0 };
        float[] last = { 7, 8 };
        var adv = new float[6]; var ret = new float[6];
        Gae.Compute(3, 2, g, l, r, v, term, trunc, tv, last, adv, ret);

        // env 0
        double d02 = 5 + g * 7 - 2.5;          // t=2: bootstrap from lastValues[0]
        double a02 = d02;
        double d01 = 3 + g * 0 - 1.5;          // t=1: terminated → no bootstrap, chain cut
        double a01 = d01;
        double d00 = 1 + g * 1.5 - 0.5;        // t=0: next value is V(s_1) = 1.5
        double a00 = d00 + g * l * a01;
        // env 1
        double d12 = 6 + g * 8 - 3;
        double a12 = d12;
        double d11 = 4 + g * 3 - 2;
        double a11 = d11 + g * l * a12;
        double d10 = 2 + g * 10 - 1;           // t=0: truncated → bootstrap from V(final) = 10, chain cut
        double a10 = d10;

        double[] expected = { a00, a10, a01, a11, a02, a12 };
        for (int k = 0; k < 6; k++)
        {
            Assert.Equal(expected[k], adv[k], 5);
            Assert.Equal(expected[k] + v[k], ret[k], 5);
        }
    }

    [Fact]
    public void LambdaOneGammaOneGivesMonteCarloReturnsMinusValues()
    {
        float[] r = { 1, 1, 1, 1 };
        float[] v = { 0.1f, 0.2f, 0.3f, 0.4f };
        var f = new bool[4]; var term = new bool[] { false, false, false, true };
        var adv = new float[4]; var ret = new float[4];
        Gae.Compute(4, 1, 1.0, 1.0, r, v, term, f, new float[4], new float[] { 99 }, adv, ret);
        Assert.Equal(new float[] { 4, 3, 2, 1 }, ret);
    }

    [Fact]
    public void WrongLengthsAreNamed()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gae.Compute(2, 2, 0.99, 0.95, new float[3], new float[4], new bool[4], new bool[4], new float[4], new float[2], new float[4], new float[4]));
        Assert.Contains("rewards", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gae.Compute(1, 1, 1.5, 0.95, new float[1], new float[1], new bool[1], new bool[1], new float[1], new float[1], new float[1], new float[1]));
    }
}
