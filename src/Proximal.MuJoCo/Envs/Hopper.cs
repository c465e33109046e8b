using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>Hopper-v4: observation qpos[1:] (5) + clip(qvel, ±10) (6); reward forward velocity + 1 − 1e-3·Σa².</summary>
public sealed class Hopper(ulong seed = 0) : MuJoCoEnv("hopper.xml", frameSkip: 4, observationSize: 11, seed)
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
        return new StepResult(reward, Terminated: !IsHealthy(Data.Qpos, Data.Qvel), Truncated: false);
    }

    /// <summary>All of qpos[2:] and qvel inside (−100, 100), height qpos[1] &gt; 0.7, angle qpos[2] inside (−0.2, 0.2).</summary>
    public static bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel)
    {
        for (int i = 2; i < qpos.Length; i++) if (!(qpos[i] > -100 && qpos[i] < 100)) return false;
        foreach (double v in qvel) if (!(v > -100 && v < 100)) return false;
        double z = qpos[1], angle = qpos[2];
        return z > 0.7 && angle > -0.2 && angle < 0.2;
    }

    protected override void WriteObservation(Span<float> observation)
    {
        Write(Data.Qpos[1..], observation);
        WriteClipped(Data.Qvel, 10, observation[5..]);
    }
}
