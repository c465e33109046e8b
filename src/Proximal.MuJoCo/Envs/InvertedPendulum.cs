using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>InvertedPendulum-v4: observation qpos (2) + qvel (2); reward 1 per step; terminates when the
/// observation is not finite or |pole angle| &gt; 0.2.</summary>
public sealed class InvertedPendulum(ulong seed = 0) : MuJoCoEnv("inverted_pendulum.xml", frameSkip: 2, observationSize: 4, seed)
{
    public const double ResetNoiseScale = 0.01;

    protected override void ResetModel(Rng rng) => SetUniformNoiseState(rng, ResetNoiseScale, ResetNoiseScale);

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        Simulate(action);
        WriteObservation(observation);
        return new StepResult(1.0, Terminated: IsTerminal(Data.Qpos, Data.Qvel), Truncated: false);
    }

    public static bool IsTerminal(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel)
    {
        foreach (double v in qpos) if (!double.IsFinite(v)) return true;
        foreach (double v in qvel) if (!double.IsFinite(v)) return true;
        return Math.Abs(qpos[1]) > 0.2;
    }

    protected override void WriteObservation(Span<float> observation)
    {
        Write(Data.Qpos, observation);
        Write(Data.Qvel, observation[2..]);
    }
}
