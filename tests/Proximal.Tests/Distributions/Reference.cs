using Proximal.Numerics;

namespace Proximal.Tests.Distributions;

/// <summary>
/// Float64 reference formulas, written directly (no shared code with the library), and the
/// central-difference helper the gradient tests use.
/// </summary>
internal static class Reference
{
    public static float[] Randn(Rng rng, int n, double scale = 1, double shift = 0)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(shift + scale * rng.NextGaussian());
        return x;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++) d[i] = x[i];
        return d;
    }

    /// <summary>Probabilities of one row (masked → 0), by a plain softmax in float64.</summary>
    public static double[] Softmax(ReadOnlySpan<double> z, ReadOnlySpan<bool> mask)
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < z.Length; i++) if ((mask.IsEmpty || mask[i]) && z[i] > max) max = z[i];
        var p = new double[z.Length];
        double s = 0;
        for (int i = 0; i < z.Length; i++) { p[i] = mask.IsEmpty || mask[i] ? Math.Exp(z[i] - max) : 0; s += p[i]; }
        for (int i = 0; i < z.Length; i++) p[i] /= s;
        return p;
    }

    public static double CatLogProb(ReadOnlySpan<double> z, ReadOnlySpan<bool> mask, int a) => Math.Log(Softmax(z, mask)[a]);

    public static double CatEntropy(ReadOnlySpan<double> z, ReadOnlySpan<bool> mask)
    {
        var p = Softmax(z, mask);
        double h = 0;
        foreach (double pi in p) if (pi > 0) h -= pi * Math.Log(pi);
        return h;
    }

    public static double CatKl(ReadOnlySpan<double> zOld, ReadOnlySpan<double> zNew, ReadOnlySpan<bool> mask)
    {
        var p = Softmax(zOld, mask);
        var q = Softmax(zNew, mask);
        double kl = 0;
        for (int i = 0; i < p.Length; i++) if (p[i] > 0) kl += p[i] * Math.Log(p[i] / q[i]);
        return kl;
    }

    public static double GaussLogProb(double a, double mu, double logStd)
    {
        double sigma = Math.Exp(logStd);
        return -0.5 * Math.Log(2 * Math.PI * sigma * sigma) - (a - mu) * (a - mu) / (2 * sigma * sigma);
    }

    public static double GaussEntropy(double logStd) => 0.5 * Math.Log(2 * Math.PI * Math.E * Math.Exp(2 * logStd));

    public static double GaussKl(double muO, double lsO, double muN, double lsN)
    {
        double vo = Math.Exp(2 * lsO), vn = Math.Exp(2 * lsN);
        return 0.5 * (Math.Log(vn / vo) + (vo + (muO - muN) * (muO - muN)) / vn - 1);
    }

    /// <summary>log(1 − tanh² u) = −2 log cosh u, with log cosh u = |u| + log(1 + e^{−2|u|}) − log 2.</summary>
    public static double LogSech2(double u)
    {
        double au = Math.Abs(u);
        return -2 * (au + Math.Log(1 + Math.Exp(-2 * au)) - Math.Log(2));
    }

    /// <summary>Central differences of f at x in float64, one coordinate at a time.</summary>
    public static double[] NumericGradient(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + h; double up = f(x);
            x[i] = keep - h; double down = f(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    public static void Close(double expected, double actual, double abs, double rel, string what)
    {
        double tol = abs + rel * Math.Abs(expected);
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R} (tolerance {tol:G3})");
    }

    public static void AllClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double abs, double rel, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Close(expected[i], actual[i], abs, rel, $"{what}[{i}]");
    }

    public static bool[] RandomMask(Rng rng, int rows, int n, double keep)
    {
        var m = new bool[rows * n];
        for (int b = 0; b < rows; b++)
        {
            for (int i = 0; i < n; i++) m[b * n + i] = rng.NextDouble() < keep;
            m[b * n + rng.NextInt(n)] = true; // every row keeps at least one action
        }
        return m;
    }
}
