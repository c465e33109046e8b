using Proximal.Numerics;

namespace Proximal.Tests;

public class RngTests
{
    [Fact]
    public void SameSeedSameStream()
    {
        var a = new Rng(42); var b = new Rng(42);
        for (int i = 0; i < 1000; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void StateRoundTripsIncludingSpareGaussian()
    {
        var a = new Rng(7);
        a.NextGaussian(); // leaves a spare cached
        var s = a.GetState();
        var b = new Rng(0);
        b.SetState(s);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextGaussian(), b.NextGaussian());
    }

    [Fact]
    public void UniformAndGaussianMomentsAreRight()
    {
        var r = new Rng(1);
        const int n = 200_000;
        double su = 0, sg = 0, sg2 = 0;
        for (int i = 0; i < n; i++) { su += r.NextDouble(); double g = r.NextGaussian(); sg += g; sg2 += g * g; }
        Assert.InRange(su / n, 0.497, 0.503);
        Assert.InRange(sg / n, -0.01, 0.01);
        Assert.InRange(sg2 / n, 0.98, 1.02);
    }

    [Fact]
    public void NextIntIsUnbiasedAndInRange()
    {
        var r = new Rng(3);
        var counts = new int[3];
        for (int i = 0; i < 30_000; i++) counts[r.NextInt(3)]++;
        foreach (int c in counts) Assert.InRange(c, 9_600, 10_400);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.NextInt(0));
    }

    [Fact]
    public void SplitStreamsDifferFromParentAndAreReproducible()
    {
        var p1 = new Rng(5); var c1 = p1.Split();
        var p2 = new Rng(5); var c2 = p2.Split();
        Assert.Equal(c1.NextUInt64(), c2.NextUInt64());
        Assert.NotEqual(p1.NextUInt64(), c1.NextUInt64());
    }

    [Fact]
    public void CorruptStateIsRejected()
    {
        var r = new Rng(1);
        var ex = Assert.Throws<ArgumentException>(() => r.SetState(new ulong[6]));
        Assert.Contains("all zeros", ex.Message);
    }
}
