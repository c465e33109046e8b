namespace Proximal.Envs.Wrappers;

/// <summary>
/// Scales rewards by the running standard deviation of the discounted return (no mean subtraction):
/// G ← γ·G + r, update Var(G), r' = clip(r/√(Var(G) + ε), ±clip); G restarts at 0 after an episode ends
/// (terminated or truncated). Statistics freeze with <see cref="Frozen"/> and save with <see cref="GetState"/>.
/// </summary>
public sealed class NormalizeReward : EnvWrapper, IStatefulWrapper
{
    private readonly double[] _g = new double[1];
    private double _return;

    public NormalizeReward(IEnv inner, double gamma = 0.99, double clip = 10.0, double epsilon = 1e-8) : base(inner)
    {
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Gamma must be in [0, 1].");
        if (!(clip > 0)) throw new ArgumentOutOfRangeException(nameof(clip), clip, "Clip must be > 0.");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be ≥ 0.");
        Gamma = gamma;
        Clip = clip;
        Epsilon = epsilon;
    }

    public double Gamma { get; }
    public double Clip { get; }
    public double Epsilon { get; }
    public bool Frozen { get; set; }
    public RunningMeanVar Statistics { get; } = new(1);

    public override void Reset(Span<float> observation, ulong? seed = null)
    {
        base.Reset(observation, seed);
        _return = 0;
    }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var r = base.Step(action, observation);
        _return = _return * Gamma + r.Reward;
        if (!Frozen) { _g[0] = _return; Statistics.Update(_g); }
        if (r.Terminated || r.Truncated) _return = 0;
        return r with { Reward = Math.Clamp(r.Reward / Math.Sqrt(Statistics.Variance[0] + Epsilon), -Clip, Clip) };
    }

    public IReadOnlyDictionary<string, double[]> GetState() => Statistics.GetState();
    public void SetState(IReadOnlyDictionary<string, double[]> state) => Statistics.SetState(nameof(NormalizeReward), state);
}
