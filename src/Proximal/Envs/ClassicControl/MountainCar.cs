using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs.ClassicControl;

/// <summary>
/// MountainCar-v0 (Moore 1990) with Gymnasium's dynamics: force 0.001, gravity 0.0025, speed limit 0.07,
/// position in [−1.2, 0.6] (velocity zeroed at the left wall), reward −1 per step, termination at
/// position ≥ 0.5 with velocity ≥ 0. Initial position uniform in [−0.6, −0.4], velocity 0.
/// Actions 0/1/2: push left / none / right. State (float64): position, velocity.
/// </summary>
public sealed class MountainCar : IEnv, IRenderable, ISimulationState, IEnvSnapshot
{
    internal const double MinPosition = -1.2, MaxPosition = 0.6, MaxSpeed = 0.07, GoalPosition = 0.5;
    private const double Force = 0.001, Gravity = 0.0025;

    private double _position, _velocity;
    private Rng? _rng;

    public MountainCar(double goalVelocity = 0.0) => GoalVelocity = goalVelocity;

    public double GoalVelocity { get; }

    public Space ObservationSpace { get; } = new Box(new[] { (float)MinPosition, -(float)MaxSpeed }, new[] { (float)MaxPosition, (float)MaxSpeed });
    public Space ActionSpace { get; } = new Discrete(3);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (observation.Length != 2) throw new ArgumentException($"MountainCar: observation buffer has {observation.Length} values, expected 2.", nameof(observation));
        var rng = ClassicControlChecks.Reseed(ref _rng, seed);
        _position = rng.Uniform(-0.6, -0.4);
        _velocity = 0;
        observation[0] = (float)_position;
        observation[1] = 0f;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 1 || observation.Length != 2) ClassicControlChecks.Buffers("MountainCar", action, 1, observation, 2);
        int a = ClassicControlChecks.DiscreteAction("MountainCar", action[0], 3);
        double position = _position, velocity = _velocity;
        velocity += (a - 1) * Force + Math.Cos(3 * position) * -Gravity;
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0) velocity = 0;
        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        _position = position;
        _velocity = velocity;
        observation[0] = (float)position;
        observation[1] = (float)velocity;
        return new StepResult(-1.0, terminated, false);
    }

    public int StateSize => 2;

    public void GetState(Span<double> state)
    {
        ClassicControlChecks.State("MountainCar", state, 2);
        state[0] = _position; state[1] = _velocity;
    }

    public void SetState(ReadOnlySpan<double> state)
    {
        ClassicControlChecks.State("MountainCar", state, 2);
        _position = state[0]; _velocity = state[1];
    }

    public string Render() => $"[{ClassicControlChecks.Bar(_position, MinPosition, MaxPosition)}] x={_position:+0.000;-0.000} v={_velocity:+0.0000;-0.0000} (goal x ≥ {GoalPosition})";

    public void Dispose() { }

    // Snapshot for exact resume: the simulation state, then the generator of future resets.
    public int SnapshotSize => SnapshotCodec.Size(this);
    public void SaveSnapshot(Span<double> snapshot) => SnapshotCodec.Save(this, _rng, snapshot, "MountainCar");
    public void LoadSnapshot(ReadOnlySpan<double> snapshot) => SnapshotCodec.Load(this, ref _rng, snapshot, "MountainCar");
}
