using Proximal.Envs;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Envs;

/// <summary>
/// Deterministic env for semantics tests: episode k of env lasts <c>lengths(k)</c> steps; observation =
/// [episode index, step in episode, action received]; reward = step + 0.5·action; the episode ends
/// terminated when its index is even and truncated when odd. Optional faults at a given global step.
/// </summary>
internal sealed class CountdownEnv(Func<int, int> lengths) : IEnv
{
    public int Episode = -1, StepInEpisode, GlobalSteps;
    public ulong? LastSeed;
    public int FaultAtGlobalStep = -1;
    public string Fault = "";
    public float LastAction;

    public Space ObservationSpace { get; } = new Box(float.NegativeInfinity, float.PositiveInfinity, 3);
    public Space ActionSpace { get; } = new Box(-1000f, 1000f, 1);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (observation.Length != 3) throw new ArgumentException("observation must have 3 values");
        if (seed is not null) { LastSeed = seed; Episode = (int)(seed.Value % 1000) * 100 - 1; }
        Episode++;
        StepInEpisode = 0;
        observation[0] = Episode; observation[1] = 0; observation[2] = 0;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 1) throw new ArgumentException("action must have 1 value");
        if (observation.Length != 3) throw new ArgumentException("observation must have 3 values");
        StepInEpisode++;
        GlobalSteps++;
        LastAction = action[0];
        observation[0] = Episode; observation[1] = StepInEpisode; observation[2] = action[0];
        double reward = StepInEpisode + 0.5 * action[0];
        if (GlobalSteps == FaultAtGlobalStep)
        {
            switch (Fault)
            {
                case "nan-obs": observation[1] = float.NaN; break;
                case "inf-reward": reward = double.PositiveInfinity; break;
                case "throw": throw new InvalidOperationException("simulator exploded");
            }
        }
        bool done = StepInEpisode >= lengths(Episode);
        return new StepResult(reward, done && Episode % 2 == 0, done && Episode % 2 != 0);
    }

    public void Dispose() { }
}

/// <summary>A 2-d continuous env with a real generator: random-walk observations, reward = −|obs|², episodes of 7..20 steps.</summary>
internal sealed class RandomWalkEnv : IEnv
{
    private Rng _rng = new(1);
    private readonly float[] _x = new float[2];
    private int _t, _len;

    public Space ObservationSpace { get; } = new Box(-100f, 100f, 2);
    public Space ActionSpace { get; } = new Box(-1f, 1f, 2);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (seed is { } s) _rng = new Rng(s);
        _x[0] = (float)(3 + _rng.NextGaussian());
        _x[1] = (float)(-2 + 0.5 * _rng.NextGaussian());
        _t = 0;
        _len = 7 + _rng.NextInt(14);
        _x.CopyTo(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 2 || observation.Length != 2) throw new ArgumentException("bad buffer length");
        _x[0] = Math.Clamp(_x[0] + action[0] + (float)_rng.NextGaussian(), -100f, 100f);
        _x[1] = Math.Clamp(_x[1] + action[1] * 0.5f + (float)(0.3 * _rng.NextGaussian()), -100f, 100f);
        _x.CopyTo(observation);
        _t++;
        return new StepResult(-(_x[0] * (double)_x[0] + _x[1] * (double)_x[1]) * 0.1, _t >= _len && _len % 3 == 0, _t >= _len && _len % 3 != 0);
    }

    public void Dispose() { }
}

/// <summary>Records the last action it received; observation = that action.</summary>
internal sealed class EchoEnv(Box actionSpace) : IEnv
{
    public float[] Last = new float[actionSpace.FlatSize];
    public Space ObservationSpace { get; } = new Box(float.NegativeInfinity, float.PositiveInfinity, actionSpace.FlatSize);
    public Space ActionSpace { get; } = actionSpace;
    public void Reset(Span<float> observation, ulong? seed = null) => observation.Clear();
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        action.CopyTo(Last);
        action.CopyTo(observation);
        return new StepResult(1, false, false);
    }
    public void Dispose() { }
}

internal static class Reference
{
    /// <summary>Float64 reference of Gymnasium's RunningMeanStd after seeing all <paramref name="values"/> (rows of d),
    /// computed in one go: a prior pseudo-sample of count 1e-4 with mean 0, variance 1, merged with the data's exact moments.</summary>
    public static (double[] Mean, double[] Var) Moments(IReadOnlyList<double[]> rows, int d)
    {
        const double eps = 1e-4;
        int n = rows.Count;
        var mean = new double[d];
        var var = new double[d];
        for (int j = 0; j < d; j++)
        {
            double m = rows.Average(r => r[j]);
            double ss = rows.Sum(r => (r[j] - m) * (r[j] - m));
            double total = n + eps;
            mean[j] = m * n / total;
            var[j] = (eps * 1.0 + ss + m * m * eps * n / total) / total;
        }
        return (mean, var);
    }

    public static void Close(double expected, double actual, double relTol, string what) =>
        Assert.True(Math.Abs(expected - actual) <= relTol * Math.Max(1.0, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}.");
}
