using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>Humanoid-v4: observation qpos[2:] (22), qvel (23), cinert (140), cvel (84), qfrc_actuator (23),
/// cfrc_ext (84); reward 1.25 × x velocity of the mass-weighted centre of mass + 5 − 0.1·Σctrl²;
/// terminates when qpos[2] leaves (1.0, 2.0).</summary>
public sealed class Humanoid : MuJoCoEnv
{
    public const double ForwardRewardWeight = 1.25, HealthyReward = 5.0, ControlCostWeight = 0.1;
    public const double ResetNoiseScale = 1e-2, MinHealthyZ = 1.0, MaxHealthyZ = 2.0;
    private readonly double _totalMass;

    public Humanoid(ulong seed = 0) : base("humanoid.xml", frameSkip: 5, observationSize: 376, seed)
    {
        foreach (double m in Model.BodyMass) _totalMass += m;
    }

    protected override void ResetModel(Rng rng) => SetUniformNoiseState(rng, ResetNoiseScale, ResetNoiseScale);

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        double xBefore = MassCenterX();
        Simulate(action);
        double xVelocity = (MassCenterX() - xBefore) / Dt;
        double controlCost = 0;
        foreach (double c in Data.Ctrl) controlCost += c * c;
        double reward = ForwardRewardWeight * xVelocity + HealthyReward - ControlCostWeight * controlCost;
        WriteObservation(observation);
        double z = Data.Qpos[2];
        return new StepResult(reward, Terminated: !(z > MinHealthyZ && z < MaxHealthyZ), Truncated: false);
    }

    // The next step's centre of mass "before" reads xipos as MuJoCo left it (from the last substep's
    // forward pass): the state carries the x column of xipos, one value per body.
    protected override int TaskStateSize => Model.Nbody;

    protected override void GetTaskState(Span<double> state)
    {
        ReadOnlySpan<double> xipos = Data.Xipos;
        for (int b = 0; b < state.Length; b++) state[b] = xipos[3 * b];
    }

    protected override void SetTaskState(ReadOnlySpan<double> state)
    {
        Span<double> xipos = Data.Xipos;
        for (int b = 0; b < state.Length; b++) xipos[3 * b] = state[b];
    }

    /// <summary>x of Σ body_mass·xipos / Σ body_mass (data.xipos as MuJoCo left it, as Gymnasium reads it).</summary>
    private double MassCenterX()
    {
        ReadOnlySpan<double> mass = Model.BodyMass, xipos = Data.Xipos;
        double sum = 0;
        for (int b = 0; b < mass.Length; b++) sum += mass[b] * xipos[3 * b];
        return sum / _totalMass;
    }

    protected override void WriteObservation(Span<float> observation)
    {
        int o = 0;
        Append(Data.Qpos[2..], observation, ref o);
        Append(Data.Qvel, observation, ref o);
        Append(Data.Cinert, observation, ref o);
        Append(Data.Cvel, observation, ref o);
        Append(Data.QfrcActuator, observation, ref o);
        Append(Data.CfrcExt, observation, ref o);
    }

    private static void Append(ReadOnlySpan<double> values, Span<float> observation, ref int offset)
    {
        Write(values, observation[offset..]);
        offset += values.Length;
    }
}
