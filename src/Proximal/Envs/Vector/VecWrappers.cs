using System.Diagnostics;
using Proximal.Envs.Wrappers;
using Proximal.Spaces;

namespace Proximal.Envs.Vector;

/// <summary>
/// Records every finished episode of a VecEnv (return summed in float64 from the rewards this wrapper sees,
/// length, seconds) into <see cref="Episodes"/>, in env-index order within a step. Put it directly on the
/// base VecEnv, below NormalizeReward, so the returns are the task's own (<see cref="VecEnvBuilder"/> does).
/// </summary>
public sealed class VecEpisodeStatistics : VecEnvWrapper
{
    private readonly double[] _returns;
    private readonly int[] _lengths;
    private readonly long[] _starts;
    private readonly EpisodeLog _log;

    public VecEpisodeStatistics(VecEnv inner, int logCapacity = 4096) : base(inner)
    {
        _returns = new double[inner.NumEnvs];
        _lengths = new int[inner.NumEnvs];
        _starts = new long[inner.NumEnvs];
        _log = new EpisodeLog(logCapacity);
    }

    public override EpisodeLog Episodes => _log;

    public override bool TrySaveSnapshot(IDictionary<string, double[]> snapshot)
    {
        snapshot["VecEpisodeStatistics/returns"] = (double[])_returns.Clone();
        snapshot["VecEpisodeStatistics/lengths"] = Array.ConvertAll(_lengths, l => (double)l);
        return Inner.TrySaveSnapshot(snapshot);
    }

    public override void LoadSnapshot(IReadOnlyDictionary<string, double[]> snapshot)
    {
        SnapshotEntry(snapshot, "VecEpisodeStatistics/returns", NumEnvs).CopyTo(_returns, 0);
        var lengths = SnapshotEntry(snapshot, "VecEpisodeStatistics/lengths", NumEnvs);
        for (int i = 0; i < lengths.Length; i++) _lengths[i] = checked((int)lengths[i]);
        Array.Fill(_starts, Stopwatch.GetTimestamp());
        Inner.LoadSnapshot(snapshot);
    }

    public override void Reset(Span<float> observations, ulong? seed = null)
    {
        base.Reset(observations, seed);
        Array.Clear(_returns);
        Array.Clear(_lengths);
        Array.Fill(_starts, Stopwatch.GetTimestamp());
    }

    public override void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        base.Step(actions, observations, rewards, terminated, truncated);
        long now = 0;
        for (int i = 0; i < _returns.Length; i++)
        {
            _returns[i] += rewards[i];
            _lengths[i]++;
            if (terminated[i] || truncated[i])
            {
                if (now == 0) now = Stopwatch.GetTimestamp();
                _log.Add(new EpisodeRecord(i, _returns[i], _lengths[i], (now - _starts[i]) / (double)Stopwatch.Frequency));
                _returns[i] = 0;
                _lengths[i] = 0;
                _starts[i] = now;
            }
        }
    }
}

/// <summary>
/// Normalises observations with a running mean/variance over all N envs' observations (updated on reset and
/// on every step unless <see cref="Frozen"/>), o' = clip((o − μ)/√(σ² + ε), ±clip). The final observations of
/// finished episodes are normalised with the same statistics (not added to them), so V(final obs) sees the
/// same input scale as V(obs).
/// </summary>
public sealed class VecNormalizeObservation : VecEnvWrapper, IStatefulWrapper
{
    private readonly float[] _final;
    private readonly Box _space;

    public VecNormalizeObservation(VecEnv inner, double clip = 10.0, double epsilon = 1e-8) : base(inner)
    {
        if (!(clip > 0)) throw new ArgumentOutOfRangeException(nameof(clip), clip, "Clip must be > 0.");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be ≥ 0.");
        if (inner.SingleObservationSpace is not Box box)
            throw new ArgumentException($"VecNormalizeObservation needs a Box observation space, got {inner.SingleObservationSpace}.", nameof(inner));
        Clip = clip;
        Epsilon = epsilon;
        Statistics = new RunningMeanVar(box.FlatSize);
        _final = new float[inner.NumEnvs * box.FlatSize];
        _space = new Box(-(float)clip, (float)clip, box.Shape);
    }

    public double Clip { get; }
    public double Epsilon { get; }
    public RunningMeanVar Statistics { get; }
    public bool Frozen { get; set; }
    public override Space SingleObservationSpace => _space;
    public override ReadOnlySpan<float> FinalObservations => _final;

    public override void Reset(Span<float> observations, ulong? seed = null)
    {
        base.Reset(observations, seed);
        if (!Frozen) Statistics.Update(observations);
        NormalizeObservation.Normalize(Statistics, observations, Epsilon, Clip);
    }

    public override void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        base.Step(actions, observations, rewards, terminated, truncated);
        if (!Frozen) Statistics.Update(observations);
        NormalizeObservation.Normalize(Statistics, observations, Epsilon, Clip);
        var has = Inner.HasFinalObservation;
        var raw = Inner.FinalObservations;
        int d = Statistics.Size;
        for (int i = 0; i < has.Length; i++)
        {
            if (!has[i]) continue;
            var row = _final.AsSpan(i * d, d);
            raw.Slice(i * d, d).CopyTo(row);
            NormalizeObservation.Normalize(Statistics, row, Epsilon, Clip);
        }
    }

    public IReadOnlyDictionary<string, double[]> GetState() => Statistics.GetState();
    public void SetState(IReadOnlyDictionary<string, double[]> state) => Statistics.SetState(nameof(VecNormalizeObservation), state);

    /// <summary>Normalises raw observations [B × obsDim] in place with the current statistics, without updating them.</summary>
    public void Apply(Span<float> observations)
    {
        int d = Statistics.Size;
        if (observations.Length % d != 0)
            throw new ArgumentException($"observations has {observations.Length} values, not a multiple of the observation size {d}.", nameof(observations));
        NormalizeObservation.Normalize(Statistics, observations, Epsilon, Clip);
    }

    public override bool TrySaveSnapshot(IDictionary<string, double[]> snapshot)
    {
        foreach (var (k, v) in Statistics.GetState()) snapshot["VecNormalizeObservation/" + k] = v;
        return Inner.TrySaveSnapshot(snapshot);
    }

    public override void LoadSnapshot(IReadOnlyDictionary<string, double[]> snapshot)
    {
        Statistics.SetState(nameof(VecNormalizeObservation), Prefixed(snapshot, "VecNormalizeObservation/"));
        Inner.LoadSnapshot(snapshot);
    }

    internal static Dictionary<string, double[]> Prefixed(IReadOnlyDictionary<string, double[]> snapshot, string prefix)
    {
        var d = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (k, v) in snapshot)
            if (k.StartsWith(prefix, StringComparison.Ordinal) && k.IndexOf('/', prefix.Length) < 0) d[k[prefix.Length..]] = v;
        return d;
    }
}

/// <summary>
/// Scales rewards by the running standard deviation of the discounted return, per env:
/// G_i ← γ·G_i + r_i, the N values of G update Var(G), r'_i = clip(r_i/√(Var(G) + ε), ±clip), and G_i
/// restarts at 0 when env i's episode ends (terminated or truncated). No mean is subtracted.
/// </summary>
public sealed class VecNormalizeReward : VecEnvWrapper, IStatefulWrapper
{
    private readonly double[] _g;

    public VecNormalizeReward(VecEnv inner, double gamma = 0.99, double clip = 10.0, double epsilon = 1e-8) : base(inner)
    {
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Gamma must be in [0, 1].");
        if (!(clip > 0)) throw new ArgumentOutOfRangeException(nameof(clip), clip, "Clip must be > 0.");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be ≥ 0.");
        Gamma = gamma;
        Clip = clip;
        Epsilon = epsilon;
        _g = new double[inner.NumEnvs];
    }

    public double Gamma { get; }
    public double Clip { get; }
    public double Epsilon { get; }
    public bool Frozen { get; set; }
    public RunningMeanVar Statistics { get; } = new(1);

    /// <summary>The per-env discounted-return accumulators.</summary>
    public ReadOnlySpan<double> DiscountedReturns => _g;

    public override void Reset(Span<float> observations, ulong? seed = null)
    {
        base.Reset(observations, seed);
        Array.Clear(_g);
    }

    public override void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        base.Step(actions, observations, rewards, terminated, truncated);
        for (int i = 0; i < _g.Length; i++) _g[i] = _g[i] * Gamma + rewards[i];
        if (!Frozen) Statistics.Update(_g);
        double scale = 1.0 / Math.Sqrt(Statistics.Variance[0] + Epsilon);
        for (int i = 0; i < _g.Length; i++)
        {
            rewards[i] = (float)Math.Clamp(rewards[i] * scale, -Clip, Clip);
            if (terminated[i] || truncated[i]) _g[i] = 0;
        }
    }

    public IReadOnlyDictionary<string, double[]> GetState() => Statistics.GetState();
    public void SetState(IReadOnlyDictionary<string, double[]> state) => Statistics.SetState(nameof(VecNormalizeReward), state);

    public override bool TrySaveSnapshot(IDictionary<string, double[]> snapshot)
    {
        foreach (var (k, v) in Statistics.GetState()) snapshot["VecNormalizeReward/" + k] = v;
        snapshot["VecNormalizeReward.returns"] = (double[])_g.Clone();
        return Inner.TrySaveSnapshot(snapshot);
    }

    public override void LoadSnapshot(IReadOnlyDictionary<string, double[]> snapshot)
    {
        Statistics.SetState(nameof(VecNormalizeReward), VecNormalizeObservation.Prefixed(snapshot, "VecNormalizeReward/"));
        SnapshotEntry(snapshot, "VecNormalizeReward.returns", NumEnvs).CopyTo(_g, 0);
        Inner.LoadSnapshot(snapshot);
    }
}

/// <summary>Clips every env's action into the Box bounds before stepping (the caller's array is not modified).</summary>
public sealed class VecClipAction : VecEnvWrapper
{
    private readonly Box _box;
    private readonly float[] _scratch;

    public VecClipAction(VecEnv inner) : base(inner)
    {
        _box = inner.SingleActionSpace as Box ?? throw new ArgumentException($"VecClipAction needs a Box action space, got {inner.SingleActionSpace}.", nameof(inner));
        _scratch = new float[inner.NumEnvs * _box.FlatSize];
        SingleActionSpace = new Box(float.NegativeInfinity, float.PositiveInfinity, _box.Shape);
    }

    public override Space SingleActionSpace { get; }

    public override void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        if (actions.Length != _scratch.Length) throw new ArgumentException($"actions has {actions.Length} values, expected {NumEnvs} envs × {_box.FlatSize} = {_scratch.Length}.", nameof(actions));
        ClipAction.ClipInto(_box, actions, _scratch);
        base.Step(_scratch, observations, rewards, terminated, truncated);
    }
}

/// <summary>Exposes Box(min, max) actions and maps them affinely onto the inner bounded Box.</summary>
public sealed class VecRescaleAction : VecEnvWrapper
{
    private readonly Box _box;
    private readonly float[] _scratch;

    public VecRescaleAction(VecEnv inner, float minAction = -1f, float maxAction = 1f) : base(inner)
    {
        _box = inner.SingleActionSpace as Box ?? throw new ArgumentException($"VecRescaleAction needs a Box action space, got {inner.SingleActionSpace}.", nameof(inner));
        if (!_box.IsBounded) throw new ArgumentException($"VecRescaleAction needs a bounded inner action space, got {_box}.", nameof(inner));
        if (!(minAction < maxAction) || !float.IsFinite(minAction) || !float.IsFinite(maxAction))
            throw new ArgumentException($"VecRescaleAction needs finite minAction < maxAction, got [{minAction}, {maxAction}].");
        MinAction = minAction;
        MaxAction = maxAction;
        _scratch = new float[inner.NumEnvs * _box.FlatSize];
        SingleActionSpace = new Box(minAction, maxAction, _box.Shape);
    }

    public float MinAction { get; }
    public float MaxAction { get; }
    public override Space SingleActionSpace { get; }

    public override void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        if (actions.Length != _scratch.Length) throw new ArgumentException($"actions has {actions.Length} values, expected {NumEnvs} envs × {_box.FlatSize} = {_scratch.Length}.", nameof(actions));
        RescaleAction.RescaleInto(_box, MinAction, MaxAction, actions, _scratch);
        base.Step(_scratch, observations, rewards, terminated, truncated);
    }
}

/// <summary>Collects and restores the states of every stateful wrapper in a vector chain, keyed "WrapperType/entry".</summary>
public static class VecWrapperStates
{
    /// <summary>Walks a vector chain from the outside in.</summary>
    public static Dictionary<string, double[]> Get(VecEnv env) => WrapperStates.Collect(Chain(env));

    public static void Set(VecEnv env, IReadOnlyDictionary<string, double[]> state) => WrapperStates.Restore(Chain(env), state);

    private static IEnumerable<object> Chain(VecEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        for (VecEnv? e = env; e is not null; e = (e as VecEnvWrapper)?.Inner) yield return e;
    }
}
