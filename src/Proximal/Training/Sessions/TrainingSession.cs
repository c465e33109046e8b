using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proximal.Algorithms;
using Proximal.Algorithms.Registry;
using Proximal.Envs;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Training.Logging;
using Proximal.Training.Plotting;
using Proximal.Training.Runs;
using Proximal.Training.TensorBoard;
using Proximal.Envs.Registry;

namespace Proximal.Training.Sessions;

/// <summary>
/// One training run from start to saved model, independent of any user interface:
/// <list type="number">
/// <item><see cref="Create"/> checks everything that can be wrong with the request (env id, options, the model to resume)
///       and builds the learner — before any file is written, so a bad request never leaves a half-made run folder.</item>
/// <item><see cref="Run"/> writes <c>config.yaml</c> (the resolved options, env and algorithm in its header), logs every
///       update to <c>progress.csv</c> and <c>tb/</c>, evaluates and checkpoints on schedule, and always saves
///       <c>model.zip</c> — at the end, on cancellation, and even when training throws — then evaluates once more and
///       writes <c>curve.svg</c> and <c>summary.json</c>.</item>
/// </list>
/// </summary>
public sealed class TrainingSession : IDisposable
{
    /// <summary>Learning-curve file written into the run folder.</summary>
    public const string CurveFileName = "curve.svg";
    /// <summary>Machine-readable outcome of the run (steps, timing, final evaluation).</summary>
    public const string SummaryFileName = "summary.json";
    /// <summary>The progress.csv column drawn in curve.svg.</summary>
    public const string CurveColumn = "rollout/episode_return_mean";
    /// <summary>progress.csv / TensorBoard column: wall-clock seconds since the session's <see cref="Run"/> started.</summary>
    public const string ElapsedColumn = "time/elapsed_seconds";
    /// <summary>Evaluation env copies at most (episodes are spread over them).</summary>
    public const int MaxEvalEnvs = 4;

    private readonly BaseAlgorithm _agent;
    private readonly TrainingSessionSettings _settings;
    private bool _ran;

    private TrainingSession(BaseAlgorithm agent, TrainingSessionSettings settings, long stepsToTrain, string? resumedFrom, long resumedAt,
        ScheduleMode scheduleMode = ScheduleMode.New, string? scheduleNote = null)
    {
        _agent = agent;
        ScheduleMode = scheduleMode;
        ScheduleNote = scheduleNote;
        _settings = settings;
        StepsToTrain = stepsToTrain;
        ResumedFrom = resumedFrom;
        ResumedAtStep = resumedAt;
        long batch = agent.BaseOptions.NEnvs * (long)(agent.BaseOptions is Algorithms.OnPolicy.OnPolicyOptions op ? op.NSteps : 1);
        EvalEvery = settings.EvalEvery switch { 0 => null, { } n => n, null => Math.Max(batch, stepsToTrain / DefaultEvaluations) };
        CheckpointEvery = settings.CheckpointEvery switch { 0 => null, { } n => n, null => Math.Max(batch, stepsToTrain / DefaultCheckpoints) };
    }

    /// <summary>Evaluations and checkpoints over a session when the settings leave their interval open.</summary>
    public const int DefaultEvaluations = 10, DefaultCheckpoints = 4;

    public string Algorithm => _agent.Algorithm;
    public string EnvId => _agent.EnvId!;
    /// <summary>The resolved options the run uses (the model's own when resuming).</summary>
    public AlgorithmOptions Options => _agent.BaseOptions;
    public long Seed => _agent.BaseOptions.Seed;
    public BaseAlgorithm Agent => _agent;
    /// <summary>How this session's training call treats the learning-rate schedule (Continue when resuming a run within its schedule).</summary>
    public ScheduleMode ScheduleMode { get; }
    /// <summary>One line saying which schedule a resumed run continues with (null for a fresh run).</summary>
    public string? ScheduleNote { get; }

    /// <summary>Option keys <c>--set</c> may change when resuming; the rest shape the networks, buffers or envs and stay as saved.</summary>
    public static readonly IReadOnlyList<string> ResumableKeys =
        ["learning_rate", "anneal_lr", "total_steps", "ent_coef", "vf_coef", "clip_range", "anneal_clip_range", "target_kl", "max_grad_norm", "n_epochs"];
    /// <summary>Steps this session asks Learn for (Learn rounds up to whole rollouts).</summary>
    public long StepsToTrain { get; }
    public string? ResumedFrom { get; }
    public long ResumedAtStep { get; }
    /// <summary>Evaluation interval in env steps; null: only the final evaluation.</summary>
    public long? EvalEvery { get; }
    /// <summary>Checkpoint interval in env steps; null: no checkpoints.</summary>
    public long? CheckpointEvery { get; }

    /// <summary>
    /// Validates <paramref name="settings"/> and builds (or loads) the learner. Throws <see cref="ConfigException"/>
    /// for bad options or step counts, <see cref="UnknownEnvException"/> for an unknown env id,
    /// <see cref="Persistence.ModelFileException"/> for a missing or corrupt model to resume,
    /// <see cref="ArgumentException"/> for inconsistent settings.
    /// </summary>
    public static TrainingSession Create(TrainingSessionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Algorithm is { } algo) AlgorithmRegistry.Get(algo); // unknown name → the known ones listed
        if (settings.EvalEpisodes <= 0)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.EvalEpisodes, $"EvalEpisodes must be >= 1 (got {settings.EvalEpisodes}).");
        if (settings.EvalEvery is < 0)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.EvalEvery, $"EvalEvery must be >= 0 steps (got {settings.EvalEvery}); 0 means only the final evaluation.");
        if (settings.LogEverySteps is < 1)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.LogEverySteps, $"LogEverySteps must be >= 1 step (got {settings.LogEverySteps}).");
        if (settings.CheckpointEvery is < 0)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.CheckpointEvery, $"CheckpointEvery must be >= 0 steps (got {settings.CheckpointEvery}); 0 means no checkpoints.");
        if (settings.Steps is <= 0)
            throw new ConfigException($"the number of steps to train must be > 0 (got {settings.Steps}).", "total_steps");

        if (settings.ResumeFrom is { } path)
        {
            if (settings.Options is not null)
                throw new ArgumentException("A resumed run uses the options stored in its model; do not pass Options as well (use ResumeOverrides).", nameof(settings));
            var agent = AlgorithmRegistry.Load(path);
            try
            {
                if (settings.Algorithm is { } wanted && !string.Equals(wanted, agent.Algorithm, StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"model file {path} holds a '{agent.Algorithm}' model, not '{wanted}'.", nameof(settings));
                if (agent.EnvId is null)
                    throw new ArgumentException($"model file {path} has no registered env id, so training cannot continue from it.", nameof(settings));
                if (settings.EnvId is { } id && !string.Equals(id, agent.EnvId, StringComparison.Ordinal))
                    throw new ArgumentException($"model file {path} was trained on '{agent.EnvId}', not '{id}'.", nameof(settings));
                bool newSchedule = ApplyResumeOverrides(agent.BaseOptions, settings.ResumeOverrides);
                var (steps, mode, note) = PlanResume(path, agent, settings.Steps, newSchedule);
                return new TrainingSession(agent, settings, steps, Path.GetFullPath(path), agent.NumTimesteps, mode, note);
            }
            catch
            {
                agent.Dispose();
                throw;
            }
        }

        if (string.IsNullOrWhiteSpace(settings.EnvId))
            throw new ArgumentException("Give an env id (or a model to resume).", nameof(settings));
        if (settings.Options is null)
            throw new ArgumentException("Give the run's options (e.g. PpoOptions).", nameof(settings));
        EnvRegistry.GetSpec(settings.EnvId); // unknown id → UnknownEnvException with the nearest ids
        var spec = AlgorithmRegistry.Get(settings.Algorithm ?? "ppo");
        if (!spec.OptionsType.IsInstanceOfType(settings.Options))
            throw new ArgumentException($"{spec.Name} needs {spec.OptionsType.Name}, got {settings.Options.GetType().Name}.", nameof(settings));
        var options = settings.Options.Clone();
        options.Validate();
        var created = spec.Create(settings.EnvId, options);
        return new TrainingSession(created, settings, settings.Steps ?? options.TotalSteps, null, 0);
    }

    /// <summary>Applies <c>--set</c> changes to a loaded model's options; true when they change the learning-rate schedule.</summary>
    private static bool ApplyResumeOverrides(AlgorithmOptions options, IReadOnlyList<string> overrides)
    {
        bool scheduleChanged = false;
        foreach (var assignment in overrides)
        {
            int eq = assignment.IndexOf('=');
            string key = (eq < 0 ? assignment : assignment[..eq]).Trim();
            if (!ResumableKeys.Contains(key))
                throw new ConfigException($"'{key}' cannot change when resuming (it shapes the networks, buffers or envs); keys that can: {string.Join(", ", ResumableKeys)}.", key);
            ConfigBinder.ApplyOverride(options, assignment);
            if (key is "learning_rate" or "anneal_lr") scheduleChanged = true;
        }
        options.Validate();
        return scheduleChanged;
    }

    /// <summary>
    /// How many steps a resumed session trains and under which schedule, with the one line that says so:
    /// within an unfinished schedule it continues (bit-exact with an uninterrupted run when the steps match);
    /// a finished schedule, or a changed learning rate, starts a new one over this session's steps.
    /// </summary>
    private static (long Steps, ScheduleMode Mode, string Note) PlanResume(string path, BaseAlgorithm agent, long? requested, bool newSchedule)
    {
        var o = agent.BaseOptions;
        long now = agent.NumTimesteps;
        var saved = agent.Schedule;
        bool finished = saved.IsFinished(now);
        if (newSchedule || finished)
        {
            long steps = requested ?? (finished ? 0 : saved.EndStep - now);
            if (steps <= 0)
                throw new ConfigException(
                    $"model file {path} has finished its planned {saved.EndStep:N0} steps (at step {now:N0}); give the number of further steps with --steps.", "total_steps");
            string note = !o.AnnealLr
                ? $"schedule: constant learning_rate {Num(o.LearningRate)}" + (finished ? $" (the saved run had finished its {saved.EndStep:N0} steps)" : "") + "."
                : $"schedule: new — learning_rate {Num(o.LearningRate)} annealed linearly to 0 over these {steps:N0} steps" +
                  (newSchedule ? " (learning_rate/anneal_lr changed)." : $" (the saved schedule had ended at step {saved.EndStep:N0}).");
            return (steps, ScheduleMode.New, note);
        }
        long go = requested ?? saved.EndStep - now;
        if (go <= 0) throw new ConfigException($"the number of steps to train must be > 0 (got {go}).", "total_steps");
        double f = saved.FractionAt(now);
        string cont = !o.AnnealLr
            ? $"schedule: continuing the saved run (constant learning_rate {Num(o.LearningRate)})."
            : now + go <= saved.EndStep
                ? $"schedule: continuing the saved one — learning_rate {Num(o.LearningRate * f)} now, linearly to 0 at step {saved.EndStep:N0}."
                : $"schedule: continuing the saved one, stretched to this session's end — learning_rate {Num(o.LearningRate * f)} now, linearly to 0 at step {now + go:N0} (was {saved.EndStep:N0}).";
        return (go, ScheduleMode.Continue, cont);
    }

    private static string Num(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>
    /// The default run folder name <c>&lt;env&gt;__&lt;algo&gt;__&lt;seed&gt;__&lt;time&gt;</c> under <paramref name="root"/>, created now.
    /// </summary>
    public RunDirectory CreateRunDirectory(string root = "runs", DateTime? timestamp = null)
        => RunDirectory.Create(EnvId, Algorithm, Seed, root, timestamp);

    /// <summary>
    /// Trains into <paramref name="run"/>. Cancelling <paramref name="cancellation"/> stops after the update in progress;
    /// the model is saved either way (and also when training throws, before the exception propagates).
    /// May be called once per session.
    /// </summary>
    public TrainingResult Run(RunDirectory run, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (_ran) throw new InvalidOperationException("This training session has already run; create a new one.");
        _ran = true;

        ConfigWriter.Write(run.ConfigPath, Options, ConfigHeader());
        var clock = Stopwatch.StartNew();
        long startSteps = _agent.NumTimesteps;
        var evalOptions = Options.Clone();
        using var eval = new EvalCallback(
            () => BaseAlgorithm.BuildEnv(EnvId, evalOptions, forEvaluation: true, numEnvs: Math.Min(Options.NEnvs, MaxEvalEnvs)),
            EvalEvery ?? long.MaxValue, _settings.EvalEpisodes, deterministic: true);
        var checkpoints = CheckpointEvery is { } every ? new CheckpointCallback(run.CheckpointsDirectory, every) : null;

        bool cancelled = false;
        EvaluationResult? finalEval = null;
        long? finalEvalStep = null;
        using (var csv = new CsvLogger(run.ProgressCsvPath))
        using (var tb = new TensorBoardWriter(run.TensorBoardDirectory))
        {
            int evaluationsSeen = 0;
            long logEvery = _settings.LogEverySteps ?? (_agent is Proximal.Algorithms.OffPolicy.OffPolicyAlgorithm ? 100 : 1);
            long nextLog = startSteps + logEvery, endStep = startSteps + StepsToTrain;
            var log = new LambdaCallback((agent, metrics) =>
            {
                bool evaluatedNow = eval.History.Count > evaluationsSeen;
                if (agent.NumTimesteps < nextLog && !evaluatedNow && agent.NumTimesteps < endStep && !cancellation.IsCancellationRequested)
                    return true;
                nextLog = agent.NumTimesteps + logEvery;
                var snapshot = new Dictionary<string, double>(metrics, StringComparer.Ordinal)
                {
                    [ElapsedColumn] = clock.Elapsed.TotalSeconds, // wall-clock seconds since this session started
                };
                csv.Write(agent.NumTimesteps, snapshot);
                tb.Write(agent.NumTimesteps, snapshot);
                tb.Flush();
                // Evaluation figures belong to the row they were measured at, not to every later one.
                foreach (var key in metrics.Keys.Where(k => k.StartsWith("eval/", StringComparison.Ordinal)).ToList()) metrics.Remove(key);
                bool evaluated = eval.History.Count > evaluationsSeen;
                evaluationsSeen = eval.History.Count;
                progress?.Report(Snapshot(startSteps, clock.Elapsed, eval, evaluated));
                return true;
            });
            var callbacks = new List<TrainingCallback>();
            if (EvalEvery is not null) callbacks.Add(eval);
            if (checkpoints is not null) callbacks.Add(checkpoints);
            callbacks.Add(log);

            try
            {
                _agent.Learn(StepsToTrain, callbacks, cancellation, ScheduleMode);
                cancelled = cancellation.IsCancellationRequested && _agent.NumTimesteps < startSteps + StepsToTrain;
            }
            finally
            {
                // Never lose the run: whatever happened, the latest parameters are on disk.
                _agent.Save(run.ModelPath);
            }

            if (!cancelled && _settings.FinalEvaluation)
            {
                if (eval.History.Count > 0 && eval.History[^1].Step == _agent.NumTimesteps)
                    finalEval = eval.History[^1].Result; // evaluated at this very step already
                else
                {
                    finalEval = eval.Run(_agent);
                    var row = new Dictionary<string, double>
                    {
                        ["eval/mean_return"] = finalEval.MeanReturn,
                        ["eval/std_return"] = finalEval.StdReturn,
                        ["eval/mean_length"] = finalEval.MeanLength,
                    };
                    tb.Write(_agent.NumTimesteps, row);
                    // progress.csv gets the final evaluation too: one closing row at the same step.
                    row[ElapsedColumn] = clock.Elapsed.TotalSeconds;
                    csv.Write(_agent.NumTimesteps, row);
                }
                finalEvalStep = _agent.NumTimesteps;
            }
            else if (eval.History.Count > 0)
            {
                (finalEvalStep, finalEval) = (eval.History[^1].Step, eval.History[^1].Result);
            }
        }
        clock.Stop();

        string? curve = null, curveNote = null;
        try
        {
            curve = Path.Combine(run.Path, CurveFileName);
            LearningCurvePlot.WriteSvg([run.Path], curve, CurveColumn, title: $"{Algorithm} on {EnvId}: training episode return ({run.Name})");
        }
        catch (InvalidDataException e)
        {
            curve = null; // no episode finished yet: nothing to draw
            curveNote = e.Message;
        }

        var result = new TrainingResult(run.Path, run.ModelPath, run.ConfigPath, run.ProgressCsvPath, run.TensorBoardDirectory,
            curve, curveNote, checkpoints?.Saved.ToArray() ?? [], _agent.NumTimesteps, _agent.NumTimesteps - startSteps,
            cancelled, clock.Elapsed, finalEval, finalEvalStep);
        WriteSummary(Path.Combine(run.Path, SummaryFileName), result);
        progress?.Report(Snapshot(startSteps, clock.Elapsed, eval, false));
        return result;
    }

    private TrainingProgress Snapshot(long startSteps, TimeSpan elapsed, EvalCallback eval, bool evaluated)
    {
        double sps = elapsed.TotalSeconds > 0 ? (_agent.NumTimesteps - startSteps) / elapsed.TotalSeconds : 0;
        double recent = _agent.Metrics.TryGetValue("rollout/episode_return_mean", out double r) ? r : double.NaN;
        var last = eval.History.Count > 0 ? eval.History[^1] : default;
        return new TrainingProgress(_agent.NumTimesteps, startSteps, startSteps + StepsToTrain, _agent.Iterations, sps, elapsed,
            recent, eval.History.Count > 0 ? last.Result : null,
            eval.History.Count > 0 ? last.Step : null, evaluated);
    }

    private string ConfigHeader()
    {
        var lines = new List<string>
        {
            $"Proximal training run: algo {Algorithm}, env {EnvId}, seed {Seed}.",
            $"env: {EnvId}",
            $"algo: {Algorithm}",
        };
        if (ResumedFrom is not null) lines.Add($"resumed from: {ResumedFrom} (at step {ResumedAtStep})");
        if (ScheduleNote is not null) lines.Add(ScheduleNote);
        if (_settings.CommandLine is { } cmd) lines.Add($"command: {cmd.Replace('\n', ' ')}");
        lines.Add($"created: {DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}");
        return string.Join('\n', lines);
    }

    private void WriteSummary(string path, TrainingResult r)
    {
        static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
        var json = new JsonObject
        {
            ["algorithm"] = Algorithm,
            ["env_id"] = EnvId,
            ["seed"] = Seed,
            ["resumed_from"] = ResumedFrom,
            ["steps"] = r.Steps,
            ["steps_this_session"] = r.StepsThisSession,
            ["cancelled"] = r.Cancelled,
            ["elapsed_seconds"] = r.Elapsed.TotalSeconds,
            ["steps_per_second"] = Num(r.StepsPerSecond),
            ["model"] = RunDirectory.ModelFileName,
            ["final_evaluation"] = r.FinalEvaluation is { } e ? new JsonObject
            {
                ["step"] = r.FinalEvaluationStep,
                ["episodes"] = e.Returns.Length,
                ["mean_return"] = Num(e.MeanReturn),
                ["std_return"] = Num(e.StdReturn),
                ["mean_length"] = Num(e.MeanLength),
            } : null,
        };
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public void Dispose() => _agent.Dispose();
}
