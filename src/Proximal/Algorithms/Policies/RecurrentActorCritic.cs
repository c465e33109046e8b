using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Algorithms.Policies;

/// <summary>
/// The state a recurrent actor-critic carries between steps for <see cref="Batch"/> envs: the actor's LSTM state
/// and, when the critic has its own LSTM, the critic's. Zeros mean "at an episode start".
/// </summary>
public sealed class RecurrentState
{
    public RecurrentState(int batch, int hiddenSize, bool criticLstm)
    {
        Actor = new LstmState(batch, hiddenSize);
        Critic = criticLstm ? new LstmState(batch, hiddenSize) : null;
    }

    public LstmState Actor { get; }
    /// <summary>The critic's own LSTM state; null when the critic shares the actor's LSTM or has none.</summary>
    public LstmState? Critic { get; }
    public int Batch => Actor.Batch;

    public void Clear() { Actor.Clear(); Critic?.Clear(); }

    public void CopyFrom(RecurrentState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Actor.CopyFrom(other.Actor);
        if (Critic is not null) Critic.CopyFrom(other.Critic ?? throw new ArgumentException("RecurrentState: the other state has no critic LSTM state.", nameof(other)));
    }

    /// <summary>Copies row <paramref name="from"/> of <paramref name="source"/> into row <paramref name="to"/> of this state.</summary>
    public void CopyRow(RecurrentState source, int from, int to)
    {
        int h = Actor.HiddenSize;
        source.Actor.Hidden.AsSpan(from * h, h).CopyTo(Actor.Hidden.AsSpan(to * h, h));
        source.Actor.Cell.AsSpan(from * h, h).CopyTo(Actor.Cell.AsSpan(to * h, h));
        if (Critic is not null)
        {
            source.Critic!.Hidden.AsSpan(from * h, h).CopyTo(Critic.Hidden.AsSpan(to * h, h));
            source.Critic.Cell.AsSpan(from * h, h).CopyTo(Critic.Cell.AsSpan(to * h, h));
        }
    }
}

/// <summary>
/// Recurrent actor-critic (SB3-contrib's MlpLstmPolicy): observation → LSTM → the MLP heads of <see cref="ActorCritic"/>
/// (policy.hidden_sizes, policy.activation; orthogonal init with gains √2, 0.01 for the policy output, 1 for the value).
/// The critic either has its own LSTM (<c>enable_critic_lstm</c>, the default), reads the actor's LSTM output without
/// sending value gradients into it (<c>shared_lstm</c>, as SB3-contrib detaches it), or is feed-forward on the
/// observation. Everything, the Gaussian log-std included, lives in ONE <see cref="Parameters"/> buffer.
/// <para>Acting advances a caller-owned <see cref="RecurrentState"/> one step; training runs whole sequences
/// (time-major [T × S]) from stored initial states and back-propagates through time.</para>
/// </summary>
public sealed unsafe class RecurrentActorCritic
{
    private readonly Lstm _actorLstm;
    private readonly Lstm? _criticLstm;
    private readonly Mlp _actor, _critic;
    private readonly ParameterSlice? _logStd;
    private readonly bool _shared;
    private readonly LstmState _scratch;

    public RecurrentActorCritic(Space observationSpace, Space actionSpace, PolicyOptions options, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(observationSpace);
        ArgumentNullException.ThrowIfNull(actionSpace);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rng);
        if (!options.Recurrent) throw new ArgumentException("A recurrent actor-critic needs policy.lstm_hidden_size > 0.", nameof(options));
        if (observationSpace is not Box)
            throw new NotSupportedException($"Recurrent policies need a Box observation space; got {observationSpace}.");
        ObservationSpace = observationSpace;
        ActionSpace = actionSpace;
        Options = options;
        ObservationSize = observationSpace.FlatSize;
        HiddenSize = options.LstmHiddenSize;
        Parameters = new Parameters();
        int outputs = ActionHead.OutputSizeFor(actionSpace);
        var act = options.Activation == ActivationKind.Tanh ? Activation.Tanh : Activation.Relu;
        int[] hidden = options.HiddenSizes;
        int h = HiddenSize;
        _shared = options.SharedLstm;
        _actorLstm = new Lstm(Parameters, ObservationSize, h, "lstm_actor");
        _actorLstm.InitializeOrthogonal(rng);
        if (!_shared && options.EnableCriticLstm)
        {
            _criticLstm = new Lstm(Parameters, ObservationSize, h, "lstm_critic");
            _criticLstm.InitializeOrthogonal(rng);
        }
        _actor = new Mlp(Parameters, [h, .. hidden, outputs], act, rng, outputGain: 0.01, name: "actor") { SparseInputs = false }; // fed the LSTM's output
        _critic = new Mlp(Parameters, [CriticReadsLstm ? h : ObservationSize, .. hidden, 1], act, rng, outputGain: 1.0, name: "critic") { SparseInputs = !CriticReadsLstm };
        Head = ActionHead.ForPolicy(Parameters, actionSpace, options.LogStdInit, out _logStd);
        _scratch = new LstmState(1, h);
        _branches = new Branches(this);
    }

    public Space ObservationSpace { get; }
    public Space ActionSpace { get; }
    public PolicyOptions Options { get; }
    public Parameters Parameters { get; }
    public ActionHead Head { get; }
    public int ObservationSize { get; }
    public int HiddenSize { get; }
    public int ActionSize => Head.ActionSize;
    public int OutputSize => Head.OutputSize;
    /// <summary>The critic has an LSTM state of its own to carry.</summary>
    public bool HasCriticLstm => _criticLstm is not null;
    private bool CriticReadsLstm => _shared || _criticLstm is not null;

    /// <summary>
    /// Threads for training's forward and backward passes. With two or more and a critic LSTM of its own, the actor
    /// (its LSTM and head) and the critic (its LSTM and head) run side by side, the critic on a helper core, each
    /// single-threaded: the two are independent until the loss, and an LSTM of 32 units over 8 sequences is a chain of
    /// small per-step products that cannot be split well inside. Each network computes the same operations in the same
    /// order either way, so results do not depend on the thread count.
    /// </summary>
    public int Threads
    {
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "Threads must be at least 1.");
            _sideBySide = value >= 2 && _criticLstm is not null;
            int each = _sideBySide ? 1 : value;
            _actorLstm.Threads = each;
            if (_criticLstm is not null) _criticLstm.Threads = each;
            _actor.Threads = each;
            _critic.Threads = each;
        }
    }

    private bool _sideBySide;
    private readonly Branches _branches;
    // The current training call, for the two branches (pointers into the caller's pinned spans: spans cannot be fields).
    private float* _callInput, _callGradOutputs, _callGradValues;
    private bool* _callStarts;
    private int _callSteps, _callSequences, _callStartsLength;
    private RecurrentState? _callInitial;
    private bool _callBackward;
    private float[] _outputs = [], _values = []; // where the side-by-side forward leaves the heads' results

    /// <summary>
    /// Part 0 (this thread) is the actor's branch, part 1 (a helper core) the critic's; when the shared worker team is
    /// busy the caller runs both, in order — the same operations, so the same results.
    /// </summary>
    private sealed class Branches(RecurrentActorCritic owner) : IPartitionedWork
    {
        public void RunPart(int part, int parts)
        {
            for (int branch = part; branch < 2; branch += parts) owner.RunBranch(branch);
        }
    }

    /// <summary>One branch of the current call: 0 the actor (LSTM and head), 1 the critic (LSTM and head).</summary>
    private void RunBranch(int branch)
    {
        int rows = _callSteps * _callSequences;
        var lstm = branch == 0 ? _actorLstm : _criticLstm!;
        var head = branch == 0 ? _actor : _critic;
        if (_callBackward)
        {
            var grad = branch == 0 ? new ReadOnlySpan<float>(_callGradOutputs, rows * OutputSize) : new ReadOnlySpan<float>(_callGradValues, rows);
            lstm.Backward(head.Backward(grad, computeInputGradient: true), computeInputGradient: false);
            return;
        }
        var state = branch == 0 ? _callInitial!.Actor : _callInitial!.Critic!;
        var features = lstm.Forward(new ReadOnlySpan<float>(_callInput, rows * ObservationSize), _callSteps, _callSequences,
            new ReadOnlySpan<bool>(_callStarts, _callStartsLength), state.Hidden, state.Cell);
        head.Forward(features, rows, branch == 0 ? _outputs.AsSpan(0, rows * OutputSize) : _values.AsSpan(0, rows));
    }

    /// <summary>A zero state (every env at an episode start) for <paramref name="batch"/> envs.</summary>
    public RecurrentState NewState(int batch) => new(batch, HiddenSize, HasCriticLstm);

    // ---------------------------------------------------------------- acting: one step, state advanced in place

    /// <summary>
    /// One step for B = <paramref name="state"/>.Batch envs: rows flagged in <paramref name="episodeStart"/> start from a
    /// zero state; the state is advanced. Actor outputs [B × OutputSize] and values [B] go to caller-owned destinations.
    /// </summary>
    public void Step(ReadOnlySpan<float> observations, ReadOnlySpan<bool> episodeStart, RecurrentState state, Span<float> outputs, Span<float> values)
    {
        int b = state.Batch;
        var features = _actorLstm.Step(observations, state.Actor, episodeStart);
        _actor.Forward(features, b, outputs);
        if (_shared) _critic.Forward(features, b, values);
        else if (_criticLstm is not null) _critic.Forward(_criticLstm.Step(observations, state.Critic!, episodeStart), b, values);
        else _critic.Forward(observations, b, values);
    }

    /// <summary>Actor outputs only, advancing the actor's LSTM state (what <c>Predict</c> needs).</summary>
    public void ActorStep(ReadOnlySpan<float> observations, ReadOnlySpan<bool> episodeStart, LstmState actorState, Span<float> outputs)
        => _actor.Forward(_actorLstm.Step(observations, actorState, episodeStart), actorState.Batch, outputs);

    /// <summary>
    /// V of one observation [ObservationSize] that continues row <paramref name="row"/> of <paramref name="state"/>
    /// (no episode start), leaving the state untouched: the bootstrap value of a truncated episode's final observation.
    /// </summary>
    public float ContinuationValue(ReadOnlySpan<float> observation, RecurrentState state, int row)
    {
        int h = HiddenSize;
        ReadOnlySpan<float> features;
        if (_shared || _criticLstm is not null)
        {
            var src = _shared ? state.Actor : state.Critic!;
            src.Hidden.AsSpan(row * h, h).CopyTo(_scratch.Hidden);
            src.Cell.AsSpan(row * h, h).CopyTo(_scratch.Cell);
            features = (_shared ? _actorLstm : _criticLstm!).Step(observation, _scratch);
        }
        else features = observation;
        return _critic.Forward(features, 1)[0];
    }

    // ---------------------------------------------------------------- training: whole sequences

    /// <summary>
    /// Runs S = <paramref name="sequences"/> sequences of T = <paramref name="steps"/> steps, time-major
    /// (observations [T × S × ObservationSize], episodeStarts [T × S]), from <paramref name="initial"/> (S rows).
    /// Returns actor outputs [T·S × OutputSize] and values [T·S], valid until the next forward call.
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> observations, int steps, int sequences, ReadOnlySpan<bool> episodeStarts,
        RecurrentState initial, out ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(initial);
        if (initial.Batch != sequences) throw new ArgumentException($"initial state has {initial.Batch} rows for {sequences} sequences.", nameof(initial));
        int rows = steps * sequences;
        if (_sideBySide)
        {
            // The checks the one-thread path's layers make, made here before the branches split.
            Guard.Batch(sequences, "RecurrentActorCritic");
            Guard.Batch(steps, "RecurrentActorCritic");
            Guard.Length(observations.Length, (long)rows * ObservationSize, "RecurrentActorCritic", Guard.Operand.Input, rows, ObservationSize, nameof(observations));
            if (_outputs.Length < rows * OutputSize) { _outputs = new float[rows * OutputSize]; _values = new float[rows]; }
            fixed (float* input = observations)
            fixed (bool* starts = episodeStarts)
            {
                _callInput = input; _callStarts = starts; _callStartsLength = episodeStarts.Length;
                _callSteps = steps; _callSequences = sequences; _callInitial = initial; _callBackward = false;
                try { WorkerTeam.Run(_branches, 2); }
                finally { _callInput = null; _callStarts = null; _callInitial = null; }
            }
            values = _values.AsSpan(0, rows);
            return _outputs.AsSpan(0, rows * OutputSize);
        }
        var features = _actorLstm.Forward(observations, steps, sequences, episodeStarts, initial.Actor.Hidden, initial.Actor.Cell);
        var outputs = _actor.Forward(features, rows);
        values = _shared ? _critic.Forward(features, rows)
            : _criticLstm is not null ? _critic.Forward(_criticLstm.Forward(observations, steps, sequences, episodeStarts, initial.Critic!.Hidden, initial.Critic.Cell), rows)
            : _critic.Forward(observations, rows);
        return outputs;
    }

    /// <summary>
    /// Back-propagates d loss/d actor outputs [T·S × OutputSize] and d loss/d values [T·S] of the last <see cref="Forward"/>
    /// through the heads and through time, adding into <see cref="Parameters"/>' gradients.
    /// </summary>
    public void Backward(ReadOnlySpan<float> gradOutputs, ReadOnlySpan<float> gradValues)
    {
        if (_sideBySide)
        {
            int rows = _actorLstm.Steps * _actorLstm.Batch;
            Guard.Length(gradOutputs.Length, (long)rows * OutputSize, "RecurrentActorCritic", Guard.Operand.OutputGradient, rows, OutputSize, nameof(gradOutputs));
            Guard.Length(gradValues.Length, rows, "RecurrentActorCritic", Guard.Operand.OutputGradient, rows, 1, nameof(gradValues));
            fixed (float* go = gradOutputs)
            fixed (float* gv = gradValues)
            {
                _callGradOutputs = go; _callGradValues = gv; _callSteps = _actorLstm.Steps; _callSequences = _actorLstm.Batch; _callBackward = true;
                try { WorkerTeam.Run(_branches, 2); }
                finally { _callGradOutputs = null; _callGradValues = null; }
            }
            return;
        }
        _actorLstm.Backward(_actor.Backward(gradOutputs, computeInputGradient: true), computeInputGradient: false);
        if (_criticLstm is not null) _criticLstm.Backward(_critic.Backward(gradValues, computeInputGradient: true), computeInputGradient: false);
        else _critic.Backward(gradValues, computeInputGradient: false); // shared: the value gradient stops at the actor's LSTM output
    }

    /// <summary>The Gaussian log-std (empty for discrete action spaces).</summary>
    public ReadOnlySpan<float> LogStd => _logStd is { } s ? Parameters.ValuesOf(s) : default;
}
