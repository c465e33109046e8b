using Proximal.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Envs;

/// <summary>Reacher-v4: observation cos and sin of the two arm angles, target xy, arm velocities, and
/// fingertip − target (3-D); reward −‖fingertip − target‖ − Σa², computed before the simulation step.</summary>
public sealed class Reacher : MuJoCoEnv
{
    public const double QposNoiseScale = 0.1, QvelNoiseScale = 0.005, GoalRadius = 0.2;
    private readonly int _fingertip, _target;

    public Reacher(ulong seed = 0) : base("reacher.xml", frameSkip: 2, observationSize: 11, seed)
    {
        _fingertip = Model.BodyId("fingertip");
        _target = Model.BodyId("target");
    }

    protected override void ResetModel(Rng rng)
    {
        Span<double> qpos = Data.Qpos, qvel = Data.Qvel;
        for (int i = 0; i < qpos.Length; i++) qpos[i] = InitQpos[i] + rng.Uniform(-QposNoiseScale, QposNoiseScale);
        double gx, gy;
        do
        {
            gx = rng.Uniform(-GoalRadius, GoalRadius);
            gy = rng.Uniform(-GoalRadius, GoalRadius);
        } while (Math.Sqrt(gx * gx + gy * gy) >= GoalRadius);
        qpos[^2] = gx;
        qpos[^1] = gy;
        for (int i = 0; i < qvel.Length; i++) qvel[i] = InitQvel[i] + rng.Uniform(-QvelNoiseScale, QvelNoiseScale);
        qvel[^2] = 0;
        qvel[^1] = 0;
    }

    protected override StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation)
    {
        Span<double> delta = stackalloc double[3];
        FingertipMinusTarget(delta);
        double distance = Math.Sqrt(delta[0] * delta[0] + delta[1] * delta[1] + delta[2] * delta[2]);
        double reward = -distance - SumOfSquares(action);
        Simulate(action);
        WriteObservation(observation);
        return new StepResult(reward, Terminated: false, Truncated: false);
    }

    // The reward is computed before simulating, from xpos as MuJoCo left it after the previous step (the last
    // substep's forward pass): the state carries the fingertip and target positions. The goal itself is qpos[2:].
    protected override int TaskStateSize => 6;

    protected override void GetTaskState(Span<double> state)
    {
        ReadOnlySpan<double> xpos = Data.Xpos;
        xpos.Slice(3 * _fingertip, 3).CopyTo(state);
        xpos.Slice(3 * _target, 3).CopyTo(state[3..]);
    }

    protected override void SetTaskState(ReadOnlySpan<double> state)
    {
        Span<double> xpos = Data.Xpos;
        state[..3].CopyTo(xpos.Slice(3 * _fingertip, 3));
        state.Slice(3, 3).CopyTo(xpos.Slice(3 * _target, 3));
    }

    private void FingertipMinusTarget(Span<double> delta)
    {
        ReadOnlySpan<double> xpos = Data.Xpos;
        for (int k = 0; k < 3; k++) delta[k] = xpos[3 * _fingertip + k] - xpos[3 * _target + k];
    }

    protected override void WriteObservation(Span<float> observation)
    {
        ReadOnlySpan<double> qpos = Data.Qpos, qvel = Data.Qvel;
        observation[0] = (float)Math.Cos(qpos[0]);
        observation[1] = (float)Math.Cos(qpos[1]);
        observation[2] = (float)Math.Sin(qpos[0]);
        observation[3] = (float)Math.Sin(qpos[1]);
        observation[4] = (float)qpos[2];
        observation[5] = (float)qpos[3];
        observation[6] = (float)qvel[0];
        observation[7] = (float)qvel[1];
        Span<double> delta = stackalloc double[3];
        FingertipMinusTarget(delta);
        Write(delta, observation[8..]);
    }
}
