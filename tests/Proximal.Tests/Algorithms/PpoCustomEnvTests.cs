using Proximal.Algorithms.OnPolicy;
using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Spaces;
using Proximal.Common.Callbacks;

namespace Proximal.Tests.Algorithms;

/// <summary>
/// A user's own simulation: the observation shows two targets (one-hot, 3 choices each) and the
/// MultiDiscrete action must name both; reward = number matched; one-step episodes. Random play scores 2/3.
/// </summary>
internal sealed class MatchTargets : IEnv
{
    private readonly Rng _rng = new(0);
    private int _a, _b;
    public Space ObservationSpace { get; } = new Box(0, 1, 6);
    public Space ActionSpace { get; } = new MultiDiscrete(3, 3);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (observation.Length != 6) throw new ArgumentException($"observation buffer has {observation.Length} values, expected 6.", nameof(observation));
        if (seed is { } s) _rng.Reseed(s);
        _a = _rng.NextInt(3); _b = _rng.NextInt(3);
        observation.Clear();
        observation[_a] = 1; observation[3 + _b] = 1;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 2) throw new ArgumentException($"action has {action.Length} values, expected 2.", nameof(action));
        if (observation.Length != 6) throw new ArgumentException($"observation buffer has {observation.Length} values, expected 6.", nameof(observation));
        double r = (action[0] == _a ? 1 : 0) + (action[1] == _b ? 1 : 0);
        Reset(observation);
        return new StepResult(r, Terminated: true, Truncated: false);
    }

    public void Dispose() { }
}

public class PpoCustomEnvTests
{
    [Fact]
    public void LearnsAMultiDiscreteTaskOnAUserEnvironment()
    {
        var check = EnvChecker.Check(new MatchTargets());
        Assert.True(check.Passed, string.Join("; ", check.Problems));
        using var env = new VecEpisodeStatisticsBuilder().Build();
        var o = new PpoOptions { NEnvs = 4, NSteps = 64, MinibatchSize = 64, NEpochs = 4, LearningRate = 3e-3, Gamma = 0.9, Seed = 7, TotalSteps = 20_000 };
        var ppo = new Ppo(env, o);
        ppo.Learn(o.TotalSteps);
        Assert.Null(ppo.EnvId);
        var r = Evaluation.Evaluate(ppo, env, 100, deterministic: true, seed: 99);
        Assert.True(r.MeanReturn >= 1.9, $"mean return {r.MeanReturn} (random play: 0.67)");
        // A model trained on an unregistered env cannot rebuild it: Load asks for the env.
        string path = Path.Combine(Path.GetTempPath(), $"proximal-custom-{Guid.NewGuid():N}.zip");
        try
        {
            ppo.Save(path);
            var ex = Assert.Throws<ArgumentException>(() => Ppo.Load(path));
            Assert.Contains("pass the env", ex.Message);
            using var loaded = Ppo.Load(path, env);
            Assert.Equal(ppo.Policy.Parameters.Values, loaded.Policy.Parameters.Values);
        }
        finally { File.Delete(path); }
    }

    private sealed class VecEpisodeStatisticsBuilder
    {
        public VecEnv Build() => new SyncVecEnv(_ => new MatchTargets(), 4).WithEpisodeStatistics();
    }
}
