using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>HalfCheetah-v4: observation qpos[1:] (8) + qvel (9); reward forward velocity − 0.1·Σa²; never terminates.</summary>
public sealed class HalfCheetah(ulong seed = 0) : MuJoCoEnv("half_cheetah.xml", frameSkip: 5, observationSize: 17, seed)
{
    public const double ForwardRewardWeight = 1.0, ControlCostWeight = 0.1, ResetNoiseScale = 0.1;

    protected override void ResetModel(Rng rng) => SetUniformGaussianNoiseState(rng, ResetNoiseScale, ResetNoiseScale);

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
        Write(Data.Qpos[1..], observation);
        Write(Data.Qvel, observation[8..]);
    }
}
