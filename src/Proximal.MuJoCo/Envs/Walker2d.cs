using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>Walker2d-v4: observation qpos[1:] (8) + clip(qvel, ±10) (9); reward forward velocity + 1 − 1e-3·Σa².</summary>
public sealed class Walker2d(ulong seed = 0) : MuJoCoEnv("walker2d.xml", frameSkip: 4, observationSize: 17, seed)
{
    public const double ForwardRewardWeight = 1.0, HealthyReward = 1.0, ControlCostWeight = 1e-3;
    public const double ResetNoiseScale = 5e-3;

    protected override void ResetModel(Rng rng) => SetUniformNoiseState(rng, ResetNoiseScale, ResetNoiseScale);

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        double xBefore = Data.Qpos[0];
        Simulate(action);
        double xVelocity = (Data.Qpos[0] - xBefore) / Dt;
        double reward = ForwardRewardWeight * xVelocity + HealthyReward - ControlCostWeight * SumOfSquares(action);
        WriteObservation(observation);
        return new StepResult(reward, Terminated: !IsHealthy(Data.Qpos), Truncated: false);
    }

    /// <summary>Height qpos[1] inside (0.8, 2.0) and angle qpos[2] inside (−1, 1).</summary>
    public static bool IsHealthy(ReadOnlySpan<double> qpos)
    {
        double z = qpos[1], angle = qpos[2];
        return z > 0.8 && z < 2.0 && angle > -1.0 && angle < 1.0;
    }

    protected override void WriteObservation(Span<float> observation)
    {
        Write(Data.Qpos[1..], observation);
        WriteClipped(Data.Qvel, 10, observation[8..]);
    }
}
