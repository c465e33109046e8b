using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public sealed class PolyakTests
{
    [Theory]
    [InlineData(0.005, 1)]
    [InlineData(0.005, 37)]   // a tail after the SIMD blocks
    [InlineData(0.3, 1031)]
    public void TheLerpEqualsTheScalarFormulaBitForBitAndTheFloat64OneClosely(double tau, int n)
    {
        var rng = new Rng(5);
        var online = Reference.RandomFloats(rng, n, 3);
        var target = Reference.RandomFloats(rng, n, 3);
        var before = (float[])target.Clone();
        Polyak.Update(online, target, tau);
        float a = (float)tau, keep = (float)(1 - tau);
        for (int i = 0; i < n; i++)
        {
            float expected = before[i] * keep + online[i] * a;
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(target[i]));
            double exact = (1 - tau) * before[i] + tau * online[i];
            Assert.True(Math.Abs(target[i] - exact) <= 2e-7 * (Math.Abs(exact) + 1), $"[{i}] {target[i]} vs {exact}");
        }
    }

    [Fact]
    public void TauZeroKeepsTheTargetAndTauOneCopiesTheOnlineValues()
    {
        var rng = new Rng(6);
        var online = Reference.RandomFloats(rng, 100, 2);
        var target = Reference.RandomFloats(rng, 100, 2);
        var keep = (float[])target.Clone();
        Polyak.Update(online, target, 0);
        Assert.Equal(keep, target);
        Polyak.Update(online, target, 1);
        Assert.Equal(online, target);
    }

    [Fact]
    public void ParameterSetsMustShareTheirLayout()
    {
        var a = new Parameters(); a.Allocate(4, "w"); a.Allocate(2, "b");
        var b = new Parameters(); b.Allocate(4, "w"); b.Allocate(2, "b");
        var c = new Parameters(); c.Allocate(2, "b"); c.Allocate(4, "w");
        a.Values.AsSpan().Fill(1);
        Polyak.Update(a, b, 0.5);
        Assert.All(b.Values, v => Assert.Equal(0.5f, v));
        Assert.Throws<ArgumentException>(() => Polyak.Update(a, c, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Polyak.Update(a, b, 1.5));
    }
}
