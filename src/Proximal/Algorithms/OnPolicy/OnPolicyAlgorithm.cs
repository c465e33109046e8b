using System.Diagnostics;
using Proximal.Algorithms.Policies;
using Proximal.Algorithms.SelfPlay;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Nn;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// The on-policy loop (PPO, A2C, TRPO, ACKTR): N actors run the actor-critic for T steps into a
/// <see cref="RolloutBuffer"/>, values bootstrap through time-limit truncations, GAE(γ, λ) gives advantages
/// and returns, then the algorithm's <see cref="Train"/> updates the policy. The actor-critic and its Adam
/// live here, saved as parameter set "policy" and optimiser "optimizer".
/// </summary>
public abstract class OnPolicyAlgorithm : BaseAlgorithm, Common.Callbacks.IMaskedAgent
{
    private readonly OnPolicyOptions _options;
    private readonly float[] _envActions, _rewards, _finalObs, _lastValues;
    private readonly bool[] _terminated, _truncated;
    private readonly int[] _finalIndex;
    private readonly float[] _stepOutputs, _stepValues;

    protected OnPolicyAlgorithm(VecEnv env, OnPolicyOptions options, string? envId, bool ownsEnv)
        : this(env, options, envId, ownsEnv, createAdam: true) { }

    /// <param name="createAdam">
    /// False for an algorithm that brings its own optimiser (A2C's RMSprop): then <see cref="Optimizer"/> is absent
    /// and no "optimizer" state is saved here; the algorithm saves its own.
    /// </param>
    protected OnPolicyAlgorithm(VecEnv env, OnPolicyOptions options, string? envId, bool ownsEnv, bool createAdam)
        : base(env, options, envId, ownsEnv)
    {
        _options = options;
        Policy = new ActorCritic(env.SingleObservationSpace, env.SingleActionSpace, options.Policy, InitRng); // [2]
        Policy.Threads = options.TrainThreads;
        if (createAdam) _adam = new Adam(Policy.Parameters, options.LearningRate, epsilon: options.AdamEpsilon); // [3]
        int n = options.NEnvs, od = env.ObservationSize, ad = env.ActionSize;
        if (ad != Policy.ActionSize) throw new InvalidOperationException($"Action size mismatch: env {ad}, policy {Policy.ActionSize}.");
        // [action masks] an env with legal-action masks exposes them, sized [N × n], from construction on.
        int maskSize = env.ActionMasks.Length / n;
        if (maskSize > 0)
        {
            if (!Policy.Head.SupportsActionMasks || maskSize != Policy.OutputSize || env.ActionMasks.Length != n * maskSize)
                throw new NotSupportedException($"The env gives action masks of {env.ActionMasks.Length} values for {n} envs; masks need a Discrete action space with one entry per action ({Policy.OutputSize}).");
            if (!SupportsActionMasks)
                throw new NotSupportedException($"{GetType().Name} does not use action masks in its update; train this env with PPO.");
        }
        Buffer = new RolloutBuffer(options.NSteps, n, od, ad, maskSize);
        // [self-play] a two-player env gets the league as its opponent; its generator is its own (seeded apart from
        // the root's splits), so runs on other envs draw exactly the numbers they drew before.
        if (env.Find<ConnectFourSelfPlayVecEnv>() is { } game)
        {
            var selfPlay = (options as ISelfPlayOptions)?.SelfPlay ?? new SelfPlayOptions();
            League = new SelfPlayLeague(Policy, selfPlay, (ulong)options.Seed ^ 0x5E1F_91A7_0000_0001UL, n) { Threads = options.TrainThreads };
            game.Opponent = League;
            game.Mirror = selfPlay.Mirror;
        }
        _envActions = new float[n * ad];
        _rewards = new float[n];
        _terminated = new bool[n];
        _truncated = new bool[n];
        _finalObs = new float[n * od];
        _finalIndex = new int[n];
        _lastValues = new float[n];
        _stepOutputs = new float[n * Policy.OutputSize];
        _stepValues = new float[n];
    }

    public ActorCritic Policy { get; }
    /// <summary>Adam over the whole actor-critic (absent when the subclass asked for none).</summary>
    protected Adam Optimizer => _adam ?? throw new InvalidOperationException($"{Algorithm} was built without the shared Adam optimiser.");
    private readonly Adam? _adam;
    protected RolloutBuffer Buffer { get; }
    /// <summary>The latest rollout, for tests that check where values and bootstraps landed.</summary>
    internal RolloutBuffer LatestRollout => Buffer;
    /// <summary>Runs the update on the rollout as it stands (tests that fill <see cref="LatestRollout"/> themselves).</summary>
    internal void TrainForTests(double scheduleFraction = 1.0) => Train(scheduleFraction);

    protected sealed override void RunIteration(double scheduleFraction)
    {
        League?.SetScheduleFraction(scheduleFraction); // [self-play] an annealed opponent_random_move follows the schedule
        CollectRollout();
        TimedUpdate(() => Train(scheduleFraction));
        AfterUpdate();
        DataParallel?.CheckInSync(Iterations + 1, Policy.Parameters.Values); // [distributed] drift fails loudly
    }

    // ---------------------------------------------------------------- data parallel: the hooks an update calls

    /// <summary>Every rank starts from rank 0's parameters (the optimiser states are all zero, or loaded from one file).</summary>
    protected override void OnUseDataParallel(IDataParallel dataParallel) => dataParallel.Broadcast(Policy.Parameters.Values);

    /// <summary>
    /// [distributed] Call once per minibatch, after the loss's gradient and BEFORE clipping and the optimiser step: the
    /// flat gradient becomes its mean over the ranks (one all-reduce), so every rank takes the identical step. No-op in a
    /// single process.
    /// </summary>
    protected void ReduceGradients() => DataParallel?.AverageGradients(Policy.Parameters.Gradients);

    // The value fit's workspaces, allocated at its first call (algorithms that never call it pay nothing).
    private int[] _fitIndices = [];
    private float[] _fitObs = [], _fitReturns = [], _fitGradValues = [];

    /// <summary>
    /// Fits the critic alone to the rollout's returns: <paramref name="epochs"/> epochs of shuffled Adam minibatches
    /// on mean((V − R)²) (TRPO's value function; ACKTR's with critic_fit: adam). The actor's gradients stay 0, so Adam
    /// leaves the actor exactly where it is. Returns the mean minibatch loss. N·T must be a multiple of the minibatch size.
    /// </summary>
    protected double FitValueFunction(int epochs, int minibatchSize, double lr)
    {
        int b = Buffer.Count, m = minibatchSize, od = Env.ObservationSize;
        if (_fitIndices.Length != b) _fitIndices = new int[b];
        if (_fitReturns.Length != m) { _fitObs = new float[m * od]; _fitReturns = new float[m]; _fitGradValues = new float[m]; }
        var parameters = Policy.Parameters;
        for (int i = 0; i < b; i++) _fitIndices[i] = i;
        double sum = 0;
        int steps = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            TrainRng.Shuffle(_fitIndices.AsSpan());
            for (int start = 0; start < b; start += m)
            {
                for (int j = 0; j < m; j++)
                {
                    int k = _fitIndices[start + j];
                    Buffer.Observations.AsSpan(k * od, od).CopyTo(_fitObs.AsSpan(j * od, od));
                    _fitReturns[j] = Buffer.Returns[k];
                }
                parameters.ZeroGradients();
                var values = Policy.Values(_fitObs, m);
                double loss = 0;
                for (int j = 0; j < m; j++)
                {
                    double err = (double)values[j] - _fitReturns[j];
                    loss += err * err;
                    _fitGradValues[j] = (float)(2 * err / m);
                }
                Policy.BackwardCritic(_fitGradValues);
                ReduceGradients(); // [distributed]
                double norm = _options.MaxGradNorm is { } maxNorm ? parameters.ClipGradientNorm(maxNorm) : parameters.GradientNorm();
                if (!double.IsFinite(norm))
                    throw new InvalidOperationException($"{Algorithm.ToUpperInvariant()} value-function update diverged: the gradient norm is {norm} at step {NumTimesteps}. Lower the critic's learning rate or enable normalisation.");
                Optimizer.Step(lr);
                sum += loss / m;
                steps++;
            }
        }
        return steps == 0 ? double.NaN : sum / steps;
    }

    /// <summary>
    /// Advantage normalisation with the mean and std of the minibatch over all ranks. Distributed, after
    /// <see cref="PrepareMinibatchAdvantages"/> the statistics of this epoch's minibatches are already reduced (one
    /// all-reduce per epoch, so a minibatch costs only its gradient's); otherwise one small all-reduce here.
    /// </summary>
    protected void NormalizeAdvantages(Span<float> advantages)
    {
        if (DataParallel is not { } dp) Surrogate.NormalizeAdvantages(advantages);
        else if (_advantageStatsNext < _advantageStatsCount) Surrogate.NormalizeAdvantages(advantages, _advantageStats.AsSpan(3 * _advantageStatsNext++, 3));
        else Surrogate.NormalizeAdvantages(advantages, dp);
    }

    private double[] _advantageStats = [];
    private int _advantageStatsCount, _advantageStatsNext;

    /// <summary>
    /// [distributed] Before an epoch's minibatches (the indices already shuffled, cut every <paramref name="minibatchSize"/>):
    /// reduces the count, sum and M2 of every minibatch's advantages across ranks in ONE all-reduce; the next
    /// <see cref="NormalizeAdvantages"/> calls use them in order. No-op in a single process.
    /// </summary>
    protected void PrepareMinibatchAdvantages(ReadOnlySpan<int> shuffledIndices, int minibatchSize)
    {
        if (DataParallel is not { } dp) return;
        int count = shuffledIndices.Length / minibatchSize;
        if (_advantageStats.Length < 3 * count) _advantageStats = new double[3 * count];
        var adv = Buffer.Advantages;
        for (int k = 0; k < count; k++)
        {
            var idx = shuffledIndices.Slice(k * minibatchSize, minibatchSize);
            double mean = 0, m2 = 0;
            foreach (int i in idx) mean += adv[i];
            mean /= minibatchSize;
            foreach (int i in idx) m2 += (adv[i] - mean) * (adv[i] - mean);
            _advantageStats[3 * k] = minibatchSize;
            _advantageStats[3 * k + 1] = minibatchSize * mean;
            _advantageStats[3 * k + 2] = m2 + minibatchSize * mean * mean;
        }
        dp.Sum(_advantageStats.AsSpan(0, 3 * count));
        _advantageStatsCount = count;
        _advantageStatsNext = 0;
    }

    /// <summary>The mean over all ranks of a per-rank mean (e.g. approx-KL for the early stop, which every rank must agree on).</summary>
    protected double MeanAcrossRanks(double value)
    {
        if (DataParallel is not { } dp) return value;
        Span<double> v = [value];
        dp.Sum(v);
        return v[0] / dp.Size;
    }

    /// <summary>The algorithm's update from the filled <see cref="Buffer"/> (advantages and returns computed).</summary>
    protected abstract void Train(double scheduleFraction);

    /// <summary>[action masks] True for an algorithm whose update passes the rollout's masks to the distribution (PPO).</summary>
    protected virtual bool SupportsActionMasks => false;

    /// <summary>[self-play] The opponents of a two-player env (null on single-agent envs).</summary>
    public SelfPlayLeague? League { get; }

    /// <summary>[self-play] After each update: snapshot into the pool every snapshot_every updates, rate every eval_every.</summary>
    private void AfterUpdate()
    {
        if (League is null) return;
        long update = Iterations + 1; // this iteration's update; Iterations counts the finished ones
        League.AfterUpdate(update);
        IterationMetrics["selfplay/pool_size"] = League.PoolCount;
        foreach (var key in IterationMetrics.Keys.Where(k => k.StartsWith("selfplay/", StringComparison.Ordinal) && k != "selfplay/pool_size").ToArray())
            IterationMetrics.Remove(key); // ratings appear only in the rows of the updates that were rated
        IterationMetrics["selfplay/opponent_random_move"] = League.OpponentRandomMoveNow; // this update's rollout used it
        var o = League.Options;
        if (o.EvalEvery > 0 && update % o.EvalEvery == 0)
        {
            var report = Ratings.Rate(Policy, o.EvalGames, (ulong)update, o.EvalOpeningPlies);
            IterationMetrics["selfplay/elo"] = report.Elo;
            foreach (var (reference, _, result) in report.Matches)
            {
                IterationMetrics[$"selfplay/{reference.Name}_win_first"] = result.AsFirst.WinRate;
                IterationMetrics[$"selfplay/{reference.Name}_win_second"] = result.AsSecond.WinRate;
            }
        }
    }

    /// <summary>Called for each rollout step with the actor's outputs for the N observations (PPO keeps them for its KL terms).</summary>
    protected virtual void OnRolloutStep(int t, ReadOnlySpan<float> actorOutputs) { }

    /// <summary>The learning rate now: learning_rate, times the schedule's fraction when annealing [4].</summary>
    protected double ScheduledLearningRate(double fraction) => _options.AnnealLr ? _options.LearningRate * fraction : _options.LearningRate;

    private void CollectRollout()
    {
        int n = _options.NEnvs, od = Env.ObservationSize;
        var head = Policy.Head;
        var obs = CurrentObservations;
        Buffer.BeginRollout();
        for (int t = 0; t < _options.NSteps; t++)
        {
            long a0 = Stopwatch.GetTimestamp();
            obs.CopyTo(Buffer.ObservationRow(t));
            Policy.Forward(obs, n, _stepOutputs, _stepValues);
            var actions = Buffer.ActionRow(t);
            if (Buffer.MaskSize > 0) // [action masks]
            {
                var mask = Buffer.MaskRow(t);
                var envMask = Env.ActionMasks;
                if (envMask.Length != mask.Length) throw new InvalidOperationException($"The env gave {envMask.Length} action-mask values at step {t}; expected {mask.Length}.");
                envMask.CopyTo(mask);
                head.Sample(_stepOutputs, TrainRng, actions, mask);
                head.LogProb(_stepOutputs, actions, Buffer.Row(Buffer.LogProbs, t), mask);
            }
            else
            {
                head.Sample(_stepOutputs, TrainRng, actions);
                head.LogProb(_stepOutputs, actions, Buffer.Row(Buffer.LogProbs, t));
            }
            _stepValues.CopyTo(Buffer.Row(Buffer.Values, t));
            OnRolloutStep(t, _stepOutputs);
            ToEnvActions(actions, _envActions); // [15] clip only what the env sees
            long a1 = Stopwatch.GetTimestamp();

            StepEnvs(_envActions, _rewards, _terminated, _truncated);

            long a2 = Stopwatch.GetTimestamp();
            _rewards.CopyTo(Buffer.Row(Buffer.Rewards, t));
            _terminated.CopyTo(Buffer.Row(Buffer.Terminated, t));
            _truncated.CopyTo(Buffer.Row(Buffer.Truncated, t));
            if (_options.BootstrapTruncation) BootstrapTruncated(t, n, od); // [5] V(final observation) for time-limit truncations
            AddInferenceTicks(a1 - a0 + (Stopwatch.GetTimestamp() - a2));
        }
        long b0 = Stopwatch.GetTimestamp();
        Policy.Values(obs, n, _lastValues);
        Buffer.ComputeAdvantages(_options.Gamma, _options.GaeLambda, _lastValues);
        AddInferenceTicks(Stopwatch.GetTimestamp() - b0);
    }

    /// <summary>Writes V(final observation) into the truncation slot (t, i) of each env i whose episode was truncated at step t.</summary>
    private void BootstrapTruncated(int t, int n, int od)
    {
        var has = Env.HasFinalObservation;
        var final = Env.FinalObservations;
        int k = 0;
        for (int i = 0; i < n; i++)
        {
            if (!has[i] || !_truncated[i] || _terminated[i]) continue;
            final.Slice(i * od, od).CopyTo(_finalObs.AsSpan(k * od, od));
            _finalIndex[k++] = i;
        }
        if (k == 0) return;
        var v = _lastValues.AsSpan(0, k); // free until the rollout's end
        Policy.Values(_finalObs.AsSpan(0, k * od), k, v);
        var row = Buffer.Row(Buffer.TruncationValues, t);
        for (int j = 0; j < k; j++) row[_finalIndex[j]] = v[j];
    }

    protected override void PredictPolicy(ReadOnlySpan<float> observations, int batch, Span<float> actions, bool deterministic)
    {
        var outputs = Policy.ActorOutputs(observations, batch);
        if (deterministic) Policy.Head.Mode(outputs, actions);
        else Policy.Head.Sample(outputs, PredictRng, actions);
    }

    /// <summary>
    /// [action masks] Actions for raw observations [B × obsDim] under legal-action masks [B × n] (true = allowed): a
    /// masked action is never chosen. Deterministic takes the most probable allowed action. Observations are normalised
    /// with the model's frozen statistics when it was trained with observation normalisation (unless <paramref name="normalized"/>), as in Predict.
    /// </summary>
    public void Predict(ReadOnlySpan<float> observations, ReadOnlySpan<bool> actionMasks, Span<float> actions, bool deterministic = true, bool normalized = false)
    {
        int od = Env.ObservationSize, p = Policy.OutputSize;
        if (observations.Length == 0 || observations.Length % od != 0)
            throw new ArgumentException($"observations has {observations.Length} values; expected a multiple of the observation size {od}.", nameof(observations));
        int b = observations.Length / od;
        if (actionMasks.Length != b * p) throw new ArgumentException($"actionMasks has {actionMasks.Length} values; expected {b} × {p} = {b * p}.", nameof(actionMasks));
        if (actions.Length != b * Env.ActionSize) throw new ArgumentException($"actions has {actions.Length} values; expected {b * Env.ActionSize}.", nameof(actions));
        float[]? copy = null;
        if (!normalized && Env.Find<VecNormalizeObservation>() is { } norm)
        {
            copy = observations.ToArray();
            norm.Apply(copy);
        }
        var outputs = Policy.ActorOutputs(copy ?? observations, b);
        if (deterministic) Policy.Head.Mode(outputs, actions, actionMasks);
        else Policy.Head.Sample(outputs, PredictRng, actions, actionMasks);
        ToEnvActions(actions, actions);
    }

    protected override void SaveState(ModelStateWriter writer)
    {
        writer.AddParameters("policy", Policy.Parameters);
        if (_adam is not null) writer.AddAdam("optimizer", _adam);
        League?.Save(writer); // [self-play]
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        reader.RestoreParameters("policy", Policy.Parameters);
        if (_adam is not null) reader.RestoreAdam("optimizer", _adam);
        League?.Restore(reader); // [self-play]
    }
}
