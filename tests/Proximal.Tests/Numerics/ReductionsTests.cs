using Proximal.Numerics;

namespace Proximal.Tests.Numerics;

public sealed class ReductionsTests
{
    [Fact]
    public void MeanInDoubleSumsLeftToRightInDouble()
    {
        // 1e8f + 1 + 1 + ... is lost in float arithmetic but kept in double: the mean must see every small term.
        var v = new float[1001];
        v[0] = 1e8f;
        for (int i = 1; i < v.Length; i++) v[i] = 1f;
        double expected = (1e8 + 1000.0) / 1001.0;
        Assert.Equal(expected, Reductions.MeanInDouble(v), 12);

        var rng = new Rng(7);
        var w = new float[333];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 1e3f;
        double s = 0;
        for (int i = 0; i < w.Length; i++) s += w[i];
        Assert.Equal(s / w.Length, Reductions.MeanInDouble(w)); // the same order, so every bit equal
    }

    [Fact]
    public void MeanOfNothingIsNaN() => Assert.True(double.IsNaN(Reductions.MeanInDouble([])));
}
