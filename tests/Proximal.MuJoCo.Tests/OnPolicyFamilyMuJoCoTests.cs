using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Registry;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;

namespace Proximal.MuJoCo.Tests;

/// <summary>A2C and ACKTR on the MuJoCo tasks: a short InvertedPendulum learning test and an exact Hopper resume.</summary>
public class OnPolicyFamilyMuJoCoTests
{
    private static T Config<T>(string algo, string envId) where T : AlgorithmOptions, new()
    {
        var o = ConfigBinder.Load<T>(Path.Combine(AppContext.BaseDirectory, "configs", algo, envId + ".yaml"));
        o.Validate();
        return o;
    }

    [Fact]
    [Trait("Category", "Learning")]
    public void A2cBalancesInvertedPendulumWithinAShortBudget()
    {
        // configs/a2c/InvertedPendulum-v4.yaml (the zoo's settings) with its learning-rate schedule compressed into 1e5
        // steps instead of 1e6; deterministic evaluation return, seeds 1-4 checked while writing this test: 1000 each.
        // The test runs seed 1 and asks for 950 (Gymnasium's reward threshold for the task).
        MuJoCoTasks.Register();
        var o = Config<A2cOptions>("a2c", "InvertedPendulum-v4");
        o.Seed = 1;
        o.TotalSteps = 100_000;
        using var a2c = A2c.Create("InvertedPendulum-v4", o);
        a2c.Learn(o.TotalSteps);
        using var eval = BaseAlgorithm.BuildEnv("InvertedPendulum-v4", o, forEvaluation: true, numEnvs: 4);
        Evaluation.SyncNormalization(a2c.Env, eval);
        var r = Evaluation.Evaluate(a2c, eval, 10, deterministic: true, seed: 2024);
        Assert.True(r.MeanReturn >= 950, $"mean evaluation return {r.MeanReturn} < 950");
    }

    [Fact]
    public void AcktrHopperResumesBitIdenticallyFromAModelFile()
    {
        MuJoCoTasks.Register();
        var o = Config<AcktrOptions>("acktr", "Hopper-v4");
        o.NSteps = 128; o.KfacStatsBatchSize = 48; o.Seed = 5;
        string dir = Directory.CreateTempSubdirectory("proximal-mjacktr-").FullName;
        try
        {
            using var straight = Acktr.Create("Hopper-v4", o);
            straight.Learn(6 * 128);
            string path = Path.Combine(dir, "half.zip");
            using (var first = Acktr.Create("Hopper-v4", o))
            {
                first.Learn(6 * 128, [new LambdaCallback((a, _) => a.NumTimesteps < 3 * 128)]); // interrupted half-way
                first.Save(path);
            }
            using var resumed = (Acktr)AlgorithmRegistry.Load(path);
            resumed.Learn(3 * 128, schedule: ScheduleMode.Continue);
            Assert.Equal(straight.Policy.Parameters.Values, resumed.Policy.Parameters.Values);
            Assert.Equal(straight.Metrics["train/value_loss"], resumed.Metrics["train/value_loss"]);
        }
        finally { Directory.Delete(dir, true); }
    }
}
