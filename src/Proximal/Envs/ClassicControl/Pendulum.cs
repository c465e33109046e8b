using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs.ClassicControl;

/// <summary>
/// Pendulum-v1 with Gymnasium's dynamics: torque clipped to [−2, 2], semi-implicit Euler with dt = 0.05,
/// g = 10 (configurable), m = l = 1, speed limit 8, cost = normalize(θ)² + 0.1 θ̇² + 0.001 u², reward = −cost,
/// never terminates (the registry truncates at 200 steps). Initial θ uniform in [−π, π], θ̇ in [−1, 1].
/// State (float64): θ, θ̇. Observation: cos θ, sin θ, θ̇.
/// </summary>
public sealed class Pendulum : IEnv, IRenderable, ISimulationState, IEnvSnapshot
{
    private const double MaxSpeed = 8, MaxTorque = 2.0, Dt = 0.05, M = 1.0, L = 1.0;

    private double _theta, _thetaDot;
    private Rng? _rng;

    public Pendulum(double gravity = 10.0)
    {
        if (!double.IsFinite(gravity)) throw new ArgumentOutOfRangeException(nameof(gravity), gravity, "Pendulum gravity must be finite.");
        Gravity = gravity;
    }

    public double Gravity { get; }

    public Space ObservationSpace { get; } = new Box(new[] { -1f, -1f, -(float)MaxSpeed }, new[] { 1f, 1f, (float)MaxSpeed });
    public Space ActionSpace { get; } = new Box(-(float)MaxTorque, (float)MaxTorque, 1);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (observation.Length != 3) throw new ArgumentException($"Pendulum: observation buffer has {observation.Length} values, expected 3.", nameof(observation));
        var rng = ClassicControlChecks.Reseed(ref _rng, seed);
        _theta = rng.Uniform(-Math.PI, Math.PI);
        _thetaDot = rng.Uniform(-1.0, 1.0);
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 1 || observation.Length != 3) ClassicControlChecks.Buffers("Pendulum", action, 1, observation, 3);
        double u = Math.Clamp(ClassicControlChecks.ContinuousAction("Pendulum", action[0]), -MaxTorque, MaxTorque);
        double th = _theta, thdot = _thetaDot;
        double norm = AngleNormalize(th);
        double costs = norm * norm + 0.1 * (thdot * thdot) + 0.001 * (u * u);
        double newThdot = thdot + (3 * Gravity / (2 * L) * Math.Sin(th) + 3.0 / (M * L * L) * u) * Dt;
        newThdot = Math.Clamp(newThdot, -MaxSpeed, MaxSpeed);
        _theta = th + newThdot * Dt;
        _thetaDot = newThdot;
        Write(observation);
        return new StepResult(-costs, false, false);
    }

    /// <summary>((x + π) mod 2π) − π with Python's floor-mod (result has the sign of the divisor).</summary>
    private static double AngleNormalize(double x)
    {
        const double twoPi = 2 * Math.PI;
        double y = x + Math.PI;
        double r = y % twoPi; // fmod, exact; numpy then moves a negative remainder up by the divisor
        if (r < 0) r += twoPi;
        else if (r == 0) r = 0.0;
        return r - Math.PI;
    }

    private void Write(Span<float> o)
    {
        o[2] = (float)_thetaDot;
        (double s, double c) = Math.SinCos(_theta);
        o[0] = (float)c;
        o[1] = (float)s;
    }

    public int StateSize => 2;

    public void GetState(Span<double> state)
    {
        ClassicControlChecks.State("Pendulum", state, 2);
        state[0] = _theta; state[1] = _thetaDot;
    }

    public void SetState(ReadOnlySpan<double> state)
    {
        ClassicControlChecks.State("Pendulum", state, 2);
        _theta = state[0]; _thetaDot = state[1];
    }

    public string Render() => $"θ={AngleNormalize(_theta) * 180 / Math.PI:+000.0;-000.0}° θ̇={_thetaDot:+0.00;-0.00} (upright = 0°)";

    public void Dispose() { }

    // Snapshot for exact resume: the simulation state, then the generator of future resets.
    public int SnapshotSize => SnapshotCodec.Size(this);
    public void SaveSnapshot(Span<double> snapshot) => SnapshotCodec.Save(this, _rng, snapshot, "Pendulum");
    public void LoadSnapshot(ReadOnlySpan<double> snapshot) => SnapshotCodec.Load(this, ref _rng, snapshot, "Pendulum");
}
