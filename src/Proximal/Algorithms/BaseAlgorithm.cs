using System.Diagnostics;
using System.Text.Json.Nodes;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Common.Persistence;
using Proximal.Envs.Registry;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Algorithms;

/// <summary>
/// What every algorithm shares (SB3's BaseAlgorithm): the environments and their construction, the learn loop
/// with callbacks, cancellation, schedules, metrics and timing, the window of recent episodes, <see cref="Predict"/>
/// with observation normalisation and env-action post-processing, and the model file (save, load, resume).
/// A family adds its loop shape (<c>OnPolicyAlgorithm</c>: collect N×T then update; <c>OffPolicyAlgorithm</c>:
/// step, store, update every k steps) and each algorithm its update, read top to bottom in its own file.
/// </summary>
public abstract class BaseAlgorithm : IAgent, IDisposable
{
    private readonly VecEnv _env;
    private readonly bool _ownsEnv;
    private readonly Box? _actionBox;
    private readonly int _discreteStart;
    private readonly EpisodeWindow _episodes = new(100);
    private readonly Dictionary<string, double> _metrics = new(StringComparer.Ordinal);
    private float[] _predictObs = [];
    private long _envTicks, _inferTicks, _trainTicks;

    /// <summary>The current observation of each env [N × obsDim], carried over between iterations (and saved).</summary>
    protected readonly float[] CurrentObservations;
    /// <summary>Generator of training: action sampling, minibatch shuffling, replay sampling.</summary>
    protected readonly Rng TrainRng;
    /// <summary>Generator of stochastic <see cref="Predict"/> calls, apart so evaluation never perturbs training.</summary>
    protected readonly Rng PredictRng;
    /// <summary>Generator the algorithm's networks are initialised from (split before the two above).</summary>
    protected readonly Rng InitRng;

    /// <param name="env">Its copies must match the options' n_envs.</param>
    /// <param name="envId">The registered id the env was built from (stored in the model file), or null.</param>
    /// <param name="ownsEnv">Dispose <paramref name="env"/> with the algorithm.</param>
    protected BaseAlgorithm(VecEnv env, AlgorithmOptions options, string? envId, bool ownsEnv)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (env.NumEnvs != options.NEnvs)
            throw new ArgumentException($"The env has {env.NumEnvs} copies but n_envs is {options.NEnvs}; build the VecEnv with n_envs copies.", nameof(env));
        BaseOptions = options;
        EnvId = envId;
        _env = env;
        _ownsEnv = ownsEnv;
        _actionBox = env.SingleActionSpace as Box;
        _discreteStart = env.SingleActionSpace is Discrete d ? d.Start : 0;
        CurrentObservations = new float[env.NumEnvs * env.ObservationSize];
        // The order of these splits is part of the file format's bit-exact resume: keep it.
        var root = new Rng((ulong)options.Seed);
        InitRng = root.Split();
        TrainRng = root.Split();
        PredictRng = root.Split();
    }

    /// <summary>Registry name, e.g. "ppo" (stored in every model file).</summary>
    public abstract string Algorithm { get; }
    /// <summary>The options as their common base; each algorithm also exposes its own typed <c>Options</c>.</summary>
    public AlgorithmOptions BaseOptions { get; }
    /// <summary>Registered id of the environment, when it was built from one (stored in the model file).</summary>
    public string? EnvId { get; }
    public VecEnv Env => _env;
    public Space ObservationSpace => _env.SingleObservationSpace;
    public Space ActionSpace => _env.SingleActionSpace;
    public long NumTimesteps { get; protected set; }
    public long Iterations { get; private set; }
    /// <summary>The data-parallel context of a distributed run (null: a single process). See <see cref="UseDataParallel"/>.</summary>
    public IDataParallel? DataParallel { get; private set; }
    /// <summary>The schedule of the current (or last) training call.</summary>
    public Schedule Schedule { get; private set; }
    /// <summary>True once the envs have been reset (their state then belongs to this run and is saved with it).</summary>
    protected bool Started { get; private set; }
    /// <summary>Metrics of the latest iteration (same keys as progress.csv).</summary>
    public IReadOnlyDictionary<string, double> Metrics => _metrics;
    /// <summary>Seconds spent stepping environments, in policy inference while acting, and in updates.</summary>
    public (double Env, double Inference, double Train) Timing =>
        (_envTicks / (double)Stopwatch.Frequency, _inferTicks / (double)Stopwatch.Frequency, _trainTicks / (double)Stopwatch.Frequency);
    protected EpisodeWindow Episodes => _episodes;
    /// <summary>Writable metrics of the iteration in progress.</summary>
    protected IDictionary<string, double> IterationMetrics => _metrics;

    // ---------------------------------------------------------------- the learn loop

    /// <summary>
    /// Trains for <paramref name="steps"/> more environment steps (rounded up to whole iterations). Linear schedules
    /// (anneal_lr, …) span this call's steps by default (<see cref="ScheduleMode.New"/>), as SB3 and CleanRL do;
    /// <see cref="ScheduleMode.Continue"/> continues the schedule of the previous call or loaded model, which is how an
    /// interrupted run resumes bit-exactly. Callbacks may end training early; so may the token, after the iteration in progress.
    /// </summary>
    public void Learn(long steps, IReadOnlyList<TrainingCallback>? callbacks = null, CancellationToken cancellation = default,
        ScheduleMode schedule = ScheduleMode.New)
    {
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Learn needs a positive number of steps.");
        callbacks ??= [];
        if (!Started)
        {
            _env.Reset(CurrentObservations, EnvSeed()); // [distributed] distinct per rank
            Started = true;
        }
        Schedule = Schedule.For(schedule, NumTimesteps, steps);
        long target = NumTimesteps + steps;
        foreach (var c in callbacks) c.OnTrainingStart(this);
        long startSteps = NumTimesteps;
        var clock = Stopwatch.StartNew();
        while (NumTimesteps < target && !cancellation.IsCancellationRequested)
        {
            double fraction = Schedule.FractionAt(NumTimesteps);
            long t0 = Stopwatch.GetTimestamp();
            _lastTrainSeconds = 0; // an iteration without an update (off-policy warm-up) must not subtract the previous one's
            RunIteration(fraction);
            if (DataParallel is { } dp) ShareAcrossRanks(dp); // [distributed] statistics and episodes of every rank
            _metrics["time/rollout_seconds"] = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency - _lastTrainSeconds;
            Iterations++;
            _metrics["time/iteration"] = Iterations;
            _metrics["time/sps"] = (NumTimesteps - startSteps) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            _metrics["rollout/episode_return_mean"] = _episodes.MeanReturn;
            _metrics["rollout/episode_length_mean"] = _episodes.MeanLength;
            _metrics["rollout/episodes"] = _episodes.Total;
            bool go = true;
            foreach (var c in callbacks) go &= c.OnIterationEnd(this, _metrics);
            if (DataParallel is { } p) go = p.AgreeToContinue(go && !cancellation.IsCancellationRequested); // [distributed] rank 0 decides
            if (!go) break;
        }
        foreach (var c in callbacks) c.OnTrainingEnd(this);
    }

    private double _lastTrainSeconds;

    // ---------------------------------------------------------------- data parallel (distributed training)

    private readonly List<double> _rankEpisodes = [], _otherRanksEpisodes = [];
    private ulong _resetSeedOffset;

    /// <summary>
    /// Makes this algorithm one rank of a data-parallel job (call on every rank, before <see cref="Learn"/>): rank 0's
    /// parameters are broadcast, each rank samples actions from its own generator and resets its envs with its own seeds
    /// (seed + rank × n_envs, so K ranks × N envs see the envs of one process with K·N), normalisation statistics are
    /// merged across ranks after every rollout, env steps count for all ranks, episodes are gathered to rank 0, and
    /// rank 0 decides when training stops. Envs restart from fresh episodes (a resumed run's env snapshot is one rank's).
    /// </summary>
    public void UseDataParallel(IDataParallel dataParallel)
    {
        ArgumentNullException.ThrowIfNull(dataParallel);
        if (DataParallel is not null) throw new InvalidOperationException("This algorithm already runs data-parallel.");
        if (!SupportsDataParallel)
            throw new NotSupportedException($"{Algorithm} does not support distributed (data-parallel) training; the on-policy algorithms do.");
        DataParallel = dataParallel;
        int rank = dataParallel.Rank;
        if (rank > 0)
        {
            // Rank 0 keeps the single-process stream; the others derive their own (their actions must not share noise).
            Span<ulong> state = stackalloc ulong[Rng.StateLength];
            TrainRng.GetState(state);
            TrainRng.Reseed(state[0] ^ state[1] ^ (0x9E3779B97F4A7C15UL * (ulong)rank));
        }
        // A resumed run restarts its envs at new seeds (not those its first iterations saw).
        _resetSeedOffset = (ulong)rank * (ulong)_env.NumEnvs + (NumTimesteps > 0 ? (ulong)NumTimesteps : 0);
        Started = false;
        _env.Find<VecNormalizeObservation>()?.Statistics.BeginSynchronizing();
        _env.Find<VecNormalizeReward>()?.Statistics.BeginSynchronizing();
        OnUseDataParallel(dataParallel);
    }

    /// <summary>
    /// True for algorithms whose update reduces its gradients across ranks (PPO, A2C, TRPO). Opt-in: an on-policy algorithm
    /// calls OnPolicyAlgorithm.ReduceGradients once per optimiser step (and reduces any other statistic its step uses)
    /// before it says true here.
    /// </summary>
    protected virtual bool SupportsDataParallel => false;

    /// <summary>Called once by <see cref="UseDataParallel"/>: broadcast the parameters, size the reductions.</summary>
    protected virtual void OnUseDataParallel(IDataParallel dataParallel) { }

    private ulong EnvSeed() => unchecked((ulong)BaseOptions.Seed + _resetSeedOffset);

    /// <summary>After each iteration: merge the normalisation statistics of all ranks, gather the episodes to rank 0.</summary>
    private void ShareAcrossRanks(IDataParallel dp)
    {
        _env.Find<VecNormalizeObservation>()?.Statistics.SynchronizeAcross(dp);
        _env.Find<VecNormalizeReward>()?.Statistics.SynchronizeAcross(dp);
        _otherRanksEpisodes.Clear();
        dp.GatherEpisodes(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_rankEpisodes), _otherRanksEpisodes);
        _rankEpisodes.Clear();
        for (int i = 0; i + 1 < _otherRanksEpisodes.Count; i += 2) _episodes.Add(_otherRanksEpisodes[i], (int)_otherRanksEpisodes[i + 1]);
        dp.AddMetrics(_metrics);
    }

    /// <summary>
    /// One iteration of the family's loop (a rollout and its update; or a batch of env steps and their updates).
    /// Must advance <see cref="NumTimesteps"/>. <paramref name="scheduleFraction"/> multiplies scheduled values.
    /// </summary>
    protected abstract void RunIteration(double scheduleFraction);

    /// <summary>Steps the envs with the current actions, timing it, and takes the finished episodes into the window.</summary>
    protected void StepEnvs(ReadOnlySpan<float> envActions, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        long a = Stopwatch.GetTimestamp();
        _env.Step(envActions, CurrentObservations, rewards, terminated, truncated);
        _envTicks += Stopwatch.GetTimestamp() - a;
        NumTimesteps += _env.NumEnvs * (DataParallel?.Size ?? 1); // [distributed] every rank steps as many envs: steps count globally
        var log = _env.Episodes;
        if (log is not null)
            while (log.TryDequeue(out var e))
            {
                _episodes.Add(e.Return, e.Length);
                if (DataParallel is not null) { _rankEpisodes.Add(e.Return); _rankEpisodes.Add(e.Length); }
            }
    }

    /// <summary>Adds time spent in inference while acting (the caller measures with <see cref="Stopwatch.GetTimestamp"/>).</summary>
    protected void AddInferenceTicks(long ticks) => _inferTicks += ticks;

    /// <summary>Runs an update, timing it as training time.</summary>
    protected void TimedUpdate(Action update)
    {
        long t = Stopwatch.GetTimestamp();
        update();
        long dt = Stopwatch.GetTimestamp() - t;
        _trainTicks += dt;
        _lastTrainSeconds = dt / (double)Stopwatch.Frequency;
    }

    // ---------------------------------------------------------------- acting

    /// <summary>Policy actions → env actions: Box actions clipped to the bounds, Discrete indices shifted by the space's start.</summary>
    protected void ToEnvActions(ReadOnlySpan<float> actions, Span<float> envActions)
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

    /// <summary>
    /// Actions for a batch of observations ([B × obsDim] → [B × actDim]), ready for the env (Box actions clipped,
    /// Discrete shifted by the space's start). Observations are raw, as the task produces them: when the model was
    /// trained with observation normalisation, its stored statistics are applied first (frozen). Pass
    /// <paramref name="normalized"/> = true for observations that are already normalised (e.g. from the training env).
    /// </summary>
    public void Predict(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic = true, bool normalized = false)
    {
        observations = PredictObservations(observations, actions, normalized, out int b);
        PredictPolicy(observations, b, actions, deterministic);
        ToEnvActions(actions, actions);
    }

    /// <summary>
    /// <see cref="Predict(ReadOnlySpan{float}, Span{float}, bool, bool)"/>'s checks and normalisation, for algorithms with their own
    /// predict overloads (recurrent policies): the observations as the policy sees them, and the batch size.
    /// </summary>
    protected ReadOnlySpan<float> PredictObservations(ReadOnlySpan<float> observations, Span<float> actions, bool normalized, out int batch)
    {
        int od = _env.ObservationSize, ad = _env.ActionSize;
        if (observations.Length == 0 || observations.Length % od != 0)
            throw new ArgumentException($"observations has {observations.Length} values; expected a multiple of the observation size {od}.", nameof(observations));
        int b = observations.Length / od;
        if (actions.Length != b * ad)
            throw new ArgumentException($"actions has {actions.Length} values; expected {b} × {ad} = {b * ad}.", nameof(actions));
        for (int i = 0; i < observations.Length; i++)
            if (!float.IsFinite(observations[i]))
                throw new ArgumentException($"observation row {i / od}, element {i % od} is {observations[i]}; observations must be finite.", nameof(observations));
        if (!normalized && _env.Find<VecNormalizeObservation>() is { } norm)
        {
            if (_predictObs.Length < observations.Length) _predictObs = new float[observations.Length];
            var copy = _predictObs.AsSpan(0, observations.Length);
            observations.CopyTo(copy);
            norm.Apply(copy);
            observations = copy;
        }
        batch = b;
        return observations;
    }

    /// <summary>The action for one raw observation (allocates; for convenience outside hot loops).</summary>
    public float[] Predict(float[] observation, bool deterministic = true, bool normalized = false)
    {
        var a = new float[_env.ActionSize];
        Predict(observation, a, deterministic, normalized);
        return a;
    }

    /// <summary>The policy's actions for <paramref name="batch"/> normalised observations, before env post-processing.</summary>
    protected abstract void PredictPolicy(ReadOnlySpan<float> observations, int batch, Span<float> actions, bool deterministic);

    // ---------------------------------------------------------------- environments

    /// <summary>
    /// The VecEnv a run on <paramref name="envId"/> uses: n_envs copies (threaded if asked), episode statistics of raw
    /// rewards, then observation and reward normalisation when enabled. With <paramref name="forEvaluation"/>, reward
    /// normalisation is left out and observation statistics are frozen.
    /// </summary>
    public static VecEnv BuildEnv(string envId, AlgorithmOptions options, bool forEvaluation = false, int? numEnvs = null)
    {
        var kwargs = options.EnvKwargs.Count == 0 ? null : new EnvOptions { Parameters = new Dictionary<string, double>(options.EnvKwargs) };
        var b = VecEnvBuilder.ForId(envId, numEnvs ?? options.NEnvs, kwargs);
        if (options.VecEnv == VecEnvKind.Threaded) b.Threads(options.EnvThreads == 0 ? Environment.ProcessorCount : options.EnvThreads);
        if (options.NormalizeObservation) b.NormalizeObservations();
        if (options.NormalizeReward && !forEvaluation) b.NormalizeRewards(AlgorithmGamma(options));
        var env = b.Build();
        if (forEvaluation) env.SetNormalizersFrozen(true);
        return env;
    }

    /// <summary>γ for reward normalisation's discounted return: the algorithm's own discount when it has one.</summary>
    private static double AlgorithmGamma(AlgorithmOptions options) => options is IDiscounted d ? d.Gamma : 0.99;

    // ---------------------------------------------------------------- save / load

    /// <summary>Model-file format of the algorithm layer; stored as "algorithm_format".</summary>
    public const int StateFormat = 2;

    /// <summary>
    /// Writes one zip: metadata (algorithm, library version, env id, spaces, options, counters, schedule), the
    /// algorithm's named parameter sets and optimiser states, the generators, the episode window, normalisation
    /// statistics and — when every env supports it — a full environment snapshot, so Load + Learn(…, Continue)
    /// continue bit-identically. Atomic: a crash never leaves a half-written file in place of the old one.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var w = new ModelStateWriter();
        var meta = w.Metadata;
        meta["algorithm"] = Algorithm;
        meta["algorithm_format"] = StateFormat;
        meta["library_version"] = typeof(BaseAlgorithm).Assembly.GetName().Version?.ToString();
        meta["env_id"] = EnvId;
        meta["observation_space"] = SpaceCodec.ToJson(ObservationSpace);
        meta["action_space"] = SpaceCodec.ToJson(ActionSpace);
        meta["options_yaml"] = ConfigWriter.ToYaml(BaseOptions);
        meta["num_timesteps"] = NumTimesteps;
        meta["iterations"] = Iterations;
        meta["schedule"] = new JsonObject
        {
            ["start_step"] = Schedule.StartStep, ["start_fraction"] = Schedule.StartFraction, ["end_step"] = Schedule.EndStep,
        };
        meta["started"] = Started;
        w.AddRng("train", TrainRng);
        w.AddRng("predict", PredictRng);
        w.Add(new ModelArray("episodes/returns", _episodes.Returns.AsMemory()));
        w.Add(new ModelArray("episodes/lengths", _episodes.Lengths.AsMemory()));
        w.Add(new ModelArray("episodes/total", new long[] { _episodes.Total }.AsMemory()));
        foreach (var (k, v) in VecWrapperStates.Get(_env)) w.Add(new ModelArray("normalization/" + k, v.AsMemory()));
        var snapshot = new Dictionary<string, double[]>(StringComparer.Ordinal);
        if (Started && _env.TrySaveSnapshot(snapshot))
        {
            meta["env_snapshot"] = true;
            w.Add(new ModelArray("snapshot/observations", ((float[])CurrentObservations.Clone()).AsMemory()));
            foreach (var (k, v) in snapshot) w.Add(new ModelArray("snapshot/env/" + k, v.AsMemory()));
        }
        SaveState(w);
        ModelArchive.Save(path, meta, w.Arrays);
    }

    /// <summary>Adds the algorithm's own state: its parameter sets, optimisers and anything else it needs to resume.</summary>
    protected abstract void SaveState(ModelStateWriter writer);

    /// <summary>Restores what <see cref="SaveState"/> wrote.</summary>
    protected abstract void RestoreState(ModelStateReader reader);

    /// <summary>A validated copy of <paramref name="options"/>: an algorithm never shares its options object with the caller.</summary>
    protected static TOptions ValidatedCopy<TOptions>(TOptions options) where TOptions : AlgorithmOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return (TOptions)options.Clone();
    }

    /// <summary>Builds the env of a registered id for <paramref name="options"/> and the algorithm on it (the env is disposed if that fails).</summary>
    protected static TAlgorithm CreateOnRegisteredEnv<TAlgorithm>(string envId, AlgorithmOptions options, Func<VecEnv, TAlgorithm> construct)
    {
        options.Validate();
        var env = BuildEnv(envId, options);
        try { return construct(env); }
        catch { env.Dispose(); throw; }
    }

    /// <summary>
    /// Loads a model file of <paramref name="algorithm"/>: reads and validates it, finds its env (<see cref="EnvForLoad"/>),
    /// constructs the algorithm with the stored options and restores its state. An env built here is disposed on failure.
    /// </summary>
    protected static TAlgorithm LoadModel<TAlgorithm, TOptions>(string path, VecEnv? env, string algorithm,
        Func<VecEnv, TOptions, string?, bool, TAlgorithm> construct)
        where TAlgorithm : BaseAlgorithm where TOptions : AlgorithmOptions, new()
    {
        var header = ReadHeader<TOptions>(path, algorithm);
        var (e, owns) = EnvForLoad(path, header, env);
        try
        {
            var loaded = construct(e, (TOptions)header.Options, header.EnvId, owns);
            loaded.Restore(header);
            return loaded;
        }
        catch
        {
            if (owns) e.Dispose();
            throw;
        }
    }

    /// <summary>The model file's algorithm name and options, read and validated before anything is built.</summary>
    protected sealed record ModelHeader(LoadedModel Model, string? EnvId, AlgorithmOptions Options);

    /// <summary>Reads a model file written by <paramref name="expectedAlgorithm"/> and binds its stored options.</summary>
    protected static ModelHeader ReadHeader<TOptions>(string path, string expectedAlgorithm) where TOptions : AlgorithmOptions, new()
    {
        var model = ModelArchive.Load(path);
        var r = new ModelStateReader(model);
        string algorithm = r.GetString("algorithm");
        if (algorithm != expectedAlgorithm)
            throw new ModelFileException(path, $"model file {path} holds a '{algorithm}' model, not '{expectedAlgorithm}'.");
        string yaml = r.GetString("options_yaml");
        TOptions options;
        try
        {
            options = ConfigBinder.Parse<TOptions>(MigrateOptions(model, yaml), $"{path}:options");
            options.Validate();
        }
        catch (ConfigException e) { throw new ModelFileException(path, $"model file {path}: its stored options are invalid: {e.Message}"); }
        string? envId = model.Metadata["env_id"]?.GetValue<string>();
        return new ModelHeader(model, envId, options);
    }

    /// <summary>Option names renamed since format 1 (round one's PPO files), so those files still load.</summary>
    private static string MigrateOptions(LoadedModel model, string yaml)
    {
        if (model.Metadata["algorithm_format"] is not null) return yaml;
        // kl_target (adaptive β's d_targ) became adaptive_kl_target; round one's target_kl checked epoch means,
        // and files of that time never set it in the shipped configs.
        return System.Text.RegularExpressions.Regex.Replace(yaml, @"(?m)^kl_target:", "adaptive_kl_target:");
    }

    /// <summary>
    /// The env a loaded model runs on: the one given (its spaces and copies must match), or one rebuilt from the
    /// stored id and options. Throws with one clear line otherwise.
    /// </summary>
    protected static (VecEnv Env, bool Owns) EnvForLoad(string path, ModelHeader header, VecEnv? env)
    {
        var options = header.Options;
        bool owns = false;
        if (env is null)
        {
            if (header.EnvId is null)
                throw new ArgumentException($"model file {path} was trained on an environment without a registered id; pass the env to Load(path, env).", nameof(env));
            env = BuildEnv(header.EnvId, options);
            owns = true;
        }
        else if (env.NumEnvs != options.NEnvs)
        {
            throw new ArgumentException(
                $"model file {path} was trained with n_envs = {options.NEnvs}, but the env given has {env.NumEnvs} copies; " +
                $"build it with {options.NEnvs} copies (the rollout and minibatch sizes depend on it; for evaluation use Predict on any number of rows).",
                nameof(env));
        }
        try
        {
            CheckSpace(path, header.Model.Metadata, "observation_space", env.SingleObservationSpace);
            CheckSpace(path, header.Model.Metadata, "action_space", env.SingleActionSpace);
        }
        catch
        {
            if (owns) env.Dispose();
            throw;
        }
        return (env, owns);
    }

    private static void CheckSpace(string path, JsonObject meta, string field, Space actual)
    {
        var stored = meta[field] ?? throw new ModelFileException(path, $"model file {path}: metadata has no '{field}'.");
        if (JsonValues.FirstDifference(stored, SpaceCodec.ToJson(actual)) is { } diff)
            throw new ArgumentException($"model file {path} does not fit this env: {field.Replace('_', ' ')} {diff}.");
    }

    /// <summary>Restores the shared state, then the algorithm's own (<see cref="RestoreState"/>). Disposes nothing.</summary>
    protected void Restore(ModelHeader header)
    {
        var r = new ModelStateReader(header.Model);
        string path = r.Path;
        var meta = r.Metadata;
        RestoreState(r);
        r.RestoreRng("train", TrainRng);
        r.RestoreRng("predict", PredictRng);
        _episodes.Load(header.Model.GetFloat64("episodes/returns").Span, header.Model.GetFloat64("episodes/lengths").Span,
            header.Model.GetInt64("episodes/total", 1).Span[0]);
        NumTimesteps = r.GetLong("num_timesteps");
        Iterations = meta["iterations"] is null ? 0 : r.GetLong("iterations");
        if (meta["schedule"] is JsonObject s)
            Schedule = new Schedule(s["start_step"]!.GetValue<long>(), s["start_fraction"]!.GetValue<double>(), s["end_step"]!.GetValue<long>());
        else // format 1: the schedule spanned total_steps from step 0
            Schedule = new Schedule(0, 1.0, BaseOptions.TotalSteps);

        var normalization = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var snapshot = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var a in header.Model.Arrays)
        {
            if (a.Name.StartsWith("normalization/", StringComparison.Ordinal)) normalization[a.Name["normalization/".Length..]] = a.Float64.ToArray();
            else if (a.Name.StartsWith("snapshot/env/", StringComparison.Ordinal)) snapshot[a.Name["snapshot/env/".Length..]] = a.Float64.ToArray();
        }
        try
        {
            if (normalization.Count > 0) VecWrapperStates.Set(_env, normalization);
        }
        catch (ArgumentException e)
        {
            throw new ModelFileException(path, $"model file {path}: its normalisation statistics do not fit this env ({e.Message}). Build the env with the same normalize_observation / normalize_reward options.");
        }
        if (r.GetBool("env_snapshot", false))
        {
            try
            {
                _env.LoadSnapshot(snapshot);
                header.Model.GetFloat32("snapshot/observations", CurrentObservations.Length).Span.CopyTo(CurrentObservations);
                Started = true;
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException)
            {
                // A different env chain than at save time: continue from a fresh reset instead of a wrong state.
                Started = false;
            }
        }
    }

    public virtual void Dispose()
    {
        if (_ownsEnv) _env.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Options of algorithms with a discount factor γ (used by reward normalisation's discounted return).</summary>
public interface IDiscounted
{
    double Gamma { get; }
}
