using System.Diagnostics;
using System.Text.Json.Nodes;
using Proximal.Algorithms.Policies;
using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Envs.Wrappers;
using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Spaces;
using Proximal.Training.Callbacks;
using Proximal.Training.Config;
using Proximal.Training.Persistence;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// Proximal Policy Optimization (Schulman et al., 2017), "PPO, actor-critic style": N actors each run
/// the policy for T steps, advantages come from GAE(γ, λ), then K epochs of minibatch Adam optimise the
/// surrogate — clipped, adaptive-KL, fixed-KL, or the unclipped baseline (<see cref="SurrogateKind"/>).
/// The implementation details that make published results reproducible (docs/ppo-details.md) are
/// marked below with their checklist number, e.g. [5].
/// <para>Usage: <c>using var ppo = Ppo.Create("CartPole-v1", options); ppo.Learn(100_000); ppo.Save("m.zip");</c></para>
/// </summary>
public sealed class Ppo : IAgent, IDisposable
{
    public const string AlgorithmName = "ppo";

    private readonly VecEnv _env;
    private readonly bool _ownsEnv;
    private readonly ActorCritic _policy;
    private readonly Adam _adam;
    private readonly Rng _rng;          // action sampling and minibatch shuffling
    private readonly Rng _predictRng;   // stochastic Predict, kept apart so evaluation never perturbs training
    private readonly RolloutBuffer _buffer;
    private readonly float[] _oldOutputs; // actor outputs at collection time, for the KL surrogates [T×N×P]

    // The current observation of each env; carried over between rollouts [1].
    private readonly float[] _obs, _envActions, _rewards;
    private readonly bool[] _terminated, _truncated;
    private readonly float[] _finalObs, _lastValues;
    private readonly int[] _finalIndex;
    private bool _started;

    // Minibatch workspaces, allocated once.
    private readonly int[] _indices;
    private readonly float[] _mbObs, _mbActions, _mbOldLogProb, _mbOldValues, _mbAdvantages, _mbReturns, _mbOldOutputs;
    private readonly float[] _newLogProb, _entropy, _kl, _gradLogProb, _gradEntropy, _gradKl, _gradOutputs, _gradValues;

    private readonly Box? _actionBox;
    private readonly int _discreteStart;
    private readonly EpisodeWindow _episodes = new(100);
    private readonly Dictionary<string, double> _metrics = new(StringComparer.Ordinal);

    private Ppo(VecEnv env, PpoOptions options, string? envId, bool ownsEnv)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options.Clone();
        EnvId = envId;
        _env = env;
        _ownsEnv = ownsEnv;
        if (env.NumEnvs != Options.NEnvs)
            throw new ArgumentException($"The env has {env.NumEnvs} copies but n_envs is {Options.NEnvs}; build the VecEnv with n_envs copies.", nameof(env));

        var root = new Rng((ulong)Options.Seed);
        _policy = new ActorCritic(env.SingleObservationSpace, env.SingleActionSpace, Options.Policy, root.Split()); // [2]
        _policy.Threads = Options.TrainThreads;
        _rng = root.Split();
        _predictRng = root.Split();
        _adam = new Adam(_policy.Parameters, Options.LearningRate, epsilon: Options.AdamEpsilon); // [3]
        KlBeta = Options.KlBeta;

        int n = Options.NEnvs, t = Options.NSteps, od = env.ObservationSize, ad = env.ActionSize, p = _policy.OutputSize;
        if (ad != _policy.ActionSize) throw new InvalidOperationException($"Action size mismatch: env {ad}, policy {_policy.ActionSize}.");
        _actionBox = env.SingleActionSpace as Box;
        _discreteStart = env.SingleActionSpace is Discrete d ? d.Start : 0;
        _buffer = new RolloutBuffer(t, n, od, ad);
        _oldOutputs = UsesKl ? new float[t * n * p] : [];
        _obs = new float[n * od];
        _envActions = new float[n * ad];
        _rewards = new float[n];
        _terminated = new bool[n];
        _truncated = new bool[n];
        _finalObs = new float[n * od];
        _finalIndex = new int[n];
        _lastValues = new float[n];

        int m = Options.MinibatchSize;
        _indices = new int[n * t];
        _mbObs = new float[m * od];
        _mbActions = new float[m * ad];
        _mbOldLogProb = new float[m];
        _mbOldValues = new float[m];
        _mbAdvantages = new float[m];
        _mbReturns = new float[m];
        _mbOldOutputs = new float[m * p];
        _newLogProb = new float[m];
        _entropy = new float[m];
        _kl = new float[m];
        _gradLogProb = new float[m];
        _gradEntropy = new float[m];
        _gradKl = new float[m];
        _gradOutputs = new float[m * p];
        _gradValues = new float[m];
    }

    /// <summary>PPO on an environment you built (the caller keeps ownership of <paramref name="env"/>).</summary>
    public Ppo(VecEnv env, PpoOptions? options = null) : this(env, options ?? new PpoOptions(), envId: null, ownsEnv: false) { }

    /// <summary>PPO on a registered environment id, built with the options' n_envs, normalisation and threading.</summary>
    public static Ppo Create(string envId, PpoOptions? options = null)
    {
        options ??= new PpoOptions();
        options.Validate();
        var env = BuildEnv(envId, options);
        try { return new Ppo(env, options, envId, ownsEnv: true); }
        catch { env.Dispose(); throw; }
    }

    /// <summary>
    /// The VecEnv a PPO run on <paramref name="envId"/> uses: n_envs copies (threaded if asked), episode
    /// statistics of raw rewards, then observation and reward normalisation when enabled [16, 17].
    /// With <paramref name="forEvaluation"/>, reward normalisation is left out and observation statistics are frozen.
    /// </summary>
    public static VecEnv BuildEnv(string envId, PpoOptions options, bool forEvaluation = false, int? numEnvs = null)
    {
        var b = VecEnvBuilder.ForId(envId, numEnvs ?? options.NEnvs);
        if (options.VecEnv == VecEnvKind.Threaded) b.Threads(options.EnvThreads == 0 ? Environment.ProcessorCount : options.EnvThreads);
        if (options.NormalizeObservation) b.NormalizeObservations();
        if (options.NormalizeReward && !forEvaluation) b.NormalizeRewards(options.Gamma);
        var env = b.Build();
        if (forEvaluation) env.SetNormalizersFrozen(true);
        return env;
    }

    public string Algorithm => AlgorithmName;
    public PpoOptions Options { get; }
    /// <summary>Registered id of the environment, when it was built from one (stored in the model file).</summary>
    public string? EnvId { get; }
    public VecEnv Env => _env;
    public ActorCritic Policy => _policy;
    public Space ObservationSpace => _env.SingleObservationSpace;
    public Space ActionSpace => _env.SingleActionSpace;
    public long NumTimesteps { get; private set; }
    public long Iterations { get; private set; }
    /// <summary>β of the KL-penalty surrogates (adapted after each update for <see cref="SurrogateKind.AdaptiveKl"/>).</summary>
    public double KlBeta { get; private set; }
    /// <summary>Metrics of the latest update (same keys as progress.csv).</summary>
    public IReadOnlyDictionary<string, double> Metrics => _metrics;
    /// <summary>Seconds spent stepping environments, in policy inference during rollouts, and in updates.</summary>
    public (double Env, double Inference, double Train) Timing => (_envTicks / (double)Stopwatch.Frequency, _inferTicks / (double)Stopwatch.Frequency, _trainTicks / (double)Stopwatch.Frequency);

    /// <summary>Surrogate statistics of the first minibatch of the latest update (ratio is exactly 1 there).</summary>
    internal PolicyLossStats FirstMinibatchStats { get; private set; }

    private bool UsesKl => Options.Surrogate is SurrogateKind.AdaptiveKl or SurrogateKind.FixedKl;
    private long _envTicks, _inferTicks, _trainTicks;

    /// <summary>
    /// Trains for <paramref name="steps"/> more environment steps (rounded up to whole rollouts of N·T).
    /// Learning-rate and ε annealing follow the run's planned total_steps, so Learn may be called repeatedly
    /// (or after Load) and continues the same schedule. Callbacks may end training early; so may the token,
    /// after the update in progress.
    /// </summary>
    public void Learn(long steps, IReadOnlyList<TrainingCallback>? callbacks = null, CancellationToken cancellation = default)
    {
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Learn needs a positive number of steps.");
        callbacks ??= [];
        if (!_started)
        {
            _env.Reset(_obs, (ulong)Options.Seed);
            _started = true;
        }
        long target = NumTimesteps + steps;
        foreach (var c in callbacks) c.OnTrainingStart(this);
        long startSteps = NumTimesteps;
        var clock = Stopwatch.StartNew();
        while (NumTimesteps < target && !cancellation.IsCancellationRequested)
        {
            double progress = Math.Clamp((double)NumTimesteps / Options.TotalSteps, 0, 1);
            double lr = Options.AnnealLr ? Options.LearningRate * (1 - progress) : Options.LearningRate;           // [4]
            double clip = Options.AnnealClipRange ? Options.ClipRange * (1 - progress) : Options.ClipRange;

            long t0 = Stopwatch.GetTimestamp();
            CollectRollout();
            long t1 = Stopwatch.GetTimestamp();
            Update(lr, clip);
            _trainTicks += Stopwatch.GetTimestamp() - t1;
            Iterations++;

            _metrics["time/iteration"] = Iterations;
            _metrics["time/sps"] = (NumTimesteps - startSteps) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            _metrics["time/rollout_seconds"] = (t1 - t0) / (double)Stopwatch.Frequency;
            _metrics["rollout/episode_return_mean"] = _episodes.MeanReturn;
            _metrics["rollout/episode_length_mean"] = _episodes.MeanLength;
            _metrics["rollout/episodes"] = _episodes.Total;
            bool go = true;
            foreach (var c in callbacks) go &= c.OnIterationEnd(this, _metrics);
            if (!go) break;
        }
        foreach (var c in callbacks) c.OnTrainingEnd(this);
    }

    // ---------------------------------------------------------------- rollout

    private void CollectRollout()
    {
        int n = Options.NEnvs, od = _env.ObservationSize, p = _policy.OutputSize;
        var head = _policy.Head;
        _buffer.BeginRollout();
        for (int t = 0; t < Options.NSteps; t++)
        {
            long a0 = Stopwatch.GetTimestamp();
            _obs.CopyTo(_buffer.ObservationRow(t));
            var outputs = _policy.Forward(_obs, n, out var values);
            var actions = _buffer.ActionRow(t);
            head.Sample(outputs, _rng, actions);
            head.LogProb(outputs, actions, _buffer.Row(_buffer.LogProbs, t));
            values.CopyTo(_buffer.Row(_buffer.Values, t));
            if (UsesKl) outputs.CopyTo(_oldOutputs.AsSpan(t * n * p, n * p));
            ToEnvActions(actions, _envActions); // [15] clip only what the env sees
            long a1 = Stopwatch.GetTimestamp();

            _env.Step(_envActions, _obs, _rewards, _terminated, _truncated);
            long a2 = Stopwatch.GetTimestamp();

            _rewards.CopyTo(_buffer.Row(_buffer.Rewards, t));
            _terminated.CopyTo(_buffer.Row(_buffer.Terminated, t));
            _truncated.CopyTo(_buffer.Row(_buffer.Truncated, t));
            if (Options.BootstrapTruncation) BootstrapTruncated(t, n, od); // [5] V(final observation) for time-limit truncations
            NumTimesteps += n;
            var log = _env.Episodes;
            if (log is not null) while (log.TryDequeue(out var e)) _episodes.Add(e.Return, e.Length);
            _inferTicks += a1 - a0 + (Stopwatch.GetTimestamp() - a2);
            _envTicks += a2 - a1;
        }
        long b0 = Stopwatch.GetTimestamp();
        _policy.Values(_obs, n).CopyTo(_lastValues);
        _buffer.ComputeAdvantages(Options.Gamma, Options.GaeLambda, _lastValues);
        _inferTicks += Stopwatch.GetTimestamp() - b0;
    }

    private void BootstrapTruncated(int t, int n, int od)
    {
        var has = _env.HasFinalObservation;
        var final = _env.FinalObservations;
        int k = 0;
        for (int i = 0; i < n; i++)
        {
            if (!has[i] || !_truncated[i] || _terminated[i]) continue;
            final.Slice(i * od, od).CopyTo(_finalObs.AsSpan(k * od, od));
            _finalIndex[k++] = i;
        }
        if (k == 0) return;
        var v = _policy.Values(_finalObs.AsSpan(0, k * od), k);
        var row = _buffer.Row(_buffer.TruncationValues, t);
        for (int j = 0; j < k; j++) row[_finalIndex[j]] = v[j];
    }

    /// <summary>Policy actions → env actions: Box actions clipped to the bounds, Discrete indices shifted by the space's start.</summary>
    private void ToEnvActions(ReadOnlySpan<float> actions, Span<float> envActions)
    {
        if (_actionBox is { } box)
        {
            var lo = box.Low; var hi = box.High;
            int d = lo.Length;
            for (int i = 0; i < actions.Length; i++) envActions[i] = Math.Clamp(actions[i], lo[i % d], hi[i % d]);
        }
        else if (_discreteStart != 0)
        {
            for (int i = 0; i < actions.Length; i++) envActions[i] = actions[i] + _discreteStart;
        }
        else actions.CopyTo(envActions);
    }

    // ---------------------------------------------------------------- update

    private void Update(double lr, double clip)
    {
        int batch = _buffer.Count, m = Options.MinibatchSize, p = _policy.OutputSize;
        var head = _policy.Head;
        var parameters = _policy.Parameters;
        head.SnapshotOld(); // parameters have not moved since the rollout: this is π_old's log-std
        for (int i = 0; i < batch; i++) _indices[i] = i;

        double sumPolicy = 0, sumValue = 0, sumEntropy = 0, sumKl1 = 0, sumKl2 = 0, sumClip = 0, sumKlAnalytic = 0, sumNorm = 0;
        int updates = 0, epochsRun = 0;
        bool stop = false;
        for (int epoch = 0; epoch < Options.NEpochs && !stop; epoch++)
        {
            _rng.Shuffle(_indices.AsSpan()); // [6] shuffle the whole batch, cut into minibatches
            double epochKl = 0;
            int epochUpdates = 0;
            for (int start = 0; start < batch; start += m)
            {
                var idx = _indices.AsSpan(start, m);
                _buffer.Gather(idx, _mbObs, _mbActions, _mbOldLogProb, _mbOldValues, _mbAdvantages, _mbReturns);
                if (UsesKl)
                    for (int j = 0; j < m; j++) _oldOutputs.AsSpan(idx[j] * p, p).CopyTo(_mbOldOutputs.AsSpan(j * p, p));
                if (Options.NormalizeAdvantage) Surrogate.NormalizeAdvantages(_mbAdvantages); // [7]

                parameters.ZeroGradients();
                var outputs = _policy.Forward(_mbObs, m, out var values);
                head.LogProb(outputs, _mbActions, _newLogProb);

                // [8] surrogate and its gradient w.r.t. each new log-probability
                var stats = Surrogate.PolicyLoss(Options.Surrogate, clip, _newLogProb, _mbOldLogProb, _mbAdvantages, _gradLogProb);
                Array.Clear(_gradOutputs);
                head.LogProbBackward(outputs, _mbActions, _gradLogProb, _gradOutputs);

                // [10] entropy bonus: loss −= c2·mean(H)
                head.Entropy(outputs, _entropy);
                double entropy = Mean(_entropy);
                if (Options.EntCoef > 0)
                {
                    Array.Fill(_gradEntropy, (float)(-Options.EntCoef / m));
                    head.EntropyBackward(outputs, _gradEntropy, _gradOutputs);
                }

                // [21] KL penalty: loss += β·mean(KL(π_old‖π)), analytic per state
                double klAnalytic = 0;
                if (UsesKl)
                {
                    head.Kl(_mbOldOutputs, outputs, _kl);
                    klAnalytic = Mean(_kl);
                    Array.Fill(_gradKl, (float)(KlBeta / m));
                    head.KlBackward(_mbOldOutputs, outputs, _gradKl, _gradOutputs);
                }

                // [9] value loss (optionally clipped), weighted by c1
                double valueLoss = Surrogate.ValueLoss(values, _mbOldValues, _mbReturns, Options.ClipRangeVf, _gradValues);
                if (Options.VfCoef != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(_gradValues, (float)Options.VfCoef, _gradValues);

                _policy.Backward(_gradOutputs, _gradValues);
                double norm = Options.MaxGradNorm is { } maxNorm ? parameters.ClipGradientNorm(maxNorm) : parameters.GradientNorm(); // [11]
                if (!double.IsFinite(norm))
                    throw new InvalidOperationException($"PPO update diverged: the gradient norm is {norm} at step {NumTimesteps} (epoch {epoch}). Lower learning_rate or enable max_grad_norm / normalisation.");
                _adam.Step(lr);

                if (updates == 0) FirstMinibatchStats = stats;
                sumPolicy += stats.Loss; sumValue += valueLoss; sumEntropy += entropy;
                sumKl1 += stats.ApproxKlNaive; sumKl2 += stats.ApproxKl; sumClip += stats.ClipFraction;
                sumKlAnalytic += klAnalytic; sumNorm += norm;
                epochKl += stats.ApproxKl;
                updates++; epochUpdates++;
            }
            epochsRun++;
            if (Options.TargetKl is { } targetKl && epochKl / epochUpdates > targetKl) stop = true; // early stop on approx-KL
        }

        // [22] adaptive β from the mean KL of the whole batch after the update
        double klAfter = double.NaN;
        if (UsesKl)
        {
            klAfter = BatchKl();
            if (Options.Surrogate == SurrogateKind.AdaptiveKl) KlBeta = Surrogate.AdaptBeta(KlBeta, klAfter, Options.KlTarget);
        }

        // [12] diagnostics
        double inv = 1.0 / updates;
        _metrics["train/policy_loss"] = sumPolicy * inv;
        _metrics["train/value_loss"] = sumValue * inv;
        _metrics["train/entropy"] = sumEntropy * inv;
        _metrics["train/approx_kl_naive"] = sumKl1 * inv;
        _metrics["train/approx_kl"] = sumKl2 * inv;
        _metrics["train/clip_fraction"] = sumClip * inv;
        _metrics["train/grad_norm"] = sumNorm * inv;
        _metrics["train/explained_variance"] = Surrogate.ExplainedVariance(_buffer.Values, _buffer.Returns);
        _metrics["train/learning_rate"] = lr;
        _metrics["train/clip_range"] = clip;
        _metrics["train/epochs"] = epochsRun;
        if (UsesKl)
        {
            _metrics["train/kl_mean"] = sumKlAnalytic * inv;
            _metrics["train/kl_after_update"] = klAfter;
            _metrics["train/kl_beta"] = KlBeta;
        }
        if (_policy.LogStd.Length > 0) _metrics["train/std"] = Math.Exp(Mean(_policy.LogStd));
    }

    /// <summary>Mean analytic KL(π_old‖π) over the whole rollout, in minibatch-sized chunks.</summary>
    private double BatchKl()
    {
        int batch = _buffer.Count, m = Options.MinibatchSize, od = _env.ObservationSize, p = _policy.OutputSize;
        double sum = 0;
        for (int start = 0; start < batch; start += m)
        {
            int rows = Math.Min(m, batch - start);
            var outputs = _policy.ActorOutputs(_buffer.Observations.AsSpan(start * od, rows * od), rows);
            var kl = _kl.AsSpan(0, rows);
            _policy.Head.Kl(_oldOutputs.AsSpan(start * p, rows * p), outputs, kl);
            foreach (float v in kl) sum += v;
        }
        return sum / batch;
    }

    private static double Mean(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (float x in v) s += x;
        return v.Length == 0 ? double.NaN : s / v.Length;
    }

    private static double Mean(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (double x in v) s += x;
        return v.Length == 0 ? double.NaN : s / v.Length;
    }

    // ---------------------------------------------------------------- inference

    public void Predict(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic = true)
    {
        int od = _policy.ObservationSize, ad = _policy.ActionSize;
        if (observations.Length == 0 || observations.Length % od != 0)
            throw new ArgumentException($"observations has {observations.Length} values; expected a multiple of the observation size {od}.", nameof(observations));
        int b = observations.Length / od;
        if (actions.Length != b * ad)
            throw new ArgumentException($"actions has {actions.Length} values; expected {b} × {ad} = {b * ad}.", nameof(actions));
        for (int i = 0; i < observations.Length; i++)
            if (!float.IsFinite(observations[i]))
                throw new ArgumentException($"observation row {i / od}, element {i % od} is {observations[i]}; observations must be finite.", nameof(observations));
        var outputs = _policy.ActorOutputs(observations, b);
        if (deterministic) _policy.Head.Mode(outputs, actions);
        else _policy.Head.Sample(outputs, _predictRng, actions);
        ToEnvActions(actions, actions);
    }

    /// <summary>The action for one observation (allocates; for convenience outside hot loops).</summary>
    public float[] Predict(float[] observation, bool deterministic = true)
    {
        var a = new float[_policy.ActionSize];
        Predict(observation, a, deterministic);
        return a;
    }

    // ---------------------------------------------------------------- save / load

    /// <summary>
    /// Writes one zip: metadata (algorithm, format, spaces, options, library version, counters), parameters,
    /// Adam state, generator state, normalisation statistics and — when every env supports it — a full
    /// environment snapshot, so <see cref="Load"/> + <see cref="Learn"/> continue bit-identically.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var meta = new JsonObject
        {
            ["algorithm"] = AlgorithmName,
            ["library_version"] = typeof(Ppo).Assembly.GetName().Version?.ToString(),
            ["env_id"] = EnvId,
            ["observation_space"] = SpaceCodec.ToJson(ObservationSpace),
            ["action_space"] = SpaceCodec.ToJson(ActionSpace),
            ["options_yaml"] = ConfigWriter.ToYaml(Options),
            ["num_timesteps"] = NumTimesteps,
            ["iterations"] = Iterations,
            ["kl_beta"] = KlBeta,
            ["started"] = _started,
        };
        var arrays = new List<ModelArray>
        {
            new("policy/parameters", _policy.Parameters.Values.AsMemory()),
            new("optimizer/adam_m", _adam.FirstMoment.AsMemory()),
            new("optimizer/adam_v", _adam.SecondMoment.AsMemory()),
            new("optimizer/adam_step", new long[] { _adam.StepCount }.AsMemory()),
            new("rng/train", _rng.GetState().AsMemory()),
            new("rng/predict", _predictRng.GetState().AsMemory()),
            new("episodes/returns", _episodes.Returns.AsMemory()),
            new("episodes/lengths", _episodes.Lengths.AsMemory()),
            new("episodes/total", new long[] { _episodes.Total }.AsMemory()),
        };
        foreach (var (k, v) in WrapperStates.Get(_env)) arrays.Add(new ModelArray("normalization/" + k, v.AsMemory()));
        var snapshot = new Dictionary<string, double[]>(StringComparer.Ordinal);
        if (_started && _env.TrySaveSnapshot(snapshot))
        {
            meta["env_snapshot"] = true;
            arrays.Add(new ModelArray("snapshot/observations", ((float[])_obs.Clone()).AsMemory()));
            foreach (var (k, v) in snapshot) arrays.Add(new ModelArray("snapshot/env/" + k, v.AsMemory()));
        }
        ModelArchive.Save(path, meta, arrays);
    }

    /// <summary>
    /// Loads a model saved by <see cref="Save"/>. Without <paramref name="env"/>, the env is rebuilt from the
    /// stored id and options. With one, its spaces must match the stored ones. The file is validated field by
    /// field; nothing in it is executed.
    /// </summary>
    public static Ppo Load(string path, VecEnv? env = null)
    {
        var model = ModelArchive.Load(path);
        string Where(string field) => $"model file {path}: {field}";
        var meta = model.Metadata;
        string algorithm = meta["algorithm"]?.GetValue<string>() ?? throw new ModelFileException(path, Where("metadata has no 'algorithm'"));
        if (algorithm != AlgorithmName) throw new ModelFileException(path, Where($"holds a '{algorithm}' model, not '{AlgorithmName}'"));
        string yaml = meta["options_yaml"]?.GetValue<string>() ?? throw new ModelFileException(path, Where("metadata has no 'options_yaml'"));
        PpoOptions options;
        try { options = ConfigBinder.Parse<PpoOptions>(yaml, $"{path}:options"); options.Validate(); }
        catch (ConfigException e) { throw new ModelFileException(path, Where($"stored options are invalid: {e.Message}")); }
        string? envId = meta["env_id"]?.GetValue<string>();
        bool owns = false;
        if (env is null)
        {
            if (envId is null) throw new ArgumentException($"{Where("was trained on an environment without a registered id")}; pass the env to Ppo.Load(path, env).", nameof(env));
            env = BuildEnv(envId, options);
            owns = true;
        }
        else if (env.NumEnvs != options.NEnvs)
        {
            options.NEnvs = env.NumEnvs; // evaluation or continued training with another number of copies
            if ((long)options.NEnvs * options.NSteps % options.MinibatchSize != 0) options.MinibatchSize = options.NEnvs * options.NSteps;
        }
        try
        {
            CheckSpace(path, "observation_space", meta["observation_space"], env.SingleObservationSpace);
            CheckSpace(path, "action_space", meta["action_space"], env.SingleActionSpace);
            var ppo = new Ppo(env, options, envId, owns);
            ppo.Restore(model, path);
            return ppo;
        }
        catch
        {
            if (owns) env.Dispose();
            throw;
        }
    }

    private void Restore(LoadedModel model, string path)
    {
        var meta = model.Metadata;
        int count = _policy.Parameters.Count;
        model.GetFloat32("policy/parameters", count).Span.CopyTo(_policy.Parameters.Values);
        _adam.LoadState(model.GetFloat32("optimizer/adam_m", count).Span, model.GetFloat32("optimizer/adam_v", count).Span,
            model.GetInt64("optimizer/adam_step", 1).Span[0]);
        _rng.SetState(model.GetUInt64("rng/train", Rng.StateLength).Span);
        _predictRng.SetState(model.GetUInt64("rng/predict", Rng.StateLength).Span);
        _episodes.Load(model.GetFloat64("episodes/returns").Span, model.GetFloat64("episodes/lengths").Span, model.GetInt64("episodes/total", 1).Span[0]);
        NumTimesteps = meta["num_timesteps"]?.GetValue<long>() ?? throw new ModelFileException(path, $"model file {path}: metadata has no 'num_timesteps'");
        Iterations = meta["iterations"]?.GetValue<long>() ?? 0;
        KlBeta = meta["kl_beta"]?.GetValue<double>() ?? Options.KlBeta;

        var normalization = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var snapshot = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var a in model.Arrays)
        {
            if (a.Name.StartsWith("normalization/", StringComparison.Ordinal)) normalization[a.Name["normalization/".Length..]] = a.Float64.ToArray();
            else if (a.Name.StartsWith("snapshot/env/", StringComparison.Ordinal)) snapshot[a.Name["snapshot/env/".Length..]] = a.Float64.ToArray();
        }
        try
        {
            if (normalization.Count > 0) WrapperStates.Set(_env, normalization);
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(path, $"model file {path}: its normalisation statistics do not fit this env ({e.Message}). Build the env with the same normalize_observation / normalize_reward options.");
        }
        bool hasSnapshot = meta["env_snapshot"]?.GetValue<bool>() ?? false;
        if (hasSnapshot && _env.NumEnvs == Options.NEnvs)
        {
            try
            {
                _env.LoadSnapshot(snapshot);
                model.GetFloat32("snapshot/observations", _obs.Length).Span.CopyTo(_obs);
                _started = true;
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException)
            {
                // A different env chain than at save time: continue from a fresh reset instead of a wrong state.
                _started = false;
            }
        }
    }

    private static void CheckSpace(string path, string field, JsonNode? stored, Space actual)
    {
        if (stored is null) throw new ModelFileException(path, $"model file {path}: metadata has no '{field}'");
        string want = stored.ToJsonString(), have = SpaceCodec.ToJson(actual).ToJsonString();
        if (want != have) throw new ArgumentException($"model file {path}: the model's {field.Replace('_', ' ')} is {want} but the env's is {have}.");
    }

    public void Dispose()
    {
        if (_ownsEnv) _env.Dispose();
    }

    /// <summary>Rolling window of the last finished training episodes (SB3's ep_rew_mean over 100).</summary>
    private sealed class EpisodeWindow(int capacity)
    {
        private readonly double[] _returns = new double[capacity];
        private readonly double[] _lengths = new double[capacity];
        private int _count, _next;
        public long Total { get; private set; }

        public void Add(double ret, int length)
        {
            _returns[_next] = ret; _lengths[_next] = length;
            _next = (_next + 1) % capacity;
            _count = Math.Min(_count + 1, capacity);
            Total++;
        }

        public double MeanReturn => _count == 0 ? double.NaN : Ppo.Mean(_returns.AsSpan(0, _count));
        public double MeanLength => _count == 0 ? double.NaN : Ppo.Mean(_lengths.AsSpan(0, _count));

        // Oldest first, so Load replays them in order.
        public double[] Returns => Ordered(_returns);
        public double[] Lengths => Ordered(_lengths);
        private double[] Ordered(double[] ring)
        {
            var r = new double[_count];
            int first = _count < capacity ? 0 : _next;
            for (int i = 0; i < _count; i++) r[i] = ring[(first + i) % capacity];
            return r;
        }

        public void Load(ReadOnlySpan<double> returns, ReadOnlySpan<double> lengths, long total)
        {
            if (returns.Length != lengths.Length || returns.Length > capacity) throw new ArgumentException("episode window arrays are inconsistent");
            _count = 0; _next = 0;
            for (int i = 0; i < returns.Length; i++) Add(returns[i], (int)lengths[i]);
            Total = total;
        }
    }
}
