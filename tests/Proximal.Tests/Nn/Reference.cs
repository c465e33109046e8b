using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

/// <summary>Float64 reference forward passes and finite-difference helpers for the layer tests.</summary>
internal static class Reference
{
    public delegate double[] Forward(double[] theta, double[] x);

    public static double[] Linear(Linear layer, double[] theta, double[] x, int batch)
    {
        int nin = layer.InputSize, nout = layer.OutputSize;
        var y = new double[batch * nout];
        for (int b = 0; b < batch; b++)
        for (int o = 0; o < nout; o++)
        {
            double s = theta[layer.Bias.Offset + o];
            for (int k = 0; k < nin; k++) s += x[b * nin + k] * theta[layer.Weight.Offset + o * nin + k];
            y[b * nout + o] = s;
        }
        return y;
    }

    public static double[] Act(Activation a, double[] x) =>
        x.Select(v => a == Activation.Tanh ? Math.Tanh(v) : Math.Max(v, 0)).ToArray();

    public static double[] Mlp(Mlp mlp, double[] theta, double[] x, int batch)
    {
        var h = x;
        for (int i = 0; i < mlp.Linears.Count; i++)
        {
            h = Linear(mlp.Linears[i], theta, h, batch);
            if (i < mlp.Linears.Count - 1) h = Act(mlp.HiddenActivation, h);
        }
        return h;
    }

    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Central differences of L(θ, x) = Σ c·f(θ, x) w.r.t. every θ and every x.</summary>
    public static (double[] dTheta, double[] dX) Gradients(Forward f, double[] theta, double[] x, double[] c, double h = 1e-6)
    {
        var dTheta = new double[theta.Length];
        for (int i = 0; i < theta.Length; i++)
        {
            double keep = theta[i];
            theta[i] = keep + h; double lp = Dot(c, f(theta, x));
            theta[i] = keep - h; double lm = Dot(c, f(theta, x));
            theta[i] = keep;
            dTheta[i] = (lp - lm) / (2 * h);
        }
        var dX = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + h; double lp = Dot(c, f(theta, x));
            x[i] = keep - h; double lm = Dot(c, f(theta, x));
            x[i] = keep;
            dX[i] = (lp - lm) / (2 * h);
        }
        return (dTheta, dX);
    }

    /// <summary>Central difference of f along the direction (θ̇, ẋ).</summary>
    public static double[] DirectionalDerivative(Forward f, double[] theta, double[] x, double[] dTheta, double[] dX, double h = 1e-6)
    {
        var tp = theta.Select((v, i) => v + h * dTheta[i]).ToArray();
        var tm = theta.Select((v, i) => v - h * dTheta[i]).ToArray();
        var xp = x.Select((v, i) => v + h * dX[i]).ToArray();
        var xm = x.Select((v, i) => v - h * dX[i]).ToArray();
        var yp = f(tp, xp); var ym = f(tm, xm);
        return yp.Select((v, i) => (v - ym[i]) / (2 * h)).ToArray();
    }

    public static float[] RandomFloats(Rng rng, int n, double scale = 1.0)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(scale * rng.NextGaussian());
        return a;
    }

    public static double[] ToDouble(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }

    /// <summary>Float32 results against float64 references: |a − e| ≤ abs + rel·|e| element-wise.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double abs = 1e-4, double rel = 1e-3, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            if (err > abs + rel * Math.Abs(expected[i]))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (error {err:E2}).");
        }
    }
}
