using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Envs.Wrappers;
using Proximal.Spaces;

namespace Proximal.Tests.Algorithms;

/// <summary>A user's own env with legal-move masks (<see cref="IActionMaskProvider"/>) through SyncVecEnv/ThreadedVecEnv and PPO.</summary>
public class EnvActionMaskTests
{
    /// <summary>
    /// Four actions; which are legal depends on the step within the episode (action (t mod 4) is always illegal, and
    /// action 3 also on odd steps). Reward 1 for action 3, so an unmasked policy would learn to prefer it even when illegal.
    /// Counts every action it receives, and every illegal one.
    /// </summary>
    private sealed class RotatingMaskEnv : IEnv, IActionMaskProvider
    {
        private readonly bool[] _mask = new bool[4];
        private int _t;
        public int Illegal, Taken;
        public int MaskLength { get; init; } = 4;
        public Space ObservationSpace { get; } = new Box(-1f, 1f, 4);
        public Space ActionSpace { get; } = new Discrete(4);
        public ReadOnlySpan<bool> ActionMask => _mask.AsSpan(0, Math.Min(MaskLength, 4));

        public void Reset(Span<float> observation, ulong? seed = null) { _t = 0; Write(observation); }

        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
        {
            int a = (int)action[0];
            Taken++;
            if (!_mask[a]) Illegal++;
            _t++;
            Write(observation);
            return new StepResult(a == 3 ? 1 : 0, false, _t >= 10);
        }

        private void Write(Span<float> observation)
        {
            observation.Clear();
            observation[_t % 4] = 1;
            for (int a = 0; a < 4; a++) _mask[a] = a != _t % 4 && !(a == 3 && _t % 2 == 1);
        }

        public void Dispose() { }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void VecEnvsGatherTheMasksThroughWrappersAndPpoNeverTakesAnIllegalAction(bool threaded)
    {
        var envs = Enumerable.Range(0, 3).Select(_ => new RotatingMaskEnv()).ToArray();
        // Wrapped, as the registry would: the VecEnv looks through wrappers for the provider.
        IEnv[] wrapped = envs.Select(e => (IEnv)new EpisodeStatistics(e)).ToArray();
        using VecEnv vec = threaded ? new ThreadedVecEnv(wrapped, 2) : new SyncVecEnv(wrapped);
        Assert.Equal(3 * 4, vec.ActionMasks.Length);
        var obs = new float[3 * 4];
        vec.Reset(obs, 5);
        Assert.Equal(new[] { false, true, true, true, false, true, true, true, false, true, true, true }, vec.ActionMasks.ToArray());
        vec.Step([1f, 2f, 3f], obs, new float[3], new bool[3], new bool[3]); // legal at t = 0; now t = 1: actions 1 and 3 illegal
        Assert.Equal(new[] { true, false, true, false }, vec.ActionMasks[..4].ToArray());

        using var ppo = new Ppo(vec, new PpoOptions { NEnvs = 3, NSteps = 20, MinibatchSize = 30, NEpochs = 4, Seed = 2, LearningRate = 3e-3,
            Policy = new PolicyOptions { HiddenSizes = [16] } });
        ppo.Learn(1200);
        Assert.True(envs.Sum(e => e.Taken) >= 1200);
        Assert.Equal(0, envs.Sum(e => e.Illegal)); // action 3 pays, yet PPO never took it where it was illegal
    }

    [Fact]
    public void AMaskOfTheWrongLengthIsTheEnvsFaultNamingIt()
    {
        using var vec = new SyncVecEnv([new RotatingMaskEnv(), new RotatingMaskEnv { MaskLength = 3 }]);
        var e = Assert.Throws<EnvStepException>(() => vec.Reset(new float[8], 1));
        Assert.Equal(1, e.EnvIndex);
        Assert.Contains("its action mask has 3 entries; the action space has 4 actions", e.ToString());
    }

    [Fact]
    public void EnvsWithoutMasksGiveNone()
    {
        using var vec = new SyncVecEnv([new Proximal.Envs.ClassicControl.CartPole(), new Proximal.Envs.ClassicControl.CartPole()]);
        Assert.True(vec.ActionMasks.IsEmpty);
    }
}
