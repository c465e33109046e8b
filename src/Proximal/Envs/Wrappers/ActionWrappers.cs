using Proximal.Spaces;

namespace Proximal.Envs.Wrappers;

/// <summary>Clips each action element into the inner Box's bounds; the exposed action space is unbounded (as Gymnasium's ClipAction).</summary>
public sealed class ClipAction : EnvWrapper
{
    private readonly Box _inner;
    private readonly float[] _scratch;

    public ClipAction(IEnv inner) : base(inner)
    {
        _inner = inner.ActionSpace as Box ?? throw new ArgumentException($"ClipAction needs a Box action space, got {inner.ActionSpace}.", nameof(inner));
        _scratch = new float[_inner.FlatSize];
        ActionSpace = new Box(float.NegativeInfinity, float.PositiveInfinity, _inner.Shape);
    }

    public override Space ActionSpace { get; }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != _scratch.Length) throw new ArgumentException($"ClipAction: action has {action.Length} values, expected {_scratch.Length}.", nameof(action));
        ClipInto(_inner, action, _scratch);
        return base.Step(_scratch, observation);
    }

    internal static void ClipInto(Box box, ReadOnlySpan<float> a, Span<float> dst)
    {
        var lo = box.Low; var hi = box.High;
        int d = lo.Length;
        for (int i = 0; i < a.Length; i++) dst[i] = Math.Clamp(a[i], lo[i % d], hi[i % d]);
    }
}

/// <summary>
/// Exposes the action space as Box(min, max) and maps actions affinely onto the inner bounded Box
/// (e.g. a policy acting in [−1, 1] on an env whose torques lie in [−2, 2]).
/// </summary>
public sealed class RescaleAction : EnvWrapper
{
    private readonly Box _inner;
    private readonly float[] _scratch;

    public RescaleAction(IEnv inner, float minAction = -1f, float maxAction = 1f) : base(inner)
    {
        _inner = inner.ActionSpace as Box ?? throw new ArgumentException($"RescaleAction needs a Box action space, got {inner.ActionSpace}.", nameof(inner));
        if (!_inner.IsBounded) throw new ArgumentException($"RescaleAction needs a bounded inner action space, got {_inner}.", nameof(inner));
        if (!(minAction < maxAction) || !float.IsFinite(minAction) || !float.IsFinite(maxAction))
            throw new ArgumentException($"RescaleAction needs finite minAction < maxAction, got [{minAction}, {maxAction}].");
        _scratch = new float[_inner.FlatSize];
        ActionSpace = new Box(minAction, maxAction, _inner.Shape);
        MinAction = minAction;
        MaxAction = maxAction;
    }

    public float MinAction { get; }
    public float MaxAction { get; }
    public override Space ActionSpace { get; }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != _scratch.Length) throw new ArgumentException($"RescaleAction: action has {action.Length} values, expected {_scratch.Length}.", nameof(action));
        RescaleInto(_inner, MinAction, MaxAction, action, _scratch);
        return base.Step(_scratch, observation);
    }

    internal static void RescaleInto(Box box, float min, float max, ReadOnlySpan<float> a, Span<float> dst)
    {
        var lo = box.Low; var hi = box.High;
        int d = lo.Length;
        for (int i = 0; i < a.Length; i++)
        {
            double l = lo[i % d], h = hi[i % d];
            dst[i] = (float)Math.Clamp(l + (h - l) * ((a[i] - (double)min) / ((double)max - min)), l, h);
        }
    }
}
