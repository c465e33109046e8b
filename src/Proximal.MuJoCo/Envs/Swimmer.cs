using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>Swimmer-v4: observation qpos[2:] (3) + qvel (5); reward forward velocity − 1e-4·Σa²; never terminates.</summary>
public sealed class Swimmer(ulong seed = 0) : MuJoCoEnv("swimmer.xml", frameSkip: 4, observationSize: 8, seed)
{
    public const double ForwardRewardWeight = 1.0, ControlCostWeight = 1e-4, ResetNoiseScale = 0.1;

    protected override void ResetModel(Rng rng) => SetUniformNoiseState(rng, ResetNoiseScale, ResetNoiseScale);

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        double xBefore = Data.Qpos[0];
        Simulate(action);
        double xVelocity = (Data.Qpos[0] - xBefore) / Dt;
        double reward = ForwardRewardWeight * xVelocity - ControlCostWeight * SumOfSquares(action);
        WriteObservation(observation);
        return new StepResult(reward, Terminated: false, Truncated: false);
    }

    protected override void WriteObservation(Span<float> observation)
    {
        Write(Data.Qpos[2..], observation);
        Write(Data.Qvel, observation[3..]);
    }
}
