using System.Diagnostics;
using Proximal.Algorithms.Policies;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Nn;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// PPO with a recurrent (LSTM) actor-critic, for partially observed tasks — SB3-contrib's RecurrentPPO and CleanRL's
/// ppo_atari_lstm. Same options as <see cref="Ppo"/> (<c>ppo</c> with <c>policy.lstm_hidden_size</c> set trains this);
/// what changes is memory:
/// <list type="bullet">
/// <item>Acting: each env's LSTM state is carried from step to step and across rollouts (and saved in the model file, so
/// resume is exact); it is reset to zero where an episode starts.</item>
/// <item>The rollout stores, besides what PPO stores, the episode-start flag of every step and each env's LSTM state
/// at the start of every training sequence.</item>
/// <item>Training: each env's T steps are cut into chunks of L = <c>policy.lstm_sequence_length</c> steps (default: the
/// whole rollout, as CleanRL); a minibatch is a set of whole chunks, each replayed in time order from its stored
/// initial state with the same resets, and back-propagated through time. Chunks are shuffled; time never is.</item>
/// </list>
/// GAE, the clipped surrogate, the value loss, the entropy bonus, gradient clipping and target_kl are PPO's
/// (<see cref="Surrogate"/>, <see cref="RolloutBuffer"/>). This file is the loop and the update, top to bottom.
/// <para>Usage: <c>using var ppo = RecurrentPpo.Create("CartPoleNoVel-v1", options); ppo.Learn(100_000);</c> then
/// <c>var s = ppo.NewPredictState(1); ppo.Predict(obs, action, s, episodeStart: [true]);</c> step after step.</para>
/// </summary>
public sealed class RecurrentPpo : BaseAlgorithm, IRecurrentAgent
{
    public const string AlgorithmName = "recurrent_ppo";

    private readonly Adam _adam;
    private readonly RolloutBuffer _buffer;
    private readonly int _sequenceLength;
    private readonly RecurrentState _state;         // each env's state now: carried across rollouts, saved
    private readonly RecurrentState _valueState;    // scratch for V(last observation)
    private readonly bool[] _episodeStart;          // env i's next step begins an episode (saved)
    private readonly bool[] _starts;                // [T × N] the episode-start flag of every rollout step
    private readonly RecurrentState[] _chunkStart;  // [T/L] every env's state at step j·L of the rollout

    private readonly float[] _envActions, _rewards, _lastValues, _stepOutputs, _stepValues;
    private readonly bool[] _terminated, _truncated;

    // Minibatch workspaces, time-major [L × S] (S sequences of L steps), allocated once.
    private readonly int[] _sequences, _rows;
    private readonly bool[] _mbStarts;
    private readonly RecurrentState _mbInitial;
    private readonly float[] _mbObs, _mbActions, _mbOldLogProb, _mbOldValues, _mbAdvantages, _mbReturns;
    private readonly float[] _newLogProb, _entropy, _gradLogProb, _gradEntropy, _gradOutputs, _gradValues;

    // Stateless Predict: every row starts an episode.
    private LstmState? _predictState;
    private float[] _predictOutputs = [];

    private RecurrentPpo(VecEnv env, PpoOptions options, string? envId, bool ownsEnv)
        : this(ValidatedCopy(options), env, envId, ownsEnv) { }

    private RecurrentPpo(PpoOptions options, VecEnv env, string? envId, bool ownsEnv) : base(env, options, envId, ownsEnv)
    {
        Options = options;
        int n = options.NEnvs, t = options.NSteps, m = options.MinibatchSize, od = env.ObservationSize, ad = env.ActionSize;
        if (!options.Policy.Recurrent) throw new ConfigException("recurrent PPO needs policy.lstm_hidden_size > 0.");
        if (options.Surrogate is not (SurrogateKind.Clip or SurrogateKind.None))
            throw new ConfigException($"recurrent PPO supports surrogate: clip or none, not {ConfigBinder.ToSnakeCase(options.Surrogate.ToString())}.");
        int l = options.Policy.LstmSequenceLength == 0 ? t : options.Policy.LstmSequenceLength;
        if (t % l != 0)
            throw new ConfigException($"policy.lstm_sequence_length {l} does not divide n_steps {t}: every env's rollout is cut into whole sequences.");
        if (m % l != 0)
            throw new ConfigException($"minibatch_size {m} is not a multiple of the sequence length {l} (policy.lstm_sequence_length, or n_steps when 0): a minibatch is whole sequences.");
        _sequenceLength = l;

        Policy = new RecurrentActorCritic(env.SingleObservationSpace, env.SingleActionSpace, options.Policy, InitRng);
        Policy.Threads = options.TrainThreads;
        _adam = new Adam(Policy.Parameters, options.LearningRate, epsilon: options.AdamEpsilon);
        if (ad != Policy.ActionSize) throw new InvalidOperationException($"Action size mismatch: env {ad}, policy {Policy.ActionSize}.");
        _buffer = new RolloutBuffer(t, n, od, ad);
        _state = Policy.NewState(n);
        _valueState = Policy.NewState(n);
        _episodeStart = new bool[n];
        Array.Fill(_episodeStart, true);
        _starts = new bool[t * n];
        _chunkStart = new RecurrentState[t / l];
        for (int j = 0; j < _chunkStart.Length; j++) _chunkStart[j] = Policy.NewState(n);
        _envActions = new float[n * ad];
        _rewards = new float[n];
        _terminated = new bool[n];
        _truncated = new bool[n];
        _lastValues = new float[n];
        _stepOutputs = new float[n * Policy.OutputSize];
        _stepValues = new float[n];

        int s = m / l, p = Policy.OutputSize;
        _sequences = new int[n * t / l];
        _rows = new int[m];
        _mbStarts = new bool[m];
        _mbInitial = Policy.NewState(s);
        _mbObs = new float[m * od];
        _mbActions = new float[m * ad];
        _mbOldLogProb = new float[m];
        _mbOldValues = new float[m];
        _mbAdvantages = new float[m];
        _mbReturns = new float[m];
        _newLogProb = new float[m];
        _entropy = new float[m];
        _gradLogProb = new float[m];
        _gradEntropy = new float[m];
        _gradOutputs = new float[m * p];
        _gradValues = new float[m];
    }

    /// <summary>Recurrent PPO on an environment you built (the caller keeps ownership of <paramref name="env"/>).</summary>
    public RecurrentPpo(VecEnv env, PpoOptions options) : this(env, options, envId: null, ownsEnv: false) { }

    /// <summary>Recurrent PPO on a registered environment id (options.policy.lstm_hidden_size must be set).</summary>
    public static RecurrentPpo Create(string envId, PpoOptions options)
        => CreateOnRegisteredEnv(envId, options, env => new RecurrentPpo(env, options, envId, ownsEnv: true));

    /// <summary>Loads a model saved by <see cref="BaseAlgorithm.Save"/>, LSTM states included (see <see cref="Ppo.Load"/>).</summary>
    public static RecurrentPpo Load(string path, VecEnv? env = null)
    {
        var model = LoadModel<RecurrentPpo, PpoOptions>(path, env, AlgorithmName, (e, o, id, owns) => new RecurrentPpo(e, o, id, owns));
        if (!model.Started) model.ResetRecurrentState(); // the envs restart from a reset: so do their memories
        return model;
    }

    public override string Algorithm => AlgorithmName;
    public PpoOptions Options { get; }
    public RecurrentActorCritic Policy { get; }
    /// <summary>Steps per training sequence (policy.lstm_sequence_length, or n_steps).</summary>
    public int SequenceLength => _sequenceLength;
    /// <summary>True when the latest update ended early on target_kl.</summary>
    public bool EarlyStopped { get; private set; }
    /// <summary>The latest rollout (tests).</summary>
    internal RolloutBuffer LatestRollout => _buffer;
    /// <summary>Each env's LSTM state now (tests).</summary>
    internal RecurrentState CurrentState => _state;

    private void ResetRecurrentState()
    {
        _state.Clear();
        Array.Fill(_episodeStart, true);
    }

    // ---------------------------------------------------------------- the rollout

    protected override void RunIteration(double scheduleFraction)
    {
        CollectRollout();
        TimedUpdate(() => Train(scheduleFraction));
    }

    private void CollectRollout()
    {
        int n = Options.NEnvs, od = Env.ObservationSize, l = _sequenceLength;
        var head = Policy.Head;
        var obs = CurrentObservations;
        _buffer.BeginRollout();
        for (int t = 0; t < Options.NSteps; t++)
        {
            long a0 = Stopwatch.GetTimestamp();
            if (t % l == 0) _chunkStart[t / l].CopyFrom(_state); // where the training sequences starting here begin
            obs.CopyTo(_buffer.ObservationRow(t));
            _episodeStart.CopyTo(_starts.AsSpan(t * n, n));
            Policy.Step(obs, _episodeStart, _state, _stepOutputs, _stepValues);
            var actions = _buffer.ActionRow(t);
            head.Sample(_stepOutputs, TrainRng, actions);
            head.LogProb(_stepOutputs, actions, _buffer.Row(_buffer.LogProbs, t));
            _stepValues.CopyTo(_buffer.Row(_buffer.Values, t));
            ToEnvActions(actions, _envActions);
            long a1 = Stopwatch.GetTimestamp();

            StepEnvs(_envActions, _rewards, _terminated, _truncated);

            long a2 = Stopwatch.GetTimestamp();
            _rewards.CopyTo(_buffer.Row(_buffer.Rewards, t));
            _terminated.CopyTo(_buffer.Row(_buffer.Terminated, t));
            _truncated.CopyTo(_buffer.Row(_buffer.Truncated, t));
            if (Options.BootstrapTruncation)
            {
                // V(final observation) of a time-limit truncation, continuing the episode's memory (no reset).
                var has = Env.HasFinalObservation;
                var final = Env.FinalObservations;
                var row = _buffer.Row(_buffer.TruncationValues, t);
                for (int i = 0; i < n; i++)
                    if (has[i] && _truncated[i] && !_terminated[i]) row[i] = Policy.ContinuationValue(final.Slice(i * od, od), _state, i);
            }
            for (int i = 0; i < n; i++) _episodeStart[i] = _terminated[i] || _truncated[i];
            AddInferenceTicks(a1 - a0 + (Stopwatch.GetTimestamp() - a2));
        }
        long b0 = Stopwatch.GetTimestamp();
        _valueState.CopyFrom(_state); // V(last observation) without advancing the carried state
        Policy.Step(obs, _episodeStart, _valueState, _stepOutputs, _lastValues);
        _buffer.ComputeAdvantages(Options.Gamma, Options.GaeLambda, _lastValues);
        AddInferenceTicks(Stopwatch.GetTimestamp() - b0);
    }

    // ---------------------------------------------------------------- update

    /// <summary>
    /// K epochs over minibatches of whole sequences (shuffled sequence order, time order kept inside each), each one
    /// Adam step on L = −clipped surrogate + vf_coef·value loss − ent_coef·entropy, its gradient through time.
    /// </summary>
    private void Train(double scheduleFraction)
    {
        double lr = Options.AnnealLr ? Options.LearningRate * scheduleFraction : Options.LearningRate;
        double clip = Options.AnnealClipRange ? Options.ClipRange * scheduleFraction : Options.ClipRange;
        int l = _sequenceLength, s = Options.MinibatchSize / l, count = _sequences.Length;
        var parameters = Policy.Parameters;
        Policy.Head.SnapshotOld();
        for (int q = 0; q < count; q++) _sequences[q] = q;

        double sumPolicy = 0, sumValue = 0, sumEntropy = 0, sumKl1 = 0, sumKl2 = 0, sumClip = 0, sumNorm = 0;
        int updates = 0, epochsRun = 0;
        bool stop = false;
        EarlyStopped = false;
        for (int epoch = 0; epoch < Options.NEpochs && !stop; epoch++)
        {
            TrainRng.Shuffle(_sequences.AsSpan());
            for (int start = 0; start < count; start += s)
            {
                GatherSequences(_sequences.AsSpan(start, s));
                if (Options.NormalizeAdvantage) Surrogate.NormalizeAdvantages(_mbAdvantages);

                var loss = LossAndGradient(l, s, clip);

                if (Options.TargetKl is { } targetKl && loss.Policy.ApproxKl > 1.5 * targetKl)
                {
                    stop = true;
                    EarlyStopped = true;
                    break;
                }
                double norm = Options.MaxGradNorm is { } maxNorm ? parameters.ClipGradientNorm(maxNorm) : parameters.GradientNorm();
                if (!double.IsFinite(norm))
                    throw new InvalidOperationException($"Recurrent PPO update diverged: the gradient norm is {norm} at step {NumTimesteps} (epoch {epoch}). Lower learning_rate or enable max_grad_norm / normalisation.");
                _adam.Step(lr);

                var stats = loss.Policy;
                sumPolicy += stats.Loss; sumValue += loss.Value; sumEntropy += loss.Entropy;
                sumKl1 += stats.ApproxKlNaive; sumKl2 += stats.ApproxKl; sumClip += stats.ClipFraction; sumNorm += norm;
                updates++;
            }
            if (!stop) epochsRun++;
        }

        double inv = 1.0 / Math.Max(updates, 1);
        IterationMetrics["train/policy_loss"] = sumPolicy * inv;
        IterationMetrics["train/value_loss"] = sumValue * inv;
        IterationMetrics["train/entropy"] = sumEntropy * inv;
        IterationMetrics["train/approx_kl_naive"] = sumKl1 * inv;
        IterationMetrics["train/approx_kl"] = sumKl2 * inv;
        IterationMetrics["train/clip_fraction"] = sumClip * inv;
        IterationMetrics["train/grad_norm"] = sumNorm * inv;
        IterationMetrics["train/explained_variance"] = Surrogate.ExplainedVariance(_buffer.Values, _buffer.Returns);
        IterationMetrics["train/learning_rate"] = lr;
        IterationMetrics["train/clip_range"] = clip;
        IterationMetrics["train/epochs"] = epochsRun;
        if (Options.TargetKl is not null) IterationMetrics["train/early_stopped"] = EarlyStopped ? 1 : 0;
        if (Policy.LogStd.Length > 0)
        {
            double sum = 0;
            foreach (float v in Policy.LogStd) sum += v;
            IterationMetrics["train/std"] = Math.Exp(sum / Policy.LogStd.Length);
        }
    }

    /// <summary>
    /// Copies sequences <paramref name="sequences"/> (sequence q = chunk q / N of env q mod N) into the time-major
    /// minibatch: row l·S + s is step l of the s-th sequence; the initial states come from the rollout's stored ones.
    /// </summary>
    private void GatherSequences(ReadOnlySpan<int> sequences)
    {
        int n = Options.NEnvs, l = _sequenceLength, s = sequences.Length;
        for (int k = 0; k < s; k++)
        {
            int q = sequences[k], chunk = q / n, env = q % n;
            _mbInitial.CopyRow(_chunkStart[chunk], env, k);
            for (int step = 0; step < l; step++)
            {
                int row = (chunk * l + step) * n + env;
                _rows[step * s + k] = row;
                _mbStarts[step * s + k] = _starts[row];
            }
        }
        _buffer.Gather(_rows, _mbObs, _mbActions, _mbOldLogProb, _mbOldValues, _mbAdvantages, _mbReturns);
    }

    /// <summary>One minibatch's loss terms (means over its rows).</summary>
    internal readonly record struct MinibatchLoss(PolicyLossStats Policy, double Value, double Entropy, double Total);

    /// <summary>
    /// The loss of the minibatch in the _mb* workspaces (S sequences of L steps from _mbInitial) and its gradient,
    /// written into the zeroed parameter gradients: policy loss + vf_coef · value loss − ent_coef · mean entropy.
    /// </summary>
    private MinibatchLoss LossAndGradient(int steps, int sequences, double clip)
    {
        int m = steps * sequences;
        var head = Policy.Head;
        Policy.Parameters.ZeroGradients();
        var outputs = Policy.Forward(_mbObs, steps, sequences, _mbStarts, _mbInitial, out var values);
        head.LogProb(outputs, _mbActions, _newLogProb);

        var stats = Surrogate.PolicyLoss(Options.Surrogate, clip, _newLogProb, _mbOldLogProb, _mbAdvantages, _gradLogProb);
        Array.Clear(_gradOutputs);
        head.LogProbBackward(outputs, _mbActions, _gradLogProb, _gradOutputs);

        head.Entropy(outputs, _entropy);
        double entropy = 0;
        foreach (float e in _entropy) entropy += e;
        entropy /= m;
        if (Options.EntCoef > 0)
        {
            Array.Fill(_gradEntropy, (float)(-Options.EntCoef / m));
            head.EntropyBackward(outputs, _gradEntropy, _gradOutputs);
        }

        double valueLoss = Surrogate.ValueLoss(values, _mbOldValues, _mbReturns, Options.ClipRangeVf, _gradValues);
        if (Options.VfCoef != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(_gradValues, (float)Options.VfCoef, _gradValues);

        Policy.Backward(_gradOutputs, _gradValues);
        return new MinibatchLoss(stats, valueLoss, entropy, stats.Loss + Options.VfCoef * valueLoss - Options.EntCoef * entropy);
    }

    /// <summary>
    /// Test access to <see cref="LossAndGradient"/> on a given time-major minibatch of S sequences × L steps
    /// (advantages as given: no normalisation). Parameter gradients hold dL/dθ afterwards.
    /// </summary>
    internal MinibatchLoss LossAndGradientOf(int steps, int sequences, ReadOnlySpan<float> obs, ReadOnlySpan<bool> starts, RecurrentState initial,
        ReadOnlySpan<float> actions, ReadOnlySpan<float> oldLogProb, ReadOnlySpan<float> oldValues, ReadOnlySpan<float> advantages,
        ReadOnlySpan<float> returns, double clip)
    {
        if (steps * sequences != Options.MinibatchSize || sequences != _mbInitial.Batch)
            throw new ArgumentException($"the minibatch is {_mbInitial.Batch} sequences × {_sequenceLength} steps.");
        obs.CopyTo(_mbObs); starts.CopyTo(_mbStarts); _mbInitial.CopyFrom(initial);
        actions.CopyTo(_mbActions); oldLogProb.CopyTo(_mbOldLogProb); oldValues.CopyTo(_mbOldValues);
        advantages.CopyTo(_mbAdvantages); returns.CopyTo(_mbReturns);
        return LossAndGradient(steps, sequences, clip);
    }

    // ---------------------------------------------------------------- acting

    public LstmState NewPredictState(int batch) => new(batch, Policy.HiddenSize);

    public void Predict(ReadOnlySpan<float> observations, Span<float> actions, LstmState state, ReadOnlySpan<bool> episodeStart,
        bool deterministic = true, bool normalized = false)
    {
        ArgumentNullException.ThrowIfNull(state);
        observations = PredictObservations(observations, actions, normalized, out int b);
        if (state.Batch != b || state.HiddenSize != Policy.HiddenSize)
            throw new ArgumentException($"state is {state.Batch} × {state.HiddenSize}; these {b} observations need a state from NewPredictState({b}).", nameof(state));
        if (episodeStart.Length != b)
            throw new ArgumentException($"episodeStart has {episodeStart.Length} flags; expected one per observation row ({b}).", nameof(episodeStart));
        Act(observations, b, actions, state, episodeStart, deterministic);
        ToEnvActions(actions, actions);
    }

    /// <summary>Without a state every row is taken as the first step of an episode (zero memory), as SB3-contrib's predict with state=None.</summary>
    protected override void PredictPolicy(ReadOnlySpan<float> observations, int batch, Span<float> actions, bool deterministic)
    {
        if (_predictState is null || _predictState.Batch != batch) _predictState = NewPredictState(batch);
        else _predictState.Clear();
        Act(observations, batch, actions, _predictState, default, deterministic);
    }

    private void Act(ReadOnlySpan<float> observations, int batch, Span<float> actions, LstmState state, ReadOnlySpan<bool> episodeStart, bool deterministic)
    {
        int p = Policy.OutputSize;
        if (_predictOutputs.Length < batch * p) _predictOutputs = new float[batch * p];
        var outputs = _predictOutputs.AsSpan(0, batch * p);
        Policy.ActorStep(observations, episodeStart, state, outputs);
        if (deterministic) Policy.Head.Mode(outputs, actions);
        else Policy.Head.Sample(outputs, PredictRng, actions);
    }

    // ---------------------------------------------------------------- save / load

    protected override void SaveState(ModelStateWriter writer)
    {
        writer.AddParameters("policy", Policy.Parameters);
        writer.AddAdam("optimizer", _adam);
        writer.Add(new ModelArray("recurrent/actor_hidden", ((float[])_state.Actor.Hidden.Clone()).AsMemory()));
        writer.Add(new ModelArray("recurrent/actor_cell", ((float[])_state.Actor.Cell.Clone()).AsMemory()));
        if (_state.Critic is { } c)
        {
            writer.Add(new ModelArray("recurrent/critic_hidden", ((float[])c.Hidden.Clone()).AsMemory()));
            writer.Add(new ModelArray("recurrent/critic_cell", ((float[])c.Cell.Clone()).AsMemory()));
        }
        writer.Add(new ModelArray("recurrent/episode_start", Array.ConvertAll(_episodeStart, f => f ? 1L : 0L).AsMemory()));
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        reader.RestoreParameters("policy", Policy.Parameters);
        reader.RestoreAdam("optimizer", _adam);
        var model = reader.Model;
        int size = _state.Actor.Hidden.Length;
        model.GetFloat32("recurrent/actor_hidden", size).Span.CopyTo(_state.Actor.Hidden);
        model.GetFloat32("recurrent/actor_cell", size).Span.CopyTo(_state.Actor.Cell);
        if (_state.Critic is { } c)
        {
            model.GetFloat32("recurrent/critic_hidden", size).Span.CopyTo(c.Hidden);
            model.GetFloat32("recurrent/critic_cell", size).Span.CopyTo(c.Cell);
        }
        var starts = model.GetInt64("recurrent/episode_start", _episodeStart.Length).Span;
        for (int i = 0; i < starts.Length; i++)
            _episodeStart[i] = starts[i] switch
            {
                0 => false,
                1 => true,
                _ => throw new ModelFileException(reader.Path, $"model file {reader.Path}: 'recurrent/episode_start' holds {starts[i]}; flags are 0 or 1."),
            };
    }
}
