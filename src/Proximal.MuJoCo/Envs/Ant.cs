using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>Ant-v4: observation qpos[2:] (13) + qvel (14), plus clip(cfrc_ext, ±1) (84) with
/// <c>useContactForces</c>; reward torso x velocity + 1 − 0.5·Σa² (− 5e-4·Σ contact² with contact forces);
/// terminates when the state is not finite or torso height qpos[2] leaves [0.2, 1.0].</summary>
public sealed class Ant : MuJoCoEnv
{
    public const double ForwardRewardWeight = 1.0, HealthyReward = 1.0, ControlCostWeight = 0.5;
    public const double ContactCostWeight = 5e-4, ContactForceBound = 1.0, ResetNoiseScale = 0.1;
    public const double MinHealthyZ = 0.2, MaxHealthyZ = 1.0;
    private readonly int _torso;

    public Ant(ulong seed = 0, bool useContactForces = false)
        : base("ant.xml", frameSkip: 5, observationSize: useContactForces ? 111 : 27, seed)
    {
        UseContactForces = useContactForces;
        _torso = Model.BodyId("torso");
    }

    public bool UseContactForces { get; }

    protected override void ResetModel(Rng rng) => SetUniformGaussianNoiseState(rng, ResetNoiseScale, ResetNoiseScale);

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        // Gymnasium's get_body_com("torso") reads data.xpos of the torso body.
        double xBefore = Data.Xpos[3 * _torso];
        Simulate(action);
        double xVelocity = (Data.Xpos[3 * _torso] - xBefore) / Dt;
        double reward = ForwardRewardWeight * xVelocity + HealthyReward - ControlCostWeight * SumOfSquares(action);
        if (UseContactForces) reward -= ContactCostWeight * ContactSumOfSquares(Data.CfrcExt);
        WriteObservation(observation);
        return new StepResult(reward, Terminated: !IsHealthy(Data.Qpos, Data.Qvel), Truncated: false);
    }

    // The next step's "x before" is the torso's xpos as MuJoCo left it (from the last substep's forward pass).
    protected override int TaskStateSize => 1;
    protected override void GetTaskState(Span<double> state) => state[0] = Data.Xpos[3 * _torso];
    protected override void SetTaskState(ReadOnlySpan<double> state) => Data.Xpos[3 * _torso] = state[0];

    /// <summary>Σ clip(cfrc_ext, ±1)².</summary>
    public static double ContactSumOfSquares(ReadOnlySpan<double> cfrcExt)
    {
        double sum = 0;
        foreach (double f in cfrcExt)
        {
            double c = Math.Clamp(f, -ContactForceBound, ContactForceBound);
            sum += c * c;
        }
        return sum;
    }

    /// <summary>Every qpos and qvel finite and 0.2 ≤ qpos[2] ≤ 1.0.</summary>
    public static bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel)
    {
        foreach (double v in qpos) if (!double.IsFinite(v)) return false;
        foreach (double v in qvel) if (!double.IsFinite(v)) return false;
        return qpos[2] >= MinHealthyZ && qpos[2] <= MaxHealthyZ;
    }

    protected override void WriteObservation(Span<float> observation)
    {
        Write(Data.Qpos[2..], observation);
        Write(Data.Qvel, observation[13..]);
        if (UseContactForces) WriteClipped(Data.CfrcExt, ContactForceBound, observation[27..]);
    }
}
