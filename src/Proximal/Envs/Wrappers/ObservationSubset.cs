using Proximal.Spaces;

namespace Proximal.Envs.Wrappers;

/// <summary>
/// Keeps only the listed entries of a Box observation, in the given order, with the matching bounds: e.g. CartPole's
/// (x, θ) without the velocities, which makes the task partially observed (CartPoleNoVel-v1). Exact: the kept values
/// are the inner env's floats, untouched. Stateless, so a snapshot of the chain is the inner env's snapshot.
/// </summary>
public sealed class ObservationSubset : EnvWrapper, IEnvSnapshot
{
    private readonly int[] _keep;
    private readonly float[] _full;

    public ObservationSubset(IEnv inner, params int[] keep) : base(inner)
    {
        ArgumentNullException.ThrowIfNull(keep);
        if (inner.ObservationSpace is not Box box || box.Shape.Length != 1)
            throw new ArgumentException($"ObservationSubset needs a flat Box observation space, got {inner.ObservationSpace}.", nameof(inner));
        if (keep.Length == 0) throw new ArgumentException("ObservationSubset needs at least one index to keep.", nameof(keep));
        foreach (int i in keep)
            if (i < 0 || i >= box.FlatSize) throw new ArgumentOutOfRangeException(nameof(keep), i, $"ObservationSubset: index {i} is outside the {box.FlatSize} observation entries.");
        if (keep.Distinct().Count() != keep.Length) throw new ArgumentException("ObservationSubset: an index is listed twice.", nameof(keep));
        _keep = (int[])keep.Clone();
        _full = new float[box.FlatSize];
        ObservationSpace = new Box(keep.Select(i => box.Low[i]).ToArray(), keep.Select(i => box.High[i]).ToArray());
    }

    /// <summary>The inner observation's indices that are kept, in order.</summary>
    public IReadOnlyList<int> Kept => _keep;
    public override Space ObservationSpace { get; }

    public override void Reset(Span<float> observation, ulong? seed = null)
    {
        Check(observation);
        base.Reset(_full, seed);
        Select(observation);
    }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Check(observation);
        var r = base.Step(action, _full);
        Select(observation);
        return r;
    }

    private void Select(Span<float> observation)
    {
        for (int j = 0; j < _keep.Length; j++) observation[j] = _full[_keep[j]];
    }

    private void Check(Span<float> o)
    {
        if (o.Length != _keep.Length) throw new ArgumentException($"ObservationSubset: observation buffer has {o.Length} values, expected {_keep.Length}.", "observation");
    }

    public int SnapshotSize => Inner is IEnvSnapshot s ? s.SnapshotSize : -1;

    public void SaveSnapshot(Span<double> snapshot) => Snapshotable().SaveSnapshot(snapshot);
    public void LoadSnapshot(ReadOnlySpan<double> snapshot) => Snapshotable().LoadSnapshot(snapshot);

    private IEnvSnapshot Snapshotable() => Inner as IEnvSnapshot
        ?? throw new NotSupportedException($"ObservationSubset over {Inner}: the inner env has no snapshot.");
}
