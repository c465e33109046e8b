using Proximal.Algorithms.OnPolicy;
using Proximal.Common.Callbacks;

namespace Proximal.Tests.Training;

public class CallbackTests
{
    private static PpoOptions Options() => new()
    {
        NEnvs = 8, NSteps = 32, MinibatchSize = 64, NEpochs = 20, LearningRate = 1e-3, AnnealLr = true,
        Gamma = 0.98, GaeLambda = 0.8, Seed = 1, TotalSteps = 150_000,
    };

    [Fact]
    public void StopOnRewardThresholdEndsTrainingOnceTheRecentMeanReachesIt()
    {
        using var ppo = Ppo.Create("CartPole-v1", Options());
        var stop = new StopOnRewardThreshold(100);
        ppo.Learn(150_000, [stop]);
        Assert.True(ppo.NumTimesteps < 150_000, "stopped before the budget");
        Assert.True(ppo.Metrics["rollout/episode_return_mean"] >= 100);
    }

    [Fact]
    public void EvalCallbackEvaluatesOnScheduleAndCanStopAtAMeanReturn()
    {
        using var ppo = Ppo.Create("CartPole-v1", Options());
        using var eval = new EvalCallback(() => Ppo.BuildEnv("CartPole-v1", ppo.Options, forEvaluation: true, numEnvs: 2),
            everySteps: 2048, episodes: 4, stopAtMeanReturn: 200);
        ppo.Learn(150_000, [eval]);
        Assert.True(eval.ReachedThreshold);
        Assert.True(eval.Last!.MeanReturn >= 200);
        Assert.True(ppo.NumTimesteps < 150_000);
        // One evaluation per 2048-step boundary crossed (rollouts are 256 steps, so exactly at multiples).
        Assert.Equal(ppo.NumTimesteps / 2048, eval.History.Count);
        Assert.All(eval.History, h => Assert.Equal(0, h.Step % 2048));
    }

    [Fact]
    public void CheckpointCallbackSavesLoadableModelsAtItsInterval()
    {
        string dir = Directory.CreateTempSubdirectory("proximal-ckpt-").FullName;
        try
        {
            using var ppo = Ppo.Create("CartPole-v1", Options());
            var ckpt = new CheckpointCallback(dir, 1024);
            ppo.Learn(4096, [ckpt]);
            Assert.Equal(new[] { "model_1024.zip", "model_2048.zip", "model_3072.zip", "model_4096.zip" }, ckpt.Saved.Select(Path.GetFileName));
            using var loaded = Ppo.Load(ckpt.Saved[1]);
            Assert.Equal(2048, loaded.NumTimesteps);
        }
        finally { Directory.Delete(dir, true); }
    }
}
