using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Envs.Wrappers;
using Proximal.Spaces;

namespace Proximal.Tests.Algorithms;

/// <summary>
/// Observation = [env index, step in episode, episode index]. Inside a <see cref="TimeLimit"/> of <c>limit</c> steps:
/// episodes with index ≡ 1 (mod 3) terminate at step 2 (before the limit), episodes ≡ 2 (mod 3) terminate exactly at the
/// limit (so the step is terminated AND truncated), the others are truncated by the limit alone.
/// </summary>
internal sealed class SlotEnv(int index, int limit) : IEnv
{
    private int _episode = -1, _step;
    public Space ObservationSpace { get; } = new Box(float.NegativeInfinity, float.PositiveInfinity, 3);
    public Space ActionSpace { get; } = new Discrete(2);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        _episode++;
        _step = 0;
        observation[0] = index; observation[1] = 0; observation[2] = _episode;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        _step++;
        observation[0] = index; observation[1] = _step; observation[2] = _episode;
        bool terminated = (_episode % 3 == 1 && _step == 2) || (_episode % 3 == 2 && _step == limit);
        return new StepResult(1.0, terminated, false);
    }

    public void Dispose() { }
}

public class PpoRolloutTests
{
    private static readonly int[] Limits = [5, 3, 4, 3];
    private const int T = 12;

    private static Ppo Make(VecEnv env, bool bootstrap) => new(env, new PpoOptions
    {
        NEnvs = Limits.Length, NSteps = T, MinibatchSize = 16, NEpochs = 1, Seed = 9, BootstrapTruncation = bootstrap,
        Policy = new PolicyOptions { HiddenSizes = [8, 8] },
    });

    private static VecEnv Env() => new SyncVecEnv(i => new TimeLimit(new SlotEnv(i, Limits[i]), Limits[i]), Limits.Length);

    /// <summary>The schedule worked out by hand from the env's rules: per (t, i) the flags and the episode's last observation.</summary>
    private static (bool Terminated, bool Truncated, float[] Final)?[,] Schedule()
    {
        int n = Limits.Length;
        var s = new (bool, bool, float[])?[T, n];
        for (int i = 0; i < n; i++)
        {
            int episode = 0, step = 0;
            for (int t = 0; t < T; t++)
            {
                step++;
                bool term = (episode % 3 == 1 && step == 2) || (episode % 3 == 2 && step == Limits[i]);
                bool trunc = step == Limits[i];
                if (!term && !trunc) continue;
                s[t, i] = (term, trunc, [i, step, episode]);
                episode++;
                step = 0;
            }
        }
        return s;
    }

    [Fact]
    public void TruncationBootstrapIsVOfTheFinalObservationInItsOwnStepAndEnvSlotAndNeverForTerminations()
    {
        using var env = Env();
        using var ppo = Make(env, bootstrap: true);
        var net = new PolicyReference(ppo.Policy);
        var theta = PolicyReference.ToDouble(ppo.Policy.Parameters.Values); // the parameters the rollout acts with
        ppo.Learn(Limits.Length * T);
        Assert.Equal(1, ppo.Iterations);
        var buffer = ppo.LatestRollout;
        int n = Limits.Length;
        var schedule = Schedule();

        int bootstrapped = 0, terminatedAndTruncated = 0, terminatedOnly = 0;
        bool severalInOneStep = false, slotDiffersFromRank = false;
        var seen = new List<double>();
        for (int t = 0; t < T; t++)
        {
            int rank = 0;
            for (int i = 0; i < n; i++)
            {
                int k = t * n + i;
                var e = schedule[t, i];
                Assert.Equal(e?.Terminated ?? false, buffer.Terminated[k]);
                Assert.Equal(e?.Truncated ?? false, buffer.Truncated[k]);
                if (e is { Truncated: true, Terminated: false } end)
                {
                    double v = net.Forward(theta, end.Final, 1).Values[0];
                    Assert.True(Math.Abs(buffer.TruncationValues[k] - v) <= 1e-5 * (1 + Math.Abs(v)),
                        $"(t {t}, env {i}): TruncationValues {buffer.TruncationValues[k]:R}, V(final observation [{string.Join(", ", end.Final)}]) = {v:R}");
                    // V of the reset observation that replaced it, which a wrong source row would give, is another number.
                    double vReset = net.Forward(theta, [i, 0, end.Final[2] + 1], 1).Values[0];
                    Assert.True(Math.Abs(v - vReset) > 1e-3, $"(t {t}, env {i}): V(final) and V(reset) too close to tell apart");
                    Assert.All(seen, w => Assert.True(Math.Abs(w - v) > 1e-3, "two bootstrap values too close to tell apart"));
                    seen.Add(v);
                    bootstrapped++;
                    if (rank > 0) severalInOneStep = true;
                    if (rank != i) slotDiffersFromRank = true;
                    rank++;
                }
                else
                {
                    Assert.True(buffer.TruncationValues[k] == 0, $"(t {t}, env {i}) {(e is null ? "not an episode end" : "terminated")}: TruncationValues {buffer.TruncationValues[k]:R}, expected 0");
                    if (e is { Terminated: true, Truncated: true }) terminatedAndTruncated++;
                    if (e is { Terminated: true, Truncated: false }) terminatedOnly++;
                }
                // After an episode end the next row holds the reset observation, not the final one.
                if (e is not null && t + 1 < T)
                    Assert.Equal(new float[] { i, 0f, e.Value.Final[2] + 1 }, buffer.Observations.AsSpan(((t + 1) * n + i) * 3, 3).ToArray());
            }
        }
        // The schedule covers the cases a misplaced bootstrap would get wrong.
        Assert.True(bootstrapped >= 5, $"{bootstrapped} truncations");
        Assert.True(severalInOneStep, "no step truncates two envs at once");
        Assert.True(slotDiffersFromRank, "every truncated env is also the first truncated env of its step");
        Assert.True(terminatedAndTruncated >= 2, "no step both terminated and truncated");
        Assert.True(terminatedOnly >= 2, "no step terminated before the limit");
    }

    [Fact]
    public void WithoutTruncationBootstrapNoSlotIsBootstrapped()
    {
        using var env = Env();
        using var ppo = Make(env, bootstrap: false);
        ppo.Learn(Limits.Length * T);
        var buffer = ppo.LatestRollout;
        Assert.True(buffer.Truncated.Count(x => x) >= 5, "the rollout must contain truncations");
        Assert.All(buffer.TruncationValues, v => Assert.Equal(0f, v));
    }
}
