using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>InvertedDoublePendulum-v4: observation cart x, sin and cos of the two pole angles,
/// clip(qvel, ±10), clip(qfrc_constraint, ±10); reward 10 − distance penalty − velocity penalty of the
/// tip site; terminates when the tip height y ≤ 1.</summary>
public sealed class InvertedDoublePendulum : MuJoCoEnv
{
    public const double AliveBonus = 10.0, ResetNoiseScale = 0.1;
    private readonly int _tip;

    public InvertedDoublePendulum(ulong seed = 0) : base("inverted_double_pendulum.xml", frameSkip: 5, observationSize: 11, seed)
        => _tip = Model.SiteId("tip");

    protected override void ResetModel(Rng rng) => SetUniformGaussianNoiseState(rng, ResetNoiseScale, ResetNoiseScale);

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        Simulate(action);
        WriteObservation(observation);
        // site_xpos is as MuJoCo left it after the last substep's forward pass, as Gymnasium reads it.
        ReadOnlySpan<double> tip = Data.SiteXpos.Slice(3 * _tip, 3);
        double x = tip[0], y = tip[2];
        double v1 = Data.Qvel[1], v2 = Data.Qvel[2];
        double distancePenalty = 0.01 * x * x + (y - 2) * (y - 2);
        double velocityPenalty = 1e-3 * v1 * v1 + 5e-3 * v2 * v2;
        return new StepResult(AliveBonus - distancePenalty - velocityPenalty, Terminated: y <= 1, Truncated: false);
    }

    protected override void WriteObservation(Span<float> observation)
    {
        ReadOnlySpan<double> qpos = Data.Qpos;
        observation[0] = (float)qpos[0];
        observation[1] = (float)Math.Sin(qpos[1]);
        observation[2] = (float)Math.Sin(qpos[2]);
        observation[3] = (float)Math.Cos(qpos[1]);
        observation[4] = (float)Math.Cos(qpos[2]);
        WriteClipped(Data.Qvel, 10, observation[5..]);
        WriteClipped(Data.QfrcConstraint, 10, observation[8..]);
    }
}
