using Proximal.Algorithms.Policies;
using Proximal.Nn;

namespace Proximal.Tests.Algorithms;

/// <summary>
/// The tanh actor-critic's forward pass in float64, written from the parameter layout alone (no library forward):
/// each Linear "name" is W = "name.weight" [out × in] row-major and b = "name.bias" [out]. Separate networks are
/// "actor.i" and "critic.i" (tanh after every layer but the last); a shared trunk is "trunk.i" with tanh after
/// EVERY layer, then "policy_head.0" and "value_head.0". A Box policy's state-independent log-std is "log_std".
/// The constructor checks that these slices cover the whole parameter vector, so no parameter goes unread.
/// </summary>
internal sealed class PolicyReference
{
    private readonly Parameters _p;
    private readonly int _obs, _out;
    private readonly int[] _hidden;

    public PolicyReference(ActorCritic policy)
    {
        Assert.Equal(ActivationKind.Tanh, policy.Options.Activation);
        _p = policy.Parameters;
        _obs = policy.ObservationSize;
        _out = policy.OutputSize;
        _hidden = policy.Options.HiddenSizes;
        Shared = policy.Options.SharedTrunk;
        var names = new List<string>();
        int layers = _hidden.Length + 1;
        if (!Shared)
            for (int i = 0; i < layers; i++) names.AddRange([$"actor.{i}.weight", $"actor.{i}.bias", $"critic.{i}.weight", $"critic.{i}.bias"]);
        else
        {
            for (int i = 0; i < _hidden.Length; i++) names.AddRange([$"trunk.{i}.weight", $"trunk.{i}.bias"]);
            names.AddRange(["policy_head.0.weight", "policy_head.0.bias", "value_head.0.weight", "value_head.0.bias"]);
        }
        if (policy.LogStd.Length > 0)
        {
            var s = _p["log_std"];
            Assert.Equal(_out, s.Length);
            LogStdOffset = s.Offset;
            names.Add("log_std");
        }
        Assert.Equal(_p.Count, names.Sum(n => _p[n].Length));
        Names = names;
    }

    public bool Shared { get; }
    /// <summary>Offset of the log-std in the flat vector, or −1 (discrete actions).</summary>
    public int LogStdOffset { get; } = -1;
    public IReadOnlyList<string> Names { get; }
    public int OutputSize => _out;

    /// <summary>Actor outputs [batch × OutputSize] and values [batch] of observations [batch × obs] under θ.</summary>
    public (double[] Outputs, double[] Values) Forward(double[] theta, ReadOnlySpan<float> observations, int batch)
    {
        var x = new double[batch * _obs];
        for (int i = 0; i < x.Length; i++) x[i] = observations[i];
        int[] sizesA = [_obs, .. _hidden, _out], sizesV = [_obs, .. _hidden, 1];
        if (!Shared)
            return (Net(theta, "actor", sizesA, x, batch, tanhLast: false), Net(theta, "critic", sizesV, x, batch, tanhLast: false));
        var features = Net(theta, "trunk", [_obs, .. _hidden], x, batch, tanhLast: true);
        int h = _hidden[^1];
        return (Dense(theta, "policy_head.0", h, _out, features, batch), Dense(theta, "value_head.0", h, 1, features, batch));
    }

    private double[] Net(double[] theta, string name, int[] sizes, double[] x, int batch, bool tanhLast)
    {
        var y = x;
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            y = Dense(theta, $"{name}.{i}", sizes[i], sizes[i + 1], y, batch);
            if (tanhLast || i + 2 < sizes.Length)
                for (int k = 0; k < y.Length; k++) y[k] = Math.Tanh(y[k]);
        }
        return y;
    }

    private double[] Dense(double[] theta, string name, int nin, int nout, double[] x, int batch)
    {
        var w = _p[name + ".weight"];
        var b = _p[name + ".bias"];
        Assert.Equal(nin * nout, w.Length);
        Assert.Equal(nout, b.Length);
        var y = new double[batch * nout];
        for (int r = 0; r < batch; r++)
            for (int o = 0; o < nout; o++)
            {
                double s = theta[b.Offset + o];
                for (int k = 0; k < nin; k++) s += theta[w.Offset + o * nin + k] * x[r * nin + k];
                y[r * nout + o] = s;
            }
        return y;
    }

    public static double[] ToDouble(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }
}
