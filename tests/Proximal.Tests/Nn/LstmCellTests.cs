using System.Runtime.Intrinsics;
using Proximal.Nn;

namespace Proximal.Tests.Nn;

public class LstmCellTests
{
    private static float[] Apply(Func<Vector256<float>, Vector256<float>> f, float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i += 8) f(Vector256.Create(x, i)).CopyTo(y, i);
        return y;
    }

    private static float[] Grid()
    {
        var x = new List<float>();
        for (double v = -100; v <= 100; v += 0.0173) x.Add((float)v);
        foreach (float v in new[] { 0f, -0f, 1e-7f, -1e-7f, 1e-3f, -1e-3f, 87f, 88.3f, 88.7f, 89f, -87f, -87.5f, -104f, 1e30f, -1e30f }) x.Add(v);
        while (x.Count % 8 != 0) x.Add(0.5f);
        return [.. x];
    }

    /// <summary>The single-precision exponential against float64, in ulps, over the range σ and tanh use.</summary>
    [Fact]
    public void ExpIsWithinTwoUlpsOfFloat64InTheNormalRange()
    {
        var x = Grid();
        var y = Apply(LstmCell.Exp, x);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Exp(x[i]);
            if (x[i] is >= -87.3f and <= 88.3f)
            {
                // two ulps at the bottom of a binade: 2 · 2⁻²³ relative
                Assert.True(Math.Abs(y[i] - e) <= 2 * Math.ScaleB(1, -23) * e, $"exp({x[i]}) = {y[i]}, float64 {e}");
            }
            else Assert.True(y[i] > 0 && float.IsFinite(y[i]) && (x[i] > 0 ? y[i] > 1e38f : y[i] < 2e-38f), $"saturation: exp({x[i]}) = {y[i]}");
        }
        Assert.True(float.IsNaN(LstmCell.Exp(Vector256.Create(float.NaN)).ToScalar()));
    }

    [Fact]
    public void SigmoidAndTanhMatchFloat64()
    {
        var x = Grid();
        var s = Apply(LstmCell.Sigmoid, x);
        var t = Apply(LstmCell.Tanh, x);
        for (int i = 0; i < x.Length; i++)
        {
            double sr = 1 / (1 + Math.Exp(-(double)x[i])), tr = Math.Tanh(x[i]);
            Assert.True(Math.Abs(s[i] - sr) <= 3e-7 * sr + 1e-37, $"sigmoid({x[i]}) = {s[i]}, float64 {sr}");
            // tanh via e^(−2|z|) − 1 loses relative (not absolute) precision near 0, as TensorPrimitives.Tanh does.
            Assert.True(Math.Abs(t[i] - tr) <= 3e-7 * Math.Abs(tr) + 1.2e-7, $"tanh({x[i]}) = {t[i]}, float64 {tr}");
            Assert.True(Math.Abs(t[i]) <= 1f && Math.Sign(t[i]) == Math.Sign(tr) || tr == 0 || Math.Abs(tr) < 1e-7);
        }
    }

    /// <summary>The Vector512 versions (the fused step's AVX-512 tiles) give every lane the Vector256 versions' bits.</summary>
    [Fact]
    public void Vector512FunctionsGiveTheVector256Bits()
    {
        var x = Grid();
        while (x.Length % 16 != 0) x = [.. x, 0.25f];
        foreach (var (f256, f512, name) in new (Func<Vector256<float>, Vector256<float>>, Func<Vector512<float>, Vector512<float>>, string)[]
                 { (LstmCell.Exp, LstmCell.Exp, "exp"), (LstmCell.Sigmoid, LstmCell.Sigmoid, "sigmoid"), (LstmCell.Tanh, LstmCell.Tanh, "tanh") })
        {
            var narrow = Apply(f256, x);
            var wide = new float[x.Length];
            for (int i = 0; i < x.Length; i += 16) f512(Vector512.Create(x, i)).CopyTo(wide, i);
            for (int i = 0; i < x.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(narrow[i]) == BitConverter.SingleToInt32Bits(wide[i]), $"{name}({x[i]}): {narrow[i]} vs {wide[i]}");
        }
    }
}
