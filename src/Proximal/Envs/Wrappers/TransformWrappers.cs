using Proximal.Spaces;

namespace Proximal.Envs.Wrappers;

/// <summary>Maps an observation of the inner space (input) to one of the new space (output); must not allocate if used in training.</summary>
public delegate void ObservationMap(ReadOnlySpan<float> input, Span<float> output);

/// <summary>Applies a user function to every observation (reset and step). Give the new space when the function changes it.</summary>
public sealed class TransformObservation : EnvWrapper
{
    private readonly ObservationMap _map;
    private readonly float[] _scratch;
    private readonly Space? _space;

    public TransformObservation(IEnv inner, ObservationMap map, Space? observationSpace = null) : base(inner)
    {
        _map = map ?? throw new ArgumentNullException(nameof(map));
        _space = observationSpace;
        _scratch = new float[inner.ObservationSpace.FlatSize];
    }

    public override Space ObservationSpace => _space ?? Inner.ObservationSpace;

    public override void Reset(Span<float> observation, ulong? seed = null)
    {
        Check(observation);
        base.Reset(_scratch, seed);
        _map(_scratch, observation);
    }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Check(observation);
        var r = base.Step(action, _scratch);
        _map(_scratch, observation);
        return r;
    }

    private void Check(Span<float> o)
    {
        int n = ObservationSpace.FlatSize;
        if (o.Length != n) throw new ArgumentException($"TransformObservation: observation buffer has {o.Length} values, expected {n}.", "observation");
    }
}

/// <summary>Applies a user function to every reward (e.g. clipping or scaling).</summary>
public sealed class TransformReward : EnvWrapper
{
    private readonly Func<double, double> _f;

    public TransformReward(IEnv inner, Func<double, double> transform) : base(inner) => _f = transform ?? throw new ArgumentNullException(nameof(transform));

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var r = base.Step(action, observation);
        return r with { Reward = _f(r.Reward) };
    }
}

/// <summary>
/// Stacks the last <see cref="Frames"/> observations, oldest first, into one observation of shape [k, …inner shape].
/// After a reset every slot holds the first observation (Gymnasium's FrameStackObservation padding "reset").
/// </summary>
public sealed class FrameStack : EnvWrapper
{
    private readonly int _d;
    private readonly float[] _frames;

    public FrameStack(IEnv inner, int frames) : base(inner)
    {
        if (frames < 1) throw new ArgumentOutOfRangeException(nameof(frames), frames, "FrameStack needs at least 1 frame.");
        if (inner.ObservationSpace is not Box box) throw new ArgumentException($"FrameStack needs a Box observation space, got {inner.ObservationSpace}.", nameof(inner));
        Frames = frames;
        _d = box.FlatSize;
        _frames = new float[frames * _d];
        var lo = new float[frames * _d];
        var hi = new float[frames * _d];
        for (int k = 0; k < frames; k++) { box.Low.CopyTo(lo.AsSpan(k * _d)); box.High.CopyTo(hi.AsSpan(k * _d)); }
        ObservationSpace = new Box(lo, hi, [frames, .. box.Shape]);
    }

    public int Frames { get; }
    public override Space ObservationSpace { get; }

    public override void Reset(Span<float> observation, ulong? seed = null)
    {
        Check(observation);
        var last = _frames.AsSpan((Frames - 1) * _d, _d);
        base.Reset(last, seed);
        for (int k = 0; k < Frames - 1; k++) last.CopyTo(_frames.AsSpan(k * _d));
        _frames.CopyTo(observation);
    }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Check(observation);
        _frames.AsSpan(_d).CopyTo(_frames);
        var r = base.Step(action, _frames.AsSpan((Frames - 1) * _d, _d));
        _frames.CopyTo(observation);
        return r;
    }

    private void Check(Span<float> o)
    {
        if (o.Length != _frames.Length) throw new ArgumentException($"FrameStack: observation buffer has {o.Length} values, expected {_frames.Length} ({Frames} × {_d}).", "observation");
    }
}
