using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Proximal.Algorithms.Registry;
using Proximal.Envs;
using Proximal.Common.Config;
using Proximal.Common.Persistence;
using Proximal.Training.Runs;
using Proximal.Training.Sessions;
using Proximal.Envs.Registry;
using Proximal.Distributed;

namespace Proximal.Cli.Train;

/// <summary>
/// <c>proximal train --algo ppo --env ID [--config F] [--seed S] [--steps N] [--set k=v …] [--run-dir D] [--eval-every N]
/// [--eval-episodes M] [--checkpoint-every N] [--resume MODEL] [--no-progress]</c>.
/// Exit codes: 0 done, 2 bad request (nothing written), 130 interrupted (model saved), 1 training failed (model saved).
/// </summary>
internal static class TrainCommand
{
    public const int ExitUsage = CliParsing.ExitUsage, ExitInterrupted = 130, ExitFailed = 1;

    /// <summary>How the user starts this program: <c>./proximal</c> from a checkout (the launcher says so), else <c>proximal</c>.</summary>
    internal static string Launcher => Environment.GetEnvironmentVariable("PROXIMAL_LAUNCHER") is { Length: > 0 } l ? l : "proximal";

    public static Command Create()
    {
        var algo = new Option<string?>("--algo") { Description = $"Algorithm: {string.Join(", ", AlgorithmRegistry.Names)} (default ppo; with --resume, the model's)." };
        algo.AcceptOnlyFromAmong([.. AlgorithmRegistry.Names]);
        var env = new Option<string?>("--env") { Description = "Registered environment id (see `proximal envs`), e.g. CartPole-v1." };
        var config = new Option<string?>("--config") { Description = "YAML hyperparameter file, applied over the built-in config of the env." };
        var seed = CliParsing.WholeOption("--seed", "Random seed (overrides the config files).");
        var steps = CliParsing.StepsOption("--steps", "Environment steps to train (total_steps; with --resume: further steps). 100000, 1e5 and 1_000_000 all work.");
        var set = new Option<string[]>("--set")
        {
            Description = "Override one hyperparameter, key=value (snake_case, dotted for nested: policy.hidden_sizes=64,64). Repeatable; applied last.",
            AllowMultipleArgumentsPerToken = true,
        };
        var runDir = new Option<string?>("--run-dir") { Description = "Run folder (default runs/<env>__<algo>__<seed>__<time>); a non-empty one gets a -2, -3 … suffix." };
        var evalEvery = CliParsing.StepsOption("--eval-every", "Evaluate every N env steps (default: a tenth of the run; 0: only at the end).");
        var evalEpisodes = CliParsing.IntOption("--eval-episodes", "", "Episodes per evaluation.", 10);
        var checkpointEvery = CliParsing.StepsOption("--checkpoint-every", "Save checkpoints/model_<step>.zip every N env steps (default: a quarter of the run; 0: none).");
        var resume = new Option<string?>("--resume") { Description = "Continue training a saved model (a model file or a run folder: its model.zip; its stored options are used) into a new run folder." };
        var noProgress = new Option<bool>("--no-progress") { Description = "Plain periodic progress lines even on a terminal." };
        // [distributed] docs/distributed.md
        var distributed = new Option<bool>("--distributed") { Description = "One rank of a data-parallel run started by mpirun (mpirun -np K proximal train … --distributed): n_envs per rank, one gradient all-reduce per minibatch; rank 0 writes the run folder." };
        var chiefWorker = CliParsing.IntOption("--chief-worker", "", "Distributed, chief/worker variant (DPPO): rank 0 averages the gradients once all but D ranks' have arrived; late ones are dropped and counted. Implies --distributed.", -1);
        var rankTimeout = CliParsing.IntOption("--rank-timeout", "", "Distributed: seconds a rank may go silent before the job ends naming it.", 120);

        var cmd = new Command("train", "Train an agent; writes config.yaml, progress.csv, tb/, checkpoints/, model.zip and curve.svg into a run folder.");
        foreach (var o in new Option[] { algo, env, config, seed, steps, set, runDir, evalEvery, evalEpisodes, checkpointEvery, resume, noProgress, distributed, chiefWorker, rankTimeout })
            cmd.Options.Add(o);

        cmd.SetAction(pr => Run(new Request(
            pr.GetValue(algo), pr.GetValue(env), pr.GetValue(config), pr.GetValue(seed), pr.GetValue(steps), pr.GetValue(set) ?? [],
            pr.GetValue(runDir), pr.GetValue(evalEvery), pr.GetValue(evalEpisodes), pr.GetValue(checkpointEvery), pr.GetValue(resume),
            pr.GetValue(noProgress), Environment.GetCommandLineArgs().Skip(1).ToArray(),
            pr.GetValue(distributed) || pr.GetValue(chiefWorker) >= 0, pr.GetValue(chiefWorker) is >= 0 and var d ? d : null, pr.GetValue(rankTimeout))));
        return cmd;
    }

    private sealed record Request(string? Algo, string? Env, string? Config, long? Seed, long? Steps, string[] Sets, string? RunDir,
        long? EvalEvery, int EvalEpisodes, long? CheckpointEvery, string? Resume, bool NoProgress, string[] Args,
        bool Distributed = false, int? ChiefWorker = null, int RankTimeout = 120);

    /// <summary>[distributed] A rank other than 0 prints no usage errors (rank 0 prints the one line for the job).</summary>
    private static bool _quiet;

    private static int Usage(string message)
    {
        if (_quiet) return ExitUsage;
        Console.Error.WriteLine($"error: {message}");
        return ExitUsage;
    }

    private static int Run(Request r)
    {
        if (!r.Distributed) return RunOne(r, null);
        // [distributed] one rank of an mpirun job
        if (!MpiCommunicator.LaunchedByMpi) return Usage($"--distributed runs as one of several processes started by an MPI launcher: {DistributedTraining.LauncherHint}.");
        _quiet = DistributedTraining.RankFromEnvironment is > 0;
        if (r.RankTimeout <= 0) return Usage($"--rank-timeout must be at least 1 second (got {r.RankTimeout}).");
        DistributedTraining dist;
        try { dist = DistributedTraining.Start(TimeSpan.FromSeconds(r.RankTimeout), r.ChiefWorker); }
        catch (MpiUnavailableException e) { return Usage(e.Message); }
        using (dist) return RunOne(r, dist);
    }

    private static int RunOne(Request r, DistributedTraining? dist)
    {
        // ---- everything that can be wrong with the request is found before the run folder exists
        if (r.EvalEpisodes <= 0) return Usage($"--eval-episodes must be at least 1 (got {r.EvalEpisodes}).");
        if (r.EvalEvery < 0) return Usage($"--eval-every must be >= 0 steps (got {r.EvalEvery}).");
        if (r.CheckpointEvery < 0) return Usage($"--checkpoint-every must be >= 0 steps (got {r.CheckpointEvery}).");
        if (r.Resume is not null && (r.Config is not null || r.Seed is not null))
            return Usage("--resume continues with the options stored in the model; --config and --seed cannot be combined with it (--set can change " +
                         string.Join(", ", TrainingSession.ResumableKeys) + ").");
        if (r.Steps is <= 0) return Usage($"--steps must be at least 1 (got {r.Steps}).");
        if (r.Seed is < 0) return Usage($"--seed must be >= 0 (got {r.Seed}).");
        if (r.Resume is null && string.IsNullOrWhiteSpace(r.Env)) return Usage("--env is required (e.g. --env CartPole-v1; `proximal envs` lists them).");
        string? resumeFrom = r.Resume;
        if (resumeFrom is not null && Directory.Exists(resumeFrom))
        {
            // A run folder: continue from its final model.
            resumeFrom = Path.Combine(resumeFrom, RunDirectory.ModelFileName);
            if (!File.Exists(resumeFrom)) return Usage($"--resume {r.Resume}: the folder has no {RunDirectory.ModelFileName} to continue from.");
        }

        TrainingSession session;
        try
        {
            TrainingSessionSettings settings;
            if (r.Resume is null)
            {
                EnvRegistry.GetSpec(r.Env!);
                string algoName = AlgorithmRegistry.Get(r.Algo ?? "ppo").Name;
                var builtIn = BuiltInConfigs.Find(algoName, r.Env!);
                if (builtIn is null)
                {
                    var known = BuiltInConfigs.EnvIds(algoName);
                    Console.Error.WriteLine($"note: no built-in {algoName} config for {r.Env} (built-in: {string.Join(", ", known)}); " +
                                            $"starting from the {algoName} defaults{(r.Config is null ? "" : " and " + r.Config)}.");
                }
                var options = TrainingConfig.Resolve(builtIn, r.Config, r.Seed, r.Steps, r.Sets, algoName);
                settings = new TrainingSessionSettings { Algorithm = algoName, EnvId = r.Env, Options = options };
            }
            else settings = new TrainingSessionSettings { Algorithm = r.Algo, EnvId = r.Env, ResumeFrom = resumeFrom, Steps = r.Steps, ResumeOverrides = r.Sets };

            settings = settings with
            {
                EvalEvery = r.EvalEvery,
                EvalEpisodes = r.EvalEpisodes,
                CheckpointEvery = r.CheckpointEvery,
                CommandLine = "proximal " + string.Join(' ', r.Args.Select(Quote)),
            };
            session = TrainingSession.Create(settings);
        }
        catch (ConfigException e) { return Usage(e.Message); }
        catch (UnknownEnvException e) { return Usage(e.Message); }
        catch (ModelFileException e) { return Usage(e.Message); }
        catch (ArgumentException e) { return Usage(e.Message); }
        catch (NotSupportedException e) { return Usage(e.Message); }
        catch (Proximal.MuJoCo.Binding.MuJoCoLibraryException e) { return Usage(e.Message); }

        using (session)
        {
            if (dist is null) return Train(session, r);
            // [distributed] every rank built the same session, or the job stops here with one line
            if (dist.Agree(session, null) is int code) return code;
            if (dist.Attach(session) is { } problem) return Usage(problem);
            if (dist.Rank != 0) return dist.RunWorker(session);
            Console.WriteLine(dist.Describe(session));
            (ResumePrefix, ResumeSuffix) = dist.ResumeParts;
            int exit = Train(session, r);
            if (exit == ExitFailed) dist.Abort(ExitFailed, ""); // the others wait on rank 0: end them (rank 0 saved the model and said so)
            return exit;
        }
    }

    /// <summary>[distributed] What the printed resume command starts and ends with (mpirun -np K …, --distributed).</summary>
    private static string ResumePrefix = "", ResumeSuffix = "";

    private static int Train(TrainingSession session, Request r)
    {
        RunDirectory run;
        try { run = r.RunDir is { } dir ? RunDirectory.CreateAt(dir) : session.CreateRunDirectory(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string where = r.RunDir is null ? "the run folder under runs/" : $"--run-dir {r.RunDir}";
            return Usage($"cannot create {where}: {WhyNotCreated(r.RunDir ?? "runs", e)}.");
        }
        Console.WriteLine($"Training {session.Algorithm} on {session.EnvId} (seed {session.Seed}) for {session.StepsToTrain:N0} steps" +
                          (session.ResumedFrom is null ? "" : $", resuming {session.ResumedFrom} at step {session.ResumedAtStep:N0}") + ".");
        if (session.ScheduleNote is { } note) Console.WriteLine(note);
        Console.WriteLine($"Run folder: {Rel(run.Path)}");

        using var interrupts = new Interrupts();
        long target = session.ResumedAtStep + session.StepsToTrain;
        interrupts.QuitWithoutSaving = () =>
        {
            // Third Ctrl-C: the user wants out now. Say exactly what is on disk and what is not.
            var latest = LatestCheckpoint(run);
            SafeConsole.Error(latest is { } c
                ? $"Quit without saving: the steps after {c.Step:N0} are not saved. Latest checkpoint: {Rel(c.Path)}. " +
                  $"Resume with: {Launcher} train --resume {Quote(Rel(c.Path))} --steps {target - c.Step}"
                : $"Quit without saving: no model of this run was saved (no checkpoint yet); {Rel(run.Path)} holds only the logs.");
            Environment.Exit(ExitInterrupted);
        };

        TrainingResult result;
        try
        {
            bool live = !r.NoProgress && !Console.IsOutputRedirected && Spectre.Console.AnsiConsole.Profile.Capabilities.Interactive;
            result = live ? ProgressDisplay.RunLive(session, run, interrupts) : ProgressDisplay.RunPlain(session, run, interrupts);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            SafeConsole.Error($"error: training failed: {e.Message.ReplaceLineEndings(" ")}");
            if (File.Exists(run.ModelPath))
            {
                SafeConsole.Error($"The model as of the last completed update is saved at {Rel(run.ModelPath)}; logs are in {Rel(run.Path)}.");
                try
                {
                    using var saved = Proximal.Algorithms.Registry.AlgorithmRegistry.Load(run.ModelPath);
                    if (target - saved.NumTimesteps > 0)
                        SafeConsole.Error($"Resume with: {ResumeCommand(run.ModelPath, target - saved.NumTimesteps)}");
                }
                catch (Exception) { /* the failure above is the message that matters */ }
            }
            else SafeConsole.Error($"No model was saved; logs are in {Rel(run.Path)}.");
            return ExitFailed;
        }

        SafeConsole.Line("");
        long left = target - result.Steps;
        if (result.Cancelled)
        {
            SafeConsole.Line($"Interrupted ({interrupts.First ?? "cancelled"}) at step {result.Steps:N0} of {target:N0}: the model and logs up to the last completed update are saved.");
            if (left > 0)
            {
                string resumeCommand = ResumeCommand(result.ModelPath, left);
                SafeConsole.Line($"Resume with: {resumeCommand}");
                RecordResumeCommand(result.RunDirectory, resumeCommand);
            }
        }
        else
            SafeConsole.Line($"Done: {result.Steps:N0} steps ({result.StepsThisSession:N0} in this session) in {Format(result.Elapsed)} ({result.StepsPerSecond:N0} steps/s).");
        if (result.FinalEvaluation is { } ev)
            SafeConsole.Line($"{(result.Cancelled ? "Last" : "Final")} evaluation at step {result.FinalEvaluationStep:N0} ({ev.Returns.Length} episodes, deterministic): " +
                              $"mean return {ev.MeanReturn:F2} ± {ev.StdReturn:F2} (mean length {ev.MeanLength:F1})");
        SafeConsole.Line($"  model        {Rel(result.ModelPath)}");
        SafeConsole.Line($"  config       {Rel(result.ConfigPath)}");
        SafeConsole.Line($"  progress     {Rel(result.ProgressCsvPath)}");
        SafeConsole.Line($"  tensorboard  {Rel(result.TensorBoardDirectory)}   (tensorboard --logdir {Rel(result.TensorBoardDirectory)})");
        if (result.Checkpoints.Count > 0) SafeConsole.Line($"  checkpoints  {Rel(run.CheckpointsDirectory)} ({result.Checkpoints.Count})");
        SafeConsole.Line(result.CurvePath is { } c ? $"  curve        {Rel(c)}" : $"  curve        (none: {result.CurveNote})");
        SafeConsole.Line($"Evaluate again with: {Launcher} eval {Quote(Rel(result.ModelPath))}");
        return result.Cancelled ? ExitInterrupted : 0;
    }

    internal static string ResumeCommand(string modelPath, long stepsLeft) =>
        $"{ResumePrefix}{Launcher} train --resume {Quote(Rel(modelPath))} --steps {stepsLeft.ToString(CultureInfo.InvariantCulture)}{ResumeSuffix}";

    /// <summary>Adds <c>resume_command</c> to the run's summary.json (the terminal may be gone, e.g. after SIGHUP).</summary>
    private static void RecordResumeCommand(string runPath, string command)
    {
        string path = Path.Combine(runPath, TrainingSession.SummaryFileName);
        try
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            json["resume_command"] = command;
            File.WriteAllText(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException) { }
    }

    private static (string Path, long Step)? LatestCheckpoint(RunDirectory run)
    {
        try
        {
            return Directory.EnumerateFiles(run.CheckpointsDirectory, "model_*.zip")
                .Select(p => (Path: p, Ok: long.TryParse(Path.GetFileNameWithoutExtension(p)["model_".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long s), Step: s))
                .Where(x => x.Ok).OrderByDescending(x => x.Step).Select(x => ((string, long)?)(x.Path, x.Step)).FirstOrDefault();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Why a folder could not be created, in user terms: the part of the path that is a file, or permission.</summary>
    internal static string WhyNotCreated(string path, Exception e)
    {
        if (e is UnauthorizedAccessException) return "permission denied";
        for (string? p = Path.GetFullPath(path); !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
            if (File.Exists(p)) return $"'{p}' is a file, not a folder";
        return e.Message;
    }

    internal static string Rel(string path)
    {
        string rel = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return rel.StartsWith("..", StringComparison.Ordinal) ? path : rel;
    }

    internal static string Format(TimeSpan t) => t.TotalHours >= 1
        ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    internal static string Quote(string arg) => arg.Length > 0 && arg.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:,+@".Contains(ch)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
}
