using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Algorithms.Policies;

/// <summary>
/// K critics Q_k(s, a) of the off-policy learners (SAC's and TD3's twin Q, TQC's quantile critics): each an MLP on
/// the concatenation (obs ‖ action) with <see cref="OutputsPerCritic"/> outputs (1 for a Q-value, M for quantiles),
/// all in ONE <see cref="Parameters"/> buffer so one Adam, one save and one Polyak lerp serve them all. A target copy is
/// another instance built with the same sizes (<see cref="Parameters"/> of equal layout) and kept by Polyak averaging.
/// <para>
/// Outputs go to caller-owned destinations, laid out critic-major: q[k, b, m] at (k·batch + b)·M + m, so several
/// evaluations (online on (s, a), online on (s, π(s)), target on (s′, a′)) can be held at once. <see cref="Backward"/>
/// differentiates the LAST <see cref="Forward"/> of this instance.
/// </para>
/// Orthogonal init (√2 hidden, <c>outputGain</c> last layer), zero biases.
/// </summary>
public sealed class ContinuousCritics
{
    private readonly Mlp[] _nets;
    private float[] _input = [];
    private int _batch;

    public ContinuousCritics(int observationSize, int actionSize, int critics, IReadOnlyList<int> hiddenSizes, Rng rng,
        int outputsPerCritic = 1, Activation activation = Activation.Relu, double outputGain = 1.0)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        ArgumentNullException.ThrowIfNull(rng);
        if (observationSize <= 0) throw new ArgumentOutOfRangeException(nameof(observationSize), observationSize, "observation size must be > 0.");
        if (actionSize <= 0) throw new ArgumentOutOfRangeException(nameof(actionSize), actionSize, "action size must be > 0.");
        if (critics <= 0) throw new ArgumentOutOfRangeException(nameof(critics), critics, "at least one critic is needed.");
        if (outputsPerCritic <= 0) throw new ArgumentOutOfRangeException(nameof(outputsPerCritic), outputsPerCritic, "outputs per critic must be > 0.");
        ObservationSize = observationSize;
        ActionSize = actionSize;
        OutputsPerCritic = outputsPerCritic;
        Parameters = new Parameters();
        _nets = new Mlp[critics];
        for (int k = 0; k < critics; k++)
            _nets[k] = new Mlp(Parameters, [observationSize + actionSize, .. hiddenSizes, outputsPerCritic], activation, rng,
                outputGain: outputGain, name: $"q{k}");
    }

    public Parameters Parameters { get; }
    public int Count => _nets.Length;
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int OutputsPerCritic { get; }
    public int InputSize => ObservationSize + ActionSize;
    /// <summary>The critics' networks (for reference computations in tests and diagnostics).</summary>
    public IReadOnlyList<Mlp> Networks => _nets;

    /// <summary>Threads of the matrix products (results do not depend on it).</summary>
    public int Threads { set { foreach (var n in _nets) n.Threads = value; } }

    /// <summary>
    /// Q_k(s, a) for every critic k into <paramref name="q"/> [Count × batch × OutputsPerCritic] (caller-owned),
    /// from observations [batch × obs] and actions [batch × act].
    /// </summary>
    public void Forward(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, int batch, Span<float> q)
        => Forward(observations, actions, batch, q, Count);

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{float})"/> of the first
    /// <paramref name="critics"/> critics only, into q [critics × batch × OutputsPerCritic] (TD3's actor uses Q_1 alone).
    /// </summary>
    public void Forward(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, int batch, Span<float> q, int critics)
    {
        if (critics < 1 || critics > Count) throw new ArgumentOutOfRangeException(nameof(critics), critics, $"critics must be in [1, {Count}].");
        int od = ObservationSize, ad = ActionSize, d = od + ad, m = OutputsPerCritic;
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be > 0.");
        if (observations.Length != batch * od) throw new ArgumentException($"observations has {observations.Length} values; expected {batch} × {od}.", nameof(observations));
        if (actions.Length != batch * ad) throw new ArgumentException($"actions has {actions.Length} values; expected {batch} × {ad}.", nameof(actions));
        if (q.Length != critics * batch * m) throw new ArgumentException($"q has {q.Length} values; expected {critics} critics × {batch} × {m}.", nameof(q));
        if (_input.Length < batch * d) _input = new float[batch * d];
        for (int b = 0; b < batch; b++)
        {
            observations.Slice(b * od, od).CopyTo(_input.AsSpan(b * d, od));
            actions.Slice(b * ad, ad).CopyTo(_input.AsSpan(b * d + od, ad));
        }
        var x = _input.AsSpan(0, batch * d);
        for (int k = 0; k < critics; k++) _nets[k].Forward(x, batch).CopyTo(q.Slice(k * batch * m, batch * m));
        _batch = batch;
        _forwarded = critics;
    }

    private int _forwarded;

    /// <summary>
    /// d loss/d a [batch × act] (SET, summed over the critics of the last <see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{float}, int)"/>)
    /// from d loss/d q [critics × batch × OutputsPerCritic], WITHOUT the parameter gradients (left untouched): what an
    /// actor's update needs. Skipping the critics' weight gradients and the observation part of their input gradient
    /// saves what <see cref="Backward"/> would compute only for it to be discarded.
    /// </summary>
    public void ActionGradient(ReadOnlySpan<float> gradQ, Span<float> gradActions)
    {
        int batch = _batch, ad = ActionSize, m = OutputsPerCritic, critics = _forwarded;
        if (batch == 0) throw new InvalidOperationException("ActionGradient needs a Forward first.");
        if (gradQ.Length != critics * batch * m) throw new ArgumentException($"gradQ has {gradQ.Length} values; expected {critics} × {batch} × {m}.", nameof(gradQ));
        if (gradActions.Length != batch * ad) throw new ArgumentException($"gradActions has {gradActions.Length} values; expected {batch} × {ad}.", nameof(gradActions));
        gradActions.Clear();
        for (int k = 0; k < critics; k++)
        {
            var ga = _nets[k].InputGradient(gradQ.Slice(k * batch * m, batch * m), ObservationSize, ad);
            System.Numerics.Tensors.TensorPrimitives.Add(gradActions, ga, gradActions);
        }
    }

    /// <summary>
    /// Back-propagates d loss/d q [Count × batch × OutputsPerCritic] of the last <see cref="Forward"/>, ADDING into the
    /// parameter gradients. With a non-empty <paramref name="gradActions"/> [batch × act], it is SET to d loss/d a
    /// (summed over the critics), what an actor's update needs; empty skips that product.
    /// </summary>
    public void Backward(ReadOnlySpan<float> gradQ, Span<float> gradActions)
    {
        int batch = _batch, od = ObservationSize, ad = ActionSize, d = od + ad, m = OutputsPerCritic;
        if (batch == 0) throw new InvalidOperationException("Backward needs a Forward first.");
        if (_forwarded != Count) throw new InvalidOperationException($"Backward needs a Forward of all {Count} critics; the last one evaluated {_forwarded}.");
        if (gradQ.Length != Count * batch * m) throw new ArgumentException($"gradQ has {gradQ.Length} values; expected {Count} × {batch} × {m}.", nameof(gradQ));
        bool wantActions = !gradActions.IsEmpty;
        if (wantActions)
        {
            if (gradActions.Length != batch * ad) throw new ArgumentException($"gradActions has {gradActions.Length} values; expected {batch} × {ad}.", nameof(gradActions));
            gradActions.Clear();
        }
        for (int k = 0; k < Count; k++)
        {
            var gx = _nets[k].Backward(gradQ.Slice(k * batch * m, batch * m), computeInputGradient: wantActions);
            if (!wantActions) continue;
            for (int b = 0; b < batch; b++)
                System.Numerics.Tensors.TensorPrimitives.Add(gradActions.Slice(b * ad, ad), gx.Slice(b * d + od, ad), gradActions.Slice(b * ad, ad));
        }
    }
}
