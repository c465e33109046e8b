using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs.ClassicControl;

/// <summary>
/// CartPole-v1 with Gymnasium's dynamics (Barto, Sutton and Anderson 1983; explicit Euler, τ = 0.02),
/// constants, reward (+1 per step including the terminating one, 0 after), termination
/// (|x| &gt; 2.4 or |θ| &gt; 12°) and initial state (each component uniform in [−0.05, 0.05]).
/// Truncation at 500 steps comes from the registry's TimeLimit, as in <c>gym.make</c>.
/// State (float64): x, ẋ, θ, θ̇. Actions: 0 push left, 1 push right.
/// </summary>
public sealed class CartPole : IEnv, IRenderable, ISimulationState, IEnvSnapshot
{
    private const double Gravity = 9.8, MassCart = 1.0, MassPole = 0.1, TotalMass = MassPole + MassCart;
    private const double Length = 0.5, PoleMassLength = MassPole * Length, ForceMag = 10.0, Tau = 0.02;
    private const double ThetaThreshold = 12 * 2 * Math.PI / 360, XThreshold = 2.4;

    private double _x, _xDot, _theta, _thetaDot;
    private bool _terminated;
    private Rng? _rng;

    public Space ObservationSpace { get; } = new Box(
        new[] { -(float)(XThreshold * 2), -float.MaxValue, -(float)(ThetaThreshold * 2), -float.MaxValue },
        new[] { (float)(XThreshold * 2), float.MaxValue, (float)(ThetaThreshold * 2), float.MaxValue });

    public Space ActionSpace { get; } = new Discrete(2);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (observation.Length != 4) throw new ArgumentException($"CartPole: observation buffer has {observation.Length} values, expected 4.", nameof(observation));
        var rng = ClassicControlChecks.Reseed(ref _rng, seed);
        _x = rng.Uniform(-0.05, 0.05);
        _xDot = rng.Uniform(-0.05, 0.05);
        _theta = rng.Uniform(-0.05, 0.05);
        _thetaDot = rng.Uniform(-0.05, 0.05);
        _terminated = false;
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 1 || observation.Length != 4) ClassicControlChecks.Buffers("CartPole", action, 1, observation, 4);
        float a = action[0];
        double force = a == 1f ? ForceMag : a == 0f ? -ForceMag : ClassicControlChecks.DiscreteAction("CartPole", a, 2);
        (double sin, double cos) = Math.SinCos(_theta);
        double temp = (force + PoleMassLength * (_thetaDot * _thetaDot) * sin) / TotalMass;
        double thetaAcc = (Gravity * sin - cos * temp) / (Length * (4.0 / 3.0 - MassPole * (cos * cos) / TotalMass));
        double xAcc = temp - PoleMassLength * thetaAcc * cos / TotalMass;
        _x += Tau * _xDot;
        _xDot += Tau * xAcc;
        _theta += Tau * _thetaDot;
        _thetaDot += Tau * thetaAcc;
        bool terminated = _x < -XThreshold || _x > XThreshold || _theta < -ThetaThreshold || _theta > ThetaThreshold;
        // Gymnasium gives +1 on the terminating step and 0 on terminal steps taken after it.
        double reward = terminated && _terminated ? 0.0 : 1.0;
        _terminated |= terminated;
        Write(observation);
        return new StepResult(reward, terminated, false);
    }

    private void Write(Span<float> o)
    {
        o[3] = (float)_thetaDot;
        o[0] = (float)_x;
        o[1] = (float)_xDot;
        o[2] = (float)_theta;
    }

    public int StateSize => 4;

    public void GetState(Span<double> state)
    {
        if (state.Length != 4) ClassicControlChecks.State("CartPole", state, 4);
        state[0] = _x; state[1] = _xDot; state[2] = _theta; state[3] = _thetaDot;
    }

    public void SetState(ReadOnlySpan<double> state)
    {
        ClassicControlChecks.State("CartPole", state, 4);
        _x = state[0]; _xDot = state[1]; _theta = state[2]; _thetaDot = state[3];
        _terminated = false;
    }

    public string Render() =>
        $"[{ClassicControlChecks.Bar(_x, -XThreshold, XThreshold)}] x={_x:+0.000;-0.000} θ={_theta * 180 / Math.PI:+0.0;-0.0}°";

    public void Dispose() { }

    // Snapshot for exact resume: the simulation state, the "already terminated" flag, then the generator of future resets.
    public int SnapshotSize => SnapshotCodec.Size(this) + 1;

    public void SaveSnapshot(Span<double> snapshot)
    {
        SnapshotCodec.CheckSize("CartPole", snapshot.Length, SnapshotSize);
        SnapshotCodec.Save(this, _rng, snapshot[..^1], "CartPole");
        snapshot[^1] = _terminated ? 1 : 0;
    }

    public void LoadSnapshot(ReadOnlySpan<double> snapshot)
    {
        SnapshotCodec.CheckSize("CartPole", snapshot.Length, SnapshotSize);
        SnapshotCodec.Load(this, ref _rng, snapshot[..^1], "CartPole");
        _terminated = snapshot[^1] != 0;
    }
}
