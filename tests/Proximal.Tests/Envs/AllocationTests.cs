using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Envs.Wrappers;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Envs;

[CollectionDefinition("Allocation", DisableParallelization = true)]
public sealed class AllocationCollection;

/// <summary>Steady-state stepping allocates nothing: single envs, wrapper chains, sync and threaded VecEnvs.</summary>
[Collection("Allocation")]
public class AllocationTests
{
    [Theory]
    [InlineData("CartPole-v1")]
    [InlineData("Acrobot-v1")]
    [InlineData("MountainCar-v0")]
    [InlineData("MountainCarContinuous-v0")]
    [InlineData("Pendulum-v1")]
    public void SingleEnvWithWrappersAllocatesNothing(string id)
    {
        using var env = new NormalizeReward(new NormalizeObservation(new EpisodeStatistics(EnvRegistry.Make(id))));
        var obs = new float[env.ObservationSpace.FlatSize];
        var act = new float[env.ActionSpace.FlatSize];
        void Run(int steps)
        {
            for (int t = 0; t < steps; t++)
            {
                act[0] = t % 2;
                if (env.Step(act, obs).Done) env.Reset(obs);
            }
        }
        env.Reset(obs, 1);
        Run(3000); // warm up: JIT tiers, dictionary keys in the info channel, the episode log
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(3000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void VecEnvWithTrainingWrappersAllocatesNothing(int threads)
    {
        const int n = 8;
        using var vec = VecEnvBuilder.ForId("Pendulum-v1", n).Threads(threads).ClipActions().NormalizeObservations().NormalizeRewards().Build();
        var obs = new float[n * vec.ObservationSize];
        var act = new float[n];
        var rew = new float[n];
        var term = new bool[n];
        var trunc = new bool[n];
        var drained = new EpisodeRecord[64];
        void Run(int steps)
        {
            for (int t = 0; t < steps; t++)
            {
                for (int i = 0; i < n; i++) act[i] = (t + i) % 5 - 2;
                vec.Step(act, obs, rew, term, trunc);
                vec.Episodes!.Drain(drained);
            }
        }
        vec.Reset(obs, 1);
        Run(3000);
        Thread.Sleep(200); // let background tier-up compilation finish: it allocates, the VecEnv does not
        long beforeWorkers = Workers(vec);
        long beforeThread = GC.GetAllocatedBytesForCurrentThread();
        Run(1000);
        long onThread = GC.GetAllocatedBytesForCurrentThread() - beforeThread;
        long onWorkers = Workers(vec) - beforeWorkers;
        Assert.True(onThread == 0, $"{onThread} bytes allocated on the stepping thread in 1000 steps");
        Assert.True(onWorkers == 0, $"{onWorkers} bytes allocated on the worker threads in 1000 steps");
    }

    private static long Workers(VecEnv vec)
    {
        var threaded = vec.Find<ThreadedVecEnv>();
        if (threaded is null) { Assert.IsType<SyncVecEnv>(vec.Find<SyncVecEnv>()); return 0; }
        return threaded.WorkerAllocatedBytes;
    }
}
