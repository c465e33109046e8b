using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Common.Callbacks;

namespace Proximal.Tests.Algorithms;

/// <summary>TRPO's continuous-action learning test (its CartPole one is in <see cref="TrpoTests"/>).</summary>
public class TrpoPendulumLearningTests
{
    [Fact]
    [Trait("Category", "Learning")]
    public void PendulumReachesEvaluationReturnAboveMinus300WithinItsBudget()
    {
        // configs/trpo/Pendulum-v1.yaml (the zoo's 1e5 steps); deterministic evaluation return, seeds 1-3 checked while
        // writing this test: -167, -175, -164. The test runs seed 1.
        var o = TrpoTests.Config("Pendulum-v1");
        o.Seed = 1;
        Assert.True(o.TotalSteps <= 100_000);
        using var trpo = Trpo.Create("Pendulum-v1", o);
        trpo.Learn(o.TotalSteps);
        using var eval = BaseAlgorithm.BuildEnv("Pendulum-v1", o, forEvaluation: true, numEnvs: 4);
        Evaluation.SyncNormalization(trpo.Env, eval);
        var r = Evaluation.Evaluate(trpo, eval, 20, deterministic: true, seed: 2024);
        Assert.True(r.MeanReturn >= -300, $"mean evaluation return {r.MeanReturn} < -300");
    }
}
