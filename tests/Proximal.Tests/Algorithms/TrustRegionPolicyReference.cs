using Proximal.Algorithms.Policies;
using Proximal.Nn;
using Proximal.Spaces;

namespace Proximal.Tests.Algorithms;

/// <summary>
/// A float64 re-implementation of a separate-network <see cref="ActorCritic"/> (tanh MLPs read from the flat
/// parameter vector by slice name) and of its Categorical / diagonal-Gaussian log-probability and entropy,
/// written from the formulas, so algorithm losses can be checked against code that shares nothing with the engine.
/// </summary>
internal sealed class TrustRegionPolicyReference(ActorCritic policy)
{
    private readonly Parameters _p = policy.Parameters;
    public bool Discrete { get; } = policy.ActionSpace is Discrete;
    public int OutputSize { get; } = policy.OutputSize;

    private double[] Mlp(string name, double[] theta, double[] x, int batch, int inputSize)
    {
        var h = x;
        int inSize = inputSize;
        for (int layer = 0; ; layer++)
        {
            string w = $"{name}.{layer}.weight";
            if (!_p.Slices.Any(s => s.Name == w)) return h;
            var ws = _p[w]; var bs = _p[$"{name}.{layer}.bias"];
            int outSize = bs.Length;
            var y = new double[batch * outSize];
            for (int r = 0; r < batch; r++)
                for (int o = 0; o < outSize; o++)
                {
                    double s = theta[bs.Offset + o];
                    for (int k = 0; k < inSize; k++) s += theta[ws.Offset + o * inSize + k] * h[r * inSize + k];
                    y[r * outSize + o] = s;
                }
            bool last = !_p.Slices.Any(s => s.Name == $"{name}.{layer + 1}.weight");
            if (!last) for (int i = 0; i < y.Length; i++) y[i] = Math.Tanh(y[i]);
            h = y; inSize = outSize;
        }
    }

    public double[] ActorOutputs(double[] theta, double[] obs, int batch) => Mlp("actor", theta, obs, batch, policy.ObservationSize);
    public double[] Values(double[] theta, double[] obs, int batch) => Mlp("critic", theta, obs, batch, policy.ObservationSize);

    public double[] LogStd(double[] theta)
    {
        if (Discrete) return [];
        var s = _p["log_std"];
        return theta.AsSpan(s.Offset, s.Length).ToArray();
    }

    /// <summary>log π(a|s) of row <paramref name="r"/>.</summary>
    public double LogProb(double[] outputs, double[] logStd, int r, ReadOnlySpan<float> actions)
    {
        int n = OutputSize;
        if (Discrete)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < n; j++) max = Math.Max(max, outputs[r * n + j]);
            double s = 0;
            for (int j = 0; j < n; j++) s += Math.Exp(outputs[r * n + j] - max);
            return outputs[r * n + (int)actions[r]] - max - Math.Log(s);
        }
        double lp = 0;
        for (int j = 0; j < n; j++)
        {
            double z = (actions[r * n + j] - outputs[r * n + j]) / Math.Exp(logStd[j]);
            lp += -0.5 * z * z - logStd[j] - 0.5 * Math.Log(2 * Math.PI);
        }
        return lp;
    }

    public double Entropy(double[] outputs, double[] logStd, int r)
    {
        int n = OutputSize;
        if (Discrete)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < n; j++) max = Math.Max(max, outputs[r * n + j]);
            double s = 0;
            for (int j = 0; j < n; j++) s += Math.Exp(outputs[r * n + j] - max);
            double h = 0;
            for (int j = 0; j < n; j++)
            {
                double lp = outputs[r * n + j] - max - Math.Log(s);
                h -= Math.Exp(lp) * lp;
            }
            return h;
        }
        double e = 0;
        foreach (double ls in logStd) e += ls + 0.5 * Math.Log(2 * Math.PI * Math.E);
        return e;
    }

    /// <summary>mean over the given states of KL(π_before ‖ π_after), from the flat float32 parameters, in float64.</summary>
    public double MeanKl(float[] before, float[] after, float[] observations, int batch)
    {
        var obs = observations.Select(x => (double)x).ToArray();
        var t0 = before.Select(x => (double)x).ToArray(); var t1 = after.Select(x => (double)x).ToArray();
        var o0 = ActorOutputs(t0, obs, batch); var o1 = ActorOutputs(t1, obs, batch);
        double kl = 0;
        for (int r = 0; r < batch; r++) kl += Kl(o0, LogStd(t0), o1, LogStd(t1), r);
        return kl / batch;
    }

    /// <summary>KL(old ‖ new) of row r.</summary>
    public double Kl(double[] oldOutputs, double[] oldLogStd, double[] newOutputs, double[] newLogStd, int r)
    {
        int n = OutputSize;
        if (Discrete)
        {
            double LogZ(double[] o)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < n; j++) max = Math.Max(max, o[r * n + j]);
                double s = 0;
                for (int j = 0; j < n; j++) s += Math.Exp(o[r * n + j] - max);
                return max + Math.Log(s);
            }
            double zo = LogZ(oldOutputs), zn = LogZ(newOutputs), kl = 0;
            for (int j = 0; j < n; j++)
            {
                double lo = oldOutputs[r * n + j] - zo, ln = newOutputs[r * n + j] - zn;
                kl += Math.Exp(lo) * (lo - ln);
            }
            return kl;
        }
        double k = 0;
        for (int j = 0; j < n; j++)
        {
            double vo = Math.Exp(2 * oldLogStd[j]), vn = Math.Exp(2 * newLogStd[j]), dm = oldOutputs[r * n + j] - newOutputs[r * n + j];
            k += newLogStd[j] - oldLogStd[j] + (vo + dm * dm) / (2 * vn) - 0.5;
        }
        return k;
    }
}
