using Proximal.Spaces;

namespace Proximal.Envs.Wrappers;

/// <summary>
/// Normalises observations by a running mean and variance (updated on every reset and step observation
/// unless <see cref="Frozen"/>): o' = clip((o − μ)/√(σ² + ε), ±clip). Freeze it for evaluation and restore
/// the training statistics with <see cref="SetState"/> so a model sees exactly what it was trained on.
/// </summary>
public sealed class NormalizeObservation : EnvWrapper, IStatefulWrapper
{
    private readonly Box _space;

    public NormalizeObservation(IEnv inner, double clip = 10.0, double epsilon = 1e-8) : base(inner)
    {
        if (!(clip > 0)) throw new ArgumentOutOfRangeException(nameof(clip), clip, "Clip must be > 0.");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be ≥ 0.");
        if (inner.ObservationSpace is not Box box)
            throw new ArgumentException($"NormalizeObservation needs a Box observation space, got {inner.ObservationSpace}.", nameof(inner));
        Clip = clip;
        Epsilon = epsilon;
        Statistics = new RunningMeanVar(box.FlatSize);
        _space = new Box(-(float)clip, (float)clip, box.Shape);
    }

    public double Clip { get; }
    public double Epsilon { get; }
    public RunningMeanVar Statistics { get; }
    /// <summary>When true, statistics are used but no longer updated.</summary>
    public bool Frozen { get; set; }

    public override Space ObservationSpace => _space;

    public override void Reset(Span<float> observation, ulong? seed = null)
    {
        base.Reset(observation, seed);
        Apply(observation);
    }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var r = base.Step(action, observation);
        Apply(observation);
        return r;
    }

    private void Apply(Span<float> o)
    {
        if (!Frozen) Statistics.Update(o);
        Normalize(Statistics, o, Epsilon, Clip);
    }

    /// <summary>Normalises rows of <c>Statistics.Size</c> values in place (float64 arithmetic).</summary>
    internal static void Normalize(RunningMeanVar s, Span<float> rows, double eps, double clip)
    {
        var mean = s.Mean;
        var var = s.Variance;
        int d = s.Size;
        for (int r = 0; r < rows.Length; r += d)
            for (int j = 0; j < d; j++)
                rows[r + j] = (float)Math.Clamp((rows[r + j] - mean[j]) / Math.Sqrt(var[j] + eps), -clip, clip);
    }

    public IReadOnlyDictionary<string, double[]> GetState() => Statistics.GetState();
    public void SetState(IReadOnlyDictionary<string, double[]> state) => Statistics.SetState(nameof(NormalizeObservation), state);
}
