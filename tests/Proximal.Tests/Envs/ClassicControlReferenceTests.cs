using Proximal.Envs;
using Proximal.Envs.Wrappers;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Envs;

/// <summary>
/// Replays Gymnasium's own trajectories one step at a time: from each recorded state and action, our next
/// state and reward must match within 1e-9, our float32 observation within one float32 ulp, and the
/// terminated and truncated flags exactly. Truncation comes from the registry's TimeLimit, so each episode is
/// replayed through <see cref="EnvRegistry.Make"/> with the state set before every step.
/// </summary>
public class ClassicControlReferenceTests
{
    public static TheoryData<string> Ids => new() { "CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1" };

    [Theory]
    [MemberData(nameof(Ids))]
    public void EveryRecordedStepMatchesGymnasium(string id)
    {
        var data = ReferenceData.Load(id);
        int cEpisode = data.Column("episode"), cStep = data.Column("step"), cAction = data.Column("action");
        int cReward = data.Column("reward"), cTerm = data.Column("terminated"), cTrunc = data.Column("truncated");
        int[] cState = data.Columns("state_"), cNext = data.Columns("next_state_"), cObs = data.Columns("obs_");

        using var env = EnvRegistry.Make(id);
        var timeLimit = Assert.IsType<TimeLimit>(env);
        var sim = Assert.IsAssignableFrom<ISimulationState>(timeLimit.Unwrapped);
        Assert.Equal(cState.Length, sim.StateSize);
        Assert.Equal(cObs.Length, env.ObservationSpace.FlatSize);

        var obs = new float[cObs.Length];
        var state = new double[cState.Length];
        var action = new float[1];
        int rows = 0, truncations = 0, terminations = 0;
        double previousEpisode = -1;
        foreach (var row in data.Rows)
        {
            if (row[cEpisode] != previousEpisode)
            {
                Assert.Equal(0, row[cStep]);
                env.Reset(obs, (ulong)row[cEpisode]);
                previousEpisode = row[cEpisode];
            }
            for (int k = 0; k < state.Length; k++) state[k] = row[cState[k]];
            sim.SetState(state);
            action[0] = (float)row[cAction];
            Assert.Equal(row[cAction], action[0]); // the recorded action is exactly a float32

            var r = env.Step(action, obs);

            string where = $"{id} episode {row[cEpisode]} step {row[cStep]}";
            sim.GetState(state);
            for (int k = 0; k < state.Length; k++)
                Assert.True(Math.Abs(state[k] - row[cNext[k]]) <= 1e-9, $"{where}: next state[{k}] = {state[k]:R}, Gymnasium {row[cNext[k]]:R}.");
            Assert.True(Math.Abs(r.Reward - row[cReward]) <= 1e-9, $"{where}: reward {r.Reward:R}, Gymnasium {row[cReward]:R}.");
            for (int k = 0; k < obs.Length; k++)
                Assert.True(UlpDistance(obs[k], (float)row[cObs[k]]) <= 1, $"{where}: obs[{k}] = {obs[k]:R}, Gymnasium {(float)row[cObs[k]]:R} (more than 1 ulp apart).");
            Assert.True(r.Terminated == (row[cTerm] == 1), $"{where}: terminated {r.Terminated}, Gymnasium {row[cTerm]}.");
            Assert.True(r.Truncated == (row[cTrunc] == 1), $"{where}: truncated {r.Truncated}, Gymnasium {row[cTrunc]}.");
            rows++;
            if (r.Truncated) truncations++;
            if (r.Terminated) terminations++;
        }
        Assert.True(rows >= 100, $"only {rows} rows read");
        // The data's own summary (PROVENANCE.md): CartPole's 5 episodes terminate; MountainCar's and Pendulum's truncate at 200.
        Assert.Equal(id == "CartPole-v1" ? 5 : 0, terminations);
        Assert.Equal(id is "MountainCar-v0" or "Pendulum-v1" ? 5 : 0, truncations);
    }

    /// <summary>Number of representable float32 values between a and b (0 when equal; +0 and −0 are equal).</summary>
    internal static long UlpDistance(float a, float b)
    {
        if (a == b) return 0;
        if (float.IsNaN(a) || float.IsNaN(b)) return long.MaxValue;
        static long Ordered(float x)
        {
            int bits = BitConverter.SingleToInt32Bits(x);
            return bits < 0 ? int.MinValue - (long)bits : bits;
        }
        return Math.Abs(Ordered(a) - Ordered(b));
    }

    [Fact]
    public void UlpDistanceCountsRepresentableSteps()
    {
        Assert.Equal(0, UlpDistance(0f, -0f));
        Assert.Equal(1, UlpDistance(1f, MathF.BitIncrement(1f)));
        Assert.Equal(2, UlpDistance(-float.Epsilon, float.Epsilon));
    }
}
