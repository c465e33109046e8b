using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs.ClassicControl;

/// <summary>
/// Acrobot-v1 with Gymnasium's "book" dynamics (Sutton and Barto), one classical RK4 step of dt = 0.2 as
/// Gymnasium's <c>rk4</c> does it, angle wrapping to [−π, π], velocity bounds 4π and 9π, reward −1 per step
/// and 0 on the terminating step, termination when −cos θ1 − cos(θ1 + θ2) &gt; 1. Initial state: each
/// component uniform in [−0.1, 0.1], rounded to float32 (as Gymnasium stores it). Actions 0/1/2: torque −1/0/+1.
/// State (float64): θ1, θ2, θ̇1, θ̇2. Observation: cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2.
/// </summary>
public sealed class Acrobot : IEnv, IRenderable, ISimulationState, IEnvSnapshot
{
    private const double Dt = 0.2, L1 = 1.0, M1 = 1.0, M2 = 1.0, Lc1 = 0.5, Lc2 = 0.5, I1 = 1.0, I2 = 1.0, G = 9.8;
    private const double MaxVel1 = 4 * Math.PI, MaxVel2 = 9 * Math.PI;

    private double _t1, _t2, _d1, _d2;
    private Rng? _rng;

    public Space ObservationSpace { get; } = new Box(
        new[] { -1f, -1f, -1f, -1f, -(float)MaxVel1, -(float)MaxVel2 },
        new[] { 1f, 1f, 1f, 1f, (float)MaxVel1, (float)MaxVel2 });

    public Space ActionSpace { get; } = new Discrete(3);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (observation.Length != 6) throw new ArgumentException($"Acrobot: observation buffer has {observation.Length} values, expected 6.", nameof(observation));
        var rng = ClassicControlChecks.Reseed(ref _rng, seed);
        _t1 = (float)rng.Uniform(-0.1, 0.1);
        _t2 = (float)rng.Uniform(-0.1, 0.1);
        _d1 = (float)rng.Uniform(-0.1, 0.1);
        _d2 = (float)rng.Uniform(-0.1, 0.1);
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 1 || observation.Length != 6) ClassicControlChecks.Buffers("Acrobot", action, 1, observation, 6);
        double torque = ClassicControlChecks.DiscreteAction("Acrobot", action[0], 3) - 1.0;

        // rk4(derivs, y0, [0, dt]): dt2 = dt / 2, y1 = y0 + dt / 6 * (k1 + 2 k2 + 2 k3 + k4).
        const double h = Dt, h2 = Dt / 2.0;
        double y0 = _t1, y1 = _t2, y2 = _d1, y3 = _d2;
        Derivs(y0, y1, y2, y3, torque, out double a0, out double a1, out double a2, out double a3);
        Derivs(y0 + h2 * a0, y1 + h2 * a1, y2 + h2 * a2, y3 + h2 * a3, torque, out double b0, out double b1, out double b2, out double b3);
        Derivs(y0 + h2 * b0, y1 + h2 * b1, y2 + h2 * b2, y3 + h2 * b3, torque, out double c0, out double c1, out double c2, out double c3);
        Derivs(y0 + h * c0, y1 + h * c1, y2 + h * c2, y3 + h * c3, torque, out double e0, out double e1, out double e2, out double e3);
        const double w = Dt / 6.0;
        _t1 = Wrap(y0 + w * (a0 + 2 * b0 + 2 * c0 + e0));
        _t2 = Wrap(y1 + w * (a1 + 2 * b1 + 2 * c1 + e1));
        _d1 = Math.Min(Math.Max(y2 + w * (a2 + 2 * b2 + 2 * c2 + e2), -MaxVel1), MaxVel1);
        _d2 = Math.Min(Math.Max(y3 + w * (a3 + 2 * b3 + 2 * c3 + e3), -MaxVel2), MaxVel2);

        bool terminated = -Math.Cos(_t1) - Math.Cos(_t2 + _t1) > 1.0;
        Write(observation);
        return new StepResult(terminated ? 0.0 : -1.0, terminated, false);
    }

    private static void Derivs(double theta1, double theta2, double dtheta1, double dtheta2, double a,
        out double o0, out double o1, out double o2, out double o3)
    {
        double cos2 = Math.Cos(theta2), sin2 = Math.Sin(theta2);
        double d1 = M1 * (Lc1 * Lc1) + M2 * (L1 * L1 + Lc2 * Lc2 + 2 * L1 * Lc2 * cos2) + I1 + I2;
        double d2 = M2 * (Lc2 * Lc2 + L1 * Lc2 * cos2) + I2;
        double phi2 = M2 * Lc2 * G * Math.Cos(theta1 + theta2 - Math.PI / 2.0);
        double phi1 = -M2 * L1 * Lc2 * (dtheta2 * dtheta2) * sin2
                      - 2 * M2 * L1 * Lc2 * dtheta2 * dtheta1 * sin2
                      + (M1 * Lc1 + M2 * L1) * G * Math.Cos(theta1 - Math.PI / 2)
                      + phi2;
        double ddtheta2 = (a + d2 / d1 * phi1 - M2 * L1 * Lc2 * (dtheta1 * dtheta1) * sin2 - phi2)
                          / (M2 * (Lc2 * Lc2) + I2 - (d2 * d2) / d1);
        double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        o0 = dtheta1; o1 = dtheta2; o2 = ddtheta1; o3 = ddtheta2;
    }

    private static double Wrap(double x)
    {
        const double diff = 2 * Math.PI;
        while (x > Math.PI) x -= diff;
        while (x < -Math.PI) x += diff;
        return x;
    }

    private void Write(Span<float> o)
    {
        o[5] = (float)_d2;
        o[0] = (float)Math.Cos(_t1);
        o[1] = (float)Math.Sin(_t1);
        o[2] = (float)Math.Cos(_t2);
        o[3] = (float)Math.Sin(_t2);
        o[4] = (float)_d1;
    }

    public int StateSize => 4;

    public void GetState(Span<double> state)
    {
        ClassicControlChecks.State("Acrobot", state, 4);
        state[0] = _t1; state[1] = _t2; state[2] = _d1; state[3] = _d2;
    }

    public void SetState(ReadOnlySpan<double> state)
    {
        ClassicControlChecks.State("Acrobot", state, 4);
        _t1 = state[0]; _t2 = state[1]; _d1 = state[2]; _d2 = state[3];
    }

    public string Render() =>
        $"θ1={_t1 * 180 / Math.PI:+000.0;-000.0}° θ2={_t2 * 180 / Math.PI:+000.0;-000.0}° tip height={-Math.Cos(_t1) - Math.Cos(_t1 + _t2):+0.00;-0.00} (goal > 1)";

    public void Dispose() { }

    // Snapshot for exact resume: the simulation state, then the generator of future resets.
    public int SnapshotSize => SnapshotCodec.Size(this);
    public void SaveSnapshot(Span<double> snapshot) => SnapshotCodec.Save(this, _rng, snapshot, "Acrobot");
    public void LoadSnapshot(ReadOnlySpan<double> snapshot) => SnapshotCodec.Load(this, ref _rng, snapshot, "Acrobot");
}
