using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Spaces;

public class SpaceTests
{
    [Fact]
    public void BoxContainsExplainsAndSamples()
    {
        var box = new Box(new[] { -1f, 0f, float.NegativeInfinity, 2f }, new[] { 1f, float.PositiveInfinity, float.PositiveInfinity, 2f });
        Assert.True(box.Contains(new[] { 0f, 5f, -1e30f, 2f }));
        Assert.Equal("element 0 = 1.5 is outside [-1, 1]", box.Explain(new[] { 1.5f, 0f, 0f, 2f }));
        Assert.Equal("element 2 is NaN", box.Explain(new[] { 0f, 0f, float.NaN, 2f }));
        Assert.Contains("expected 4 values", box.Explain(new[] { 0f }));
        Assert.False(box.IsBounded);
        var rng = new Rng(1);
        var x = new float[4];
        double sum1 = 0;
        for (int i = 0; i < 2000; i++)
        {
            box.Sample(rng, x);
            Assert.True(box.Contains(x), box.Explain(x));
            sum1 += x[1];
        }
        Assert.InRange(sum1 / 2000, 0.8, 1.2); // exponential(1) above the lower bound
        Assert.Throws<ArgumentException>(() => box.Sample(rng, new float[3]));
    }

    [Fact]
    public void BoxValidatesItsArguments()
    {
        Assert.Contains("low 2 is above high 1", Assert.Throws<ArgumentException>(() => new Box(2f, 1f, 3)).Message);
        Assert.Contains("dimension 0", Assert.Throws<ArgumentException>(() => new Box(0f, 1f, 2, 0)).Message);
        Assert.Contains("needs 6", Assert.Throws<ArgumentException>(() => new Box(new float[2], new float[2], new[] { 2, 3 })).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => new Box(new[] { float.NaN }, new[] { 1f })).Message);
        Assert.Equal(new[] { 2, 3 }, new Box(0f, 1f, 2, 3).Shape);
        Assert.Equal(6, new Box(0f, 1f, 2, 3).FlatSize);
    }

    [Fact]
    public void DiscreteAndMultiDiscrete()
    {
        var d = new Discrete(3, start: -1);
        Assert.True(d.Contains(new[] { -1f }) && d.Contains(new[] { 1f }));
        Assert.Equal("value 2 is outside [-1, 1]", d.Explain(new[] { 2f }));
        Assert.Equal("value 0.5 is not an integer", d.Explain(new[] { 0.5f }));
        var rng = new Rng(2);
        var counts = new int[3];
        var x = new float[1];
        for (int i = 0; i < 3000; i++) { d.Sample(rng, x); counts[(int)x[0] + 1]++; }
        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Discrete(0));

        var md = new MultiDiscrete(2, 5);
        Assert.Equal(2, md.FlatSize);
        Assert.Equal("element 1 = 5 is outside [0, 4]", md.Explain(new[] { 1f, 5f }));
        var y = new float[2];
        for (int i = 0; i < 500; i++) { md.Sample(rng, y); Assert.True(md.Contains(y)); }
        Assert.Contains("component 1 has n = 0", Assert.Throws<ArgumentException>(() => new MultiDiscrete(2, 0)).Message);
    }
}
