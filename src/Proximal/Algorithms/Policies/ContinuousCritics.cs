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
/// Orthogonal init (√2 hidden, <c>outputGain</c> last layer), zero biases; or <see cref="WeightInit.FanInUniform"/>.
/// </summary>
public sealed class ContinuousCritics
{
    private readonly Mlp[] _nets;
    private float[] _input = [];
    private int _batch;

    public ContinuousCritics(int observationSize, int actionSize, int critics, IReadOnlyList<int> hiddenSizes, Rng rng,
        int outputsPerCritic = 1, Activation activation = Activation.Relu, double outputGain = 1.0, WeightInit init = WeightInit.Orthogonal)
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
        _side = new SideBySide(this);
        _nets = new Mlp[critics];
        for (int k = 0; k < critics; k++)
            _nets[k] = new Mlp(Parameters, [observationSize + actionSize, .. hiddenSizes, outputsPerCritic], activation, rng,
                outputGain: outputGain, name: $"q{k}", init: init);
    }

    public Parameters Parameters { get; }
    public int Count => _nets.Length;
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int OutputsPerCritic { get; }
    public int InputSize => ObservationSize + ActionSize;
    /// <summary>The critics' networks (for reference computations in tests and diagnostics).</summary>
    public IReadOnlyList<Mlp> Networks => _nets;

    /// <summary>
    /// Threads for this instance's work. With two or more and at least two critics, the critics themselves run
    /// side by side — the second half on a helper core, each critic's products on one thread — because the critics are
    /// independent and their thin products (k = obs + act) do not split well inside one GEMM. Every critic's numbers
    /// are computed by the same operations in the same order either way (GEMM is bit-identical across thread counts),
    /// so the results do not depend on the thread count.
    /// </summary>
    public int Threads
    {
        set
        {
            _split = value >= 2 && _nets.Length >= 2;
            foreach (var n in _nets) n.Threads = _split ? 1 : value;
        }
    }

    private bool _split;
    // What the helper core runs for the current call (fields, not a closure: steady state allocates nothing).
    private int _work, _workBatch, _workFirstInput, _workInputs;
    private bool _workInputGradient;
    private float[] _gradQCopy = [];
    private const int WorkForward = 1, WorkBackward = 2, WorkActionGradient = 3;

    /// <summary>Runs critic k's part of the current call (<see cref="_work"/>); results stay in the net's own buffers.</summary>
    private void RunCritic(int k)
    {
        int batch = _workBatch, m = OutputsPerCritic;
        var net = _nets[k];
        switch (_work)
        {
            case WorkForward: net.Forward(_input.AsSpan(0, batch * InputSize), batch); break;
            case WorkBackward: net.Backward(_gradQCopy.AsSpan(k * batch * m, batch * m), _workInputGradient); break;
            case WorkActionGradient: net.InputGradient(_gradQCopy.AsSpan(k * batch * m, batch * m), _workFirstInput, _workInputs); break;
        }
    }

    /// <summary>Runs critics [0, count) of the current call: the upper half on a helper core when split, the rest here.</summary>
    private void RunCritics(int count)
    {
        if (!_split || count < 2) { for (int k = 0; k < count; k++) RunCritic(k); return; }
        _side.Count = count;
        WorkerTeam.Run(_side, 2);
    }

    private readonly SideBySide _side;

    /// <summary>
    /// The critics as two parts for the shared <see cref="WorkerTeam"/>: part 0 (this thread) runs critics [0, count/2),
    /// part 1 (a helper core) [count/2, count). When the team is busy the caller runs both parts itself — the same
    /// operations, so the same results.
    /// </summary>
    private sealed class SideBySide(ContinuousCritics owner) : IPartitionedWork
    {
        public int Count;

        public void RunPart(int part, int parts)
        {
            int lo = (int)((long)Count * part / parts), hi = (int)((long)Count * (part + 1) / parts);
            for (int k = lo; k < hi; k++) owner.RunCritic(k);
        }
    }

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
        _work = WorkForward;
        _workBatch = batch;
        RunCritics(critics);
        for (int k = 0; k < critics; k++) _nets[k].Output.CopyTo(q.Slice(k * batch * m, batch * m));
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
        CopyGradQ(gradQ);
        _work = WorkActionGradient;
        _workBatch = batch;
        _workFirstInput = ObservationSize;
        _workInputs = ad;
        RunCritics(critics);
        // Summed in critic order, whichever core computed each term.
        for (int k = 0; k < critics; k++)
            System.Numerics.Tensors.TensorPrimitives.Add(gradActions, _nets[k].LastInputGradient(batch * ad), gradActions);
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
        CopyGradQ(gradQ);
        _work = WorkBackward;
        _workBatch = batch;
        _workInputGradient = wantActions;
        RunCritics(Count); // each critic adds into its own slice of the gradients: disjoint, so the cores never meet
        if (!wantActions) return;
        for (int k = 0; k < Count; k++)
        {
            var gx = _nets[k].LastInputGradient(batch * d);
            for (int b = 0; b < batch; b++)
                System.Numerics.Tensors.TensorPrimitives.Add(gradActions.Slice(b * ad, ad), gx.Slice(b * d + od, ad), gradActions.Slice(b * ad, ad));
        }
    }

    private void CopyGradQ(ReadOnlySpan<float> gradQ)
    {
        if (_gradQCopy.Length < gradQ.Length) _gradQCopy = new float[gradQ.Length];
        gradQ.CopyTo(_gradQCopy);
    }
}
