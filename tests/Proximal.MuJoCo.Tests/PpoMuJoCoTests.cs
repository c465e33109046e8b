using Proximal.Common.Callbacks;
using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Envs;
using Proximal.Common.Config;

namespace Proximal.MuJoCo.Tests;

public class PpoMuJoCoTests
{
    private static PpoOptions Small() => new()
    {
        NEnvs = 2, NSteps = 64, MinibatchSize = 32, NEpochs = 2, Seed = 5, TotalSteps = 10_000,
        NormalizeObservation = true, NormalizeReward = true, AnnealLr = true,
    };

    [Fact]
    public void HopperTrainingResumesBitIdenticallyFromAModelFile()
    {
        MuJoCoTasks.Register();
        string dir = Directory.CreateTempSubdirectory("proximal-mjppo-").FullName;
        try
        {
            using var straight = Ppo.Create("Hopper-v4", Small());
            straight.Learn(4 * 128);
            string path = Path.Combine(dir, "half.zip");
            using (var first = Ppo.Create("Hopper-v4", Small()))
            {
                first.Learn(4 * 128, [new LambdaCallback((a, _) => a.NumTimesteps < 256)]); // interrupted half-way
                first.Save(path);
            }
            using var resumed = Ppo.Load(path);
            resumed.Learn(2 * 128, schedule: ScheduleMode.Continue);
            Assert.Equal(straight.Policy.Parameters.Values, resumed.Policy.Parameters.Values);
            Assert.Equal(straight.Metrics["train/value_loss"], resumed.Metrics["train/value_loss"]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void InvertedPendulumLearnsWithThePaperSettings()
    {
        MuJoCoTasks.Register();
        string path = Path.Combine(AppContext.BaseDirectory, "configs", "ppo", "InvertedPendulum-v4.yaml");
        var o = ConfigBinder.Load<PpoOptions>(path);
        o.TotalSteps = 60_000;
        using var ppo = Ppo.Create("InvertedPendulum-v4", o);
        ppo.Learn(o.TotalSteps);
        // Random play balances for about 5-10 steps; the last 100 training episodes must be far longer.
        double recent = ppo.Metrics["rollout/episode_return_mean"];
        Assert.True(recent >= 100, $"mean return of the last 100 episodes after 60k steps: {recent}");
    }
}
