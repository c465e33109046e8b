using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs.ClassicControl;

/// <summary>
/// MountainCarContinuous-v0 with Gymnasium's dynamics: force = clip(a, −1, 1) · 0.0015, gravity term
/// −0.0025 cos 3x, speed limit 0.07, position in [−1.2, 0.6], termination at position ≥ 0.45 with velocity ≥ 0,
/// reward 100 on reaching the goal minus 0.1·a² (the unclipped action) every step. As in Gymnasium the state
/// is rounded to float32 after every step (the arithmetic itself is float64). Initial position uniform in
/// [−0.6, −0.4], velocity 0.
/// </summary>
public sealed class MountainCarContinuous : IEnv, IRenderable, ISimulationState, IEnvSnapshot
{
    private const double MinAction = -1.0, MaxAction = 1.0, MinPosition = -1.2, MaxPosition = 0.6, MaxSpeed = 0.07;
    private const double GoalPosition = 0.45, Power = 0.0015;

    private double _position, _velocity;
    private Rng? _rng;

    public MountainCarContinuous(double goalVelocity = 0.0) => GoalVelocity = goalVelocity;

    public double GoalVelocity { get; }

    public Space ObservationSpace { get; } = new Box(new[] { (float)MinPosition, -(float)MaxSpeed }, new[] { (float)MaxPosition, (float)MaxSpeed });
    public Space ActionSpace { get; } = new Box(-1f, 1f, 1);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (observation.Length != 2) throw new ArgumentException($"MountainCarContinuous: observation buffer has {observation.Length} values, expected 2.", nameof(observation));
        var rng = ClassicControlChecks.Reseed(ref _rng, seed);
        _position = rng.Uniform(-0.6, -0.4);
        _velocity = 0;
        observation[0] = (float)_position;
        observation[1] = 0f;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 1 || observation.Length != 2) ClassicControlChecks.Buffers("MountainCarContinuous", action, 1, observation, 2);
        double a = ClassicControlChecks.ContinuousAction("MountainCarContinuous", action[0]);
        double position = _position, velocity = _velocity;
        double force = Math.Min(Math.Max(a, MinAction), MaxAction);
        velocity += force * Power - 0.0025 * Math.Cos(3 * position);
        if (velocity > MaxSpeed) velocity = MaxSpeed;
        if (velocity < -MaxSpeed) velocity = -MaxSpeed;
        position += velocity;
        if (position > MaxPosition) position = MaxPosition;
        if (position < MinPosition) position = MinPosition;
        if (position == MinPosition && velocity < 0) velocity = 0;
        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        double reward = (terminated ? 100.0 : 0.0) - Math.Pow(a, 2) * 0.1;
        float p = (float)position, v = (float)velocity;
        _position = p;
        _velocity = v;
        observation[0] = p;
        observation[1] = v;
        return new StepResult(reward, terminated, false);
    }

    public int StateSize => 2;

    public void GetState(Span<double> state)
    {
        ClassicControlChecks.State("MountainCarContinuous", state, 2);
        state[0] = _position; state[1] = _velocity;
    }

    public void SetState(ReadOnlySpan<double> state)
    {
        ClassicControlChecks.State("MountainCarContinuous", state, 2);
        _position = state[0]; _velocity = state[1];
    }

    public string Render() => $"[{ClassicControlChecks.Bar(_position, MinPosition, MaxPosition)}] x={_position:+0.000;-0.000} v={_velocity:+0.0000;-0.0000} (goal x ≥ {GoalPosition})";

    public void Dispose() { }

    // Snapshot for exact resume: the simulation state, then the generator of future resets.
    public int SnapshotSize => SnapshotCodec.Size(this);
    public void SaveSnapshot(Span<double> snapshot) => SnapshotCodec.Save(this, _rng, snapshot, "MountainCarContinuous");
    public void LoadSnapshot(ReadOnlySpan<double> snapshot) => SnapshotCodec.Load(this, ref _rng, snapshot, "MountainCarContinuous");
}
