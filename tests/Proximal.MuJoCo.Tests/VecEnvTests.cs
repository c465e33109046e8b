using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Envs.Registry;

namespace Proximal.MuJoCo.Tests;

public class VecEnvTests
{
    /// <summary>Steps with seeded random actions and records observations, rewards, flags and final observations.</summary>
    private static (List<float> Trace, int Episodes) Roll(VecEnv vec, int steps)
    {
        int n = vec.NumEnvs, a = vec.ActionSize;
        var obs = new float[n * vec.ObservationSize];
        var act = new float[n * a];
        var rew = new float[n];
        var term = new bool[n];
        var trunc = new bool[n];
        var rng = new Rng(17);
        var trace = new List<float>();
        int episodes = 0;
        vec.Reset(obs, 100);
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < n; i++) vec.SingleActionSpace.Sample(rng, act.AsSpan(i * a, a));
            vec.Step(act, obs, rew, term, trunc);
            trace.AddRange(obs);
            trace.AddRange(rew);
            for (int i = 0; i < n; i++)
            {
                trace.Add((term[i] ? 1 : 0) + (trunc[i] ? 2 : 0));
                if (vec.HasFinalObservation[i]) episodes++;
                if (vec.HasFinalObservation[i]) trace.AddRange(vec.FinalObservations.Slice(i * vec.ObservationSize, vec.ObservationSize));
            }
        }
        return (trace, episodes);
    }

    [Theory]
    [InlineData("Hopper-v4")]
    [InlineData("Reacher-v4")]
    public void ThreadedMatchesSyncBitForBitThroughTheRegistry(string id)
    {
        MuJoCoTasks.Register();
        List<float> expected;
        int episodes;
        using (var sync = VecEnvBuilder.ForId(id, 5).EpisodeStatistics(false).Build()) (expected, episodes) = Roll(sync, 120);
        Assert.True(episodes >= 5, $"only {episodes} episodes ended: the auto-reset path is not exercised");
        foreach (int threads in new[] { 2, 3, 5 })
        {
            using var threaded = VecEnvBuilder.ForId(id, 5).EpisodeStatistics(false).Threads(threads).Build();
            Assert.IsType<ThreadedVecEnv>(threaded);
            Assert.Equal(expected, Roll(threaded, 120).Trace);
        }
    }

    [Fact]
    public void CheapCallsBelowTheSerialThresholdStillMatchSync()
    {
        // Pendulum N = 4 is well under the 10 µs serial threshold: after the first (timed) call the caller steps alone.
        List<float> expected;
        using (var sync = VecEnvBuilder.ForId("Pendulum-v1", 4).EpisodeStatistics(false).Build()) expected = Roll(sync, 250).Trace;
        using var threaded = new ThreadedVecEnv(_ => EnvRegistry.Make("Pendulum-v1"), 4, threads: 2);
        Assert.Equal(expected, Roll(threaded, 250).Trace);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThreadedVecEnv(_ => EnvRegistry.Make("Pendulum-v1"), 2, 2, serialBelowMicroseconds: -1));
    }

    [Fact]
    public void ThreadedStaysIdenticalWhenWorkersWakeLateOrNotAtAll()
    {
        // Spin 0: every idle worker sleeps, so the caller often steps whole calls alone and workers wake up to a
        // newer call than the one that woke them; uneven pauses between calls vary who steps which chunk.
        // Serial threshold 0: Pendulum is cheap enough that the caller would otherwise step it alone.
        List<float> expected;
        using (var sync = VecEnvBuilder.ForId("Pendulum-v1", 7).EpisodeStatistics(false).Build()) expected = Roll(sync, 300).Trace;
        using var threaded = new ThreadedVecEnv(_ => EnvRegistry.Make("Pendulum-v1"), 7, threads: 3, spinMicroseconds: 0, serialBelowMicroseconds: 0);
        int n = 7;
        var obs = new float[n * 3];
        var act = new float[n];
        var rew = new float[n];
        var term = new bool[n];
        var trunc = new bool[n];
        var rng = new Rng(17);
        var pause = new Rng(99);
        var trace = new List<float>();
        threaded.Reset(obs, 100);
        for (int t = 0; t < 300; t++)
        {
            for (int i = 0; i < n; i++) threaded.SingleActionSpace.Sample(rng, act.AsSpan(i, 1));
            if (pause.NextInt(4) == 0) Thread.Sleep(pause.NextInt(2));
            threaded.Step(act, obs, rew, term, trunc);
            trace.AddRange(obs);
            trace.AddRange(rew);
            for (int i = 0; i < n; i++)
            {
                trace.Add((term[i] ? 1 : 0) + (trunc[i] ? 2 : 0));
                if (threaded.HasFinalObservation[i]) trace.AddRange(threaded.FinalObservations.Slice(i * 3, 3));
            }
        }
        Assert.Equal(expected, trace);
    }
}
