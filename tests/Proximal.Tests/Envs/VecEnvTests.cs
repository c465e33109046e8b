using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Envs.Wrappers;
using Proximal.Numerics;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Envs;

public class VecEnvTests
{
    private static VecEnv Create(bool threaded, int threads, Func<int, IEnv> factory, int n) =>
        threaded ? new ThreadedVecEnv(factory, n, threads, serialBelowMicroseconds: 0) : new SyncVecEnv(factory, n);

    public static TheoryData<bool, int> Kinds => new() { { false, 1 }, { true, 1 }, { true, 2 }, { true, 3 } };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AutoResetKeepsFinalObservationAndFlags(bool threaded, int threads)
    {
        const int n = 5;
        var envs = Enumerable.Range(0, n).Select(i => new CountdownEnv(ep => 2 + i + ep % 3)).ToArray();
        using var vec = Create(threaded, threads, i => envs[i], n);
        var obs = new float[n * 3];
        var actions = new float[n];
        var rewards = new float[n];
        var term = new bool[n];
        var trunc = new bool[n];
        vec.Reset(obs, seed: 10);
        var expectedEpisode = new int[n];
        var expectedStep = new int[n];
        for (int i = 0; i < n; i++) { expectedEpisode[i] = (10 + i) * 100; Assert.Equal(expectedEpisode[i], obs[i * 3]); }
        int ends = 0;
        for (int t = 0; t < 40; t++)
        {
            for (int i = 0; i < n; i++) actions[i] = t * 10 + i;
            vec.Step(actions, obs, rewards, term, trunc);
            for (int i = 0; i < n; i++)
            {
                expectedStep[i]++;
                Assert.Equal(expectedStep[i] + 0.5f * actions[i], rewards[i]);
                bool done = expectedStep[i] >= 2 + i + expectedEpisode[i] % 3;
                Assert.Equal(done && expectedEpisode[i] % 2 == 0, term[i]);
                Assert.Equal(done && expectedEpisode[i] % 2 != 0, trunc[i]);
                Assert.Equal(done, vec.HasFinalObservation[i]);
                if (done)
                {
                    ends++;
                    // Final row: last observation of the finished episode; obs row: first of the next.
                    Assert.Equal(new float[] { expectedEpisode[i], expectedStep[i], actions[i] }, vec.FinalObservations.Slice(i * 3, 3).ToArray());
                    expectedEpisode[i]++;
                    expectedStep[i] = 0;
                    Assert.Equal(new float[] { expectedEpisode[i], 0, 0 }, obs.AsSpan(i * 3, 3).ToArray());
                }
                else Assert.Equal(new float[] { expectedEpisode[i], expectedStep[i], actions[i] }, obs.AsSpan(i * 3, 3).ToArray());
            }
        }
        Assert.True(ends > 20);
        Assert.Equal(40, vec.StepCount);
    }

    [Theory]
    [InlineData("CartPole-v1")]
    [InlineData("Pendulum-v1")]
    [InlineData("Acrobot-v1")]
    public void SyncAndThreadedMatchIndependentEnvsSeededSeedPlusI(string id)
    {
        const int n = 7, steps = 260;
        const ulong seed = 42;
        var runs = new List<float[]>();
        foreach (var (threaded, threads) in new[] { (false, 1), (true, 2), (true, 3), (true, 7) })
        {
            using var vec = Create(threaded, threads, _ => EnvRegistry.Make(id), n);
            runs.Add(Roll(vec, seed, steps));
        }
        for (int k = 1; k < runs.Count; k++) Assert.Equal(runs[0], runs[k]);

        // Independent single envs: env i seeded with seed + i, reset by hand when done.
        var single = Enumerable.Range(0, n).Select(_ => EnvRegistry.Make(id)).ToArray();
        int o = single[0].ObservationSpace.FlatSize, a = single[0].ActionSpace.FlatSize;
        var obs = new float[n * o];
        for (int i = 0; i < n; i++) single[i].Reset(obs.AsSpan(i * o, o), seed + (ulong)i);
        var trace = new List<float>(obs);
        var rng = new Rng(7);
        var act = new float[n * a];
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < n; i++) single[i].ActionSpace.Sample(rng, act.AsSpan(i * a, a));
            for (int i = 0; i < n; i++)
            {
                var r = single[i].Step(act.AsSpan(i * a, a), obs.AsSpan(i * o, o));
                trace.Add((float)r.Reward); trace.Add(r.Terminated ? 1 : 0); trace.Add(r.Truncated ? 1 : 0);
                if (r.Done) single[i].Reset(obs.AsSpan(i * o, o));
            }
            trace.AddRange(obs);
        }
        Assert.Equal(trace.ToArray(), runs[0]);
    }

    /// <summary>Observations, rewards and flags of a seeded random-action rollout, in one array.</summary>
    private static float[] Roll(VecEnv vec, ulong seed, int steps)
    {
        int n = vec.NumEnvs, o = vec.ObservationSize, a = vec.ActionSize;
        var obs = new float[n * o];
        var act = new float[n * a];
        var rew = new float[n];
        var term = new bool[n];
        var trunc = new bool[n];
        vec.Reset(obs, seed);
        var trace = new List<float>(obs);
        var rng = new Rng(7);
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < n; i++) vec.SingleActionSpace.Sample(rng, act.AsSpan(i * a, a));
            vec.Step(act, obs, rew, term, trunc);
            for (int i = 0; i < n; i++) { trace.Add(rew[i]); trace.Add(term[i] ? 1 : 0); trace.Add(trunc[i] ? 1 : 0); }
            trace.AddRange(obs);
        }
        return trace.ToArray();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void NaNObservationIsNamedWithEnvIndexAndStep(bool threaded, int threads)
    {
        var envs = Enumerable.Range(0, 4).Select(_ => new CountdownEnv(_ => 1000)).ToArray();
        envs[2].FaultAtGlobalStep = 6;
        envs[2].Fault = "nan-obs";
        envs[3].FaultAtGlobalStep = 6;
        envs[3].Fault = "inf-reward";
        using var vec = Create(threaded, threads, i => envs[i], 4);
        var obs = new float[12];
        var z = new float[4];
        var rew = new float[4];
        var term = new bool[4];
        var trunc = new bool[4];
        vec.Reset(obs, 0);
        for (int t = 0; t < 5; t++) vec.Step(z, obs, rew, term, trunc);
        var e = Assert.Throws<NonFiniteValueException>(() => vec.Step(z, obs, rew, term, trunc));
        Assert.Equal(2, e.EnvIndex); // lowest faulty index, whatever the thread timing
        Assert.Equal(5, e.VectorStep);
        Assert.Equal("observation", e.Quantity);
        Assert.Equal(1, e.Element);
        Assert.Contains("Env 2", e.Message);
        Assert.Contains("NaN", e.Message);
        // After a fault the VecEnv refuses to continue until reset.
        Assert.Throws<InvalidOperationException>(() => vec.Step(z, obs, rew, term, trunc));
        vec.Reset(obs, 0);
        vec.Step(z, obs, rew, term, trunc);
    }

    [Fact]
    public void InfiniteRewardAndEnvExceptionsAreNamed()
    {
        var envs = Enumerable.Range(0, 3).Select(_ => new CountdownEnv(_ => 1000)).ToArray();
        envs[1].FaultAtGlobalStep = 2;
        envs[1].Fault = "inf-reward";
        envs[2].FaultAtGlobalStep = 4;
        envs[2].Fault = "throw";
        using var vec = new ThreadedVecEnv(i => envs[i], 3, threads: 2, serialBelowMicroseconds: 0);
        var obs = new float[9];
        var z = new float[3];
        var rew = new float[3];
        var term = new bool[3];
        var trunc = new bool[3];
        vec.Reset(obs, 0);
        vec.Step(z, obs, rew, term, trunc);
        var e = Assert.Throws<NonFiniteValueException>(() => vec.Step(z, obs, rew, term, trunc));
        Assert.Equal((1, "reward", 1L), (e.EnvIndex, e.Quantity, e.VectorStep));
        Assert.Contains("+infinity", e.Message);
        vec.Reset(obs, 0);
        vec.Step(z, obs, rew, term, trunc);
        var x = Assert.Throws<EnvStepException>(() => vec.Step(z, obs, rew, term, trunc));
        Assert.Equal(2, x.EnvIndex);
        Assert.IsType<InvalidOperationException>(x.InnerException);
        Assert.Contains("simulator exploded", x.Message);
    }

    [Fact]
    public void BadBuffersAndOrderAreRejectedClearly()
    {
        using var vec = new SyncVecEnv(_ => EnvRegistry.Make("CartPole-v1"), 3);
        var obs = new float[12];
        var act = new float[3];
        var rew = new float[3];
        var flags = new bool[3];
        Assert.Contains("Reset", Assert.Throws<InvalidOperationException>(() => vec.Step(act, obs, rew, flags, flags)).Message);
        Assert.Contains("expected 3 envs × 4 = 12", Assert.Throws<ArgumentException>(() => vec.Reset(new float[11])).Message);
        vec.Reset(obs, 1);
        Assert.Contains("actions", Assert.Throws<ArgumentException>(() => vec.Step(new float[2], obs, rew, flags, flags)).Message);
        Assert.Contains("rewards", Assert.Throws<ArgumentException>(() => vec.Step(act, obs, new float[4], flags, flags)).Message);
        Assert.Contains("truncated", Assert.Throws<ArgumentException>(() => vec.Step(act, obs, rew, flags, new bool[2])).Message);
        Assert.Throws<ArgumentException>(() => new SyncVecEnv(new IEnv[] { EnvRegistry.Make("CartPole-v1"), EnvRegistry.Make("Pendulum-v1") }));
        var same = EnvRegistry.Make("CartPole-v1");
        Assert.Contains("same object", Assert.Throws<ArgumentException>(() => new SyncVecEnv(new[] { same, same })).Message);
    }

    [Fact]
    public void ThreadedDisposeStopsWorkersAndIsIdempotent()
    {
        var vec = new ThreadedVecEnv(_ => EnvRegistry.Make("CartPole-v1"), 4, threads: 3, serialBelowMicroseconds: 0);
        Assert.Equal(3, vec.Threads);
        var obs = new float[16];
        vec.Reset(obs, 3);
        vec.Dispose();
        vec.Dispose();
        Assert.Throws<ObjectDisposedException>(() => vec.Reset(obs, 3));
    }

    [Fact]
    public void ThreadedSurvivesSleepingWorkers()
    {
        // Spin time 0 forces every wait through the Monitor path; results must not change.
        using var a = new ThreadedVecEnv(_ => EnvRegistry.Make("Pendulum-v1"), 6, threads: 3, spinMicroseconds: 0, serialBelowMicroseconds: 0);
        using var b = new SyncVecEnv(_ => EnvRegistry.Make("Pendulum-v1"), 6);
        Assert.Equal(Roll(b, 5, 150), Roll(a, 5, 150));
    }

    [Fact]
    public void UnseededResetStillGivesDistinctEnvs()
    {
        using var vec = new SyncVecEnv(_ => EnvRegistry.Make("CartPole-v1"), 4);
        var obs = new float[16];
        vec.Reset(obs);
        Assert.Equal(4, Enumerable.Range(0, 4).Select(i => obs[i * 4]).Distinct().Count());
    }
}
