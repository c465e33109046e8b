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

namespace Proximal.Cli.Train;

/// <summary>
/// <c>proximal train --algo ppo --env ID [--config F] [--seed S] [--steps N] [--set k=v …] [--run-dir D] [--eval-every N]
/// [--eval-episodes M] [--checkpoint-every N] [--resume MODEL] [--no-progress]</c>.
/// Exit codes: 0 done, 2 bad request (nothing written), 130 interrupted (model saved), 1 training failed (model saved).
/// </summary>
internal static class TrainCommand
{
    public const int ExitUsage = 2, ExitInterrupted = 130, ExitFailed = 1;

    public static Command Create()
    {
        var algo = new Option<string?>("--algo") { Description = $"Algorithm: {string.Join(", ", AlgorithmRegistry.Names)} (default ppo; with --resume, the model's)." };
        algo.AcceptOnlyFromAmong([.. AlgorithmRegistry.Names]);
        var env = new Option<string?>("--env") { Description = "Registered environment id (see `proximal envs`), e.g. CartPole-v1." };
        var config = new Option<string?>("--config") { Description = "YAML hyperparameter file, applied over the built-in config of the env." };
        var seed = new Option<long?>("--seed") { Description = "Random seed (overrides the config files)." };
        var steps = new Option<long?>("--steps") { Description = "Environment steps to train (total_steps; with --resume: further steps)." };
        var set = new Option<string[]>("--set")
        {
            Description = "Override one hyperparameter, key=value (snake_case, dotted for nested: policy.hidden_sizes=64,64). Repeatable; applied last.",
            AllowMultipleArgumentsPerToken = true,
        };
        var runDir = new Option<string?>("--run-dir") { Description = "Run folder (default runs/<env>__<algo>__<seed>__<time>); a non-empty one gets a -2, -3 … suffix." };
        var evalEvery = new Option<long?>("--eval-every") { Description = "Evaluate every N env steps (default: a tenth of the run; 0: only at the end)." };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "Episodes per evaluation.", DefaultValueFactory = _ => 10 };
        var checkpointEvery = new Option<long?>("--checkpoint-every") { Description = "Save checkpoints/model_<step>.zip every N env steps (default: a quarter of the run; 0: none)." };
        var resume = new Option<string?>("--resume") { Description = "Continue training a saved model (its stored options are used) into a new run folder." };
        var noProgress = new Option<bool>("--no-progress") { Description = "Plain periodic progress lines even on a terminal." };

        var cmd = new Command("train", "Train an agent; writes config.yaml, progress.csv, tb/, checkpoints/, model.zip and curve.svg into a run folder.");
        foreach (var o in new Option[] { algo, env, config, seed, steps, set, runDir, evalEvery, evalEpisodes, checkpointEvery, resume, noProgress })
            cmd.Options.Add(o);

        cmd.SetAction(pr => Run(new Request(
            pr.GetValue(algo), pr.GetValue(env), pr.GetValue(config), pr.GetValue(seed), pr.GetValue(steps), pr.GetValue(set) ?? [],
            pr.GetValue(runDir), pr.GetValue(evalEvery), pr.GetValue(evalEpisodes), pr.GetValue(checkpointEvery), pr.GetValue(resume),
            pr.GetValue(noProgress), Environment.GetCommandLineArgs().Skip(1).ToArray())));
        return cmd;
    }

    private sealed record Request(string? Algo, string? Env, string? Config, long? Seed, long? Steps, string[] Sets, string? RunDir,
        long? EvalEvery, int EvalEpisodes, long? CheckpointEvery, string? Resume, bool NoProgress, string[] Args);

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return ExitUsage;
    }

    private static int Run(Request r)
    {
        // ---- everything that can be wrong with the request is found before the run folder exists
        if (r.EvalEpisodes <= 0) return Usage($"--eval-episodes must be at least 1 (got {r.EvalEpisodes}).");
        if (r.EvalEvery < 0) return Usage($"--eval-every must be >= 0 steps (got {r.EvalEvery}).");
        if (r.CheckpointEvery < 0) return Usage($"--checkpoint-every must be >= 0 steps (got {r.CheckpointEvery}).");
        if (r.Resume is not null && (r.Config is not null || r.Seed is not null))
            return Usage("--resume continues with the options stored in the model; --config and --seed cannot be combined with it (--set can change " +
                         string.Join(", ", TrainingSession.ResumableKeys) + ").");
        if (r.Resume is null && string.IsNullOrWhiteSpace(r.Env)) return Usage("--env is required (e.g. --env CartPole-v1; `proximal envs` lists them).");

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
            else settings = new TrainingSessionSettings { Algorithm = r.Algo, EnvId = r.Env, ResumeFrom = r.Resume, Steps = r.Steps, ResumeOverrides = r.Sets };

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

        using (session) return Train(session, r);
    }

    private static int Train(TrainingSession session, Request r)
    {
        var run = r.RunDir is { } dir ? RunDirectory.CreateAt(dir) : session.CreateRunDirectory();
        Console.WriteLine($"Training {session.Algorithm} on {session.EnvId} (seed {session.Seed}) for {session.StepsToTrain:N0} steps" +
                          (session.ResumedFrom is null ? "" : $", resuming {session.ResumedFrom} at step {session.ResumedAtStep:N0}") + ".");
        if (session.ScheduleNote is { } note) Console.WriteLine(note);
        Console.WriteLine($"Run folder: {Rel(run.Path)}");

        using var cts = new CancellationTokenSource();
        int interrupts = 0;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl-C: finish the update in progress, save, exit. A second one kills the process as usual.
            if (Interlocked.Increment(ref interrupts) > 1) return;
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });

        TrainingResult result;
        try
        {
            bool live = !r.NoProgress && !Console.IsOutputRedirected && Spectre.Console.AnsiConsole.Profile.Capabilities.Interactive;
            result = live ? ProgressDisplay.RunLive(session, run, cts) : ProgressDisplay.RunPlain(session, run, cts.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: training failed: {e.Message}");
            if (File.Exists(run.ModelPath)) Console.Error.WriteLine($"The model as of the last completed update is saved at {Rel(run.ModelPath)}; logs are in {Rel(run.Path)}.");
            return ExitFailed;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        Console.WriteLine();
        if (result.Cancelled)
            Console.WriteLine($"Interrupted at step {result.Steps:N0}: the model and logs up to the last completed update are saved.");
        else
            Console.WriteLine($"Done: {result.Steps:N0} steps ({result.StepsThisSession:N0} in this session) in {Format(result.Elapsed)} ({result.StepsPerSecond:N0} steps/s).");
        if (result.FinalEvaluation is { } ev)
            Console.WriteLine($"{(result.Cancelled ? "Last" : "Final")} evaluation at step {result.FinalEvaluationStep:N0} ({ev.Returns.Length} episodes, deterministic): " +
                              $"mean return {ev.MeanReturn:F2} ± {ev.StdReturn:F2} (mean length {ev.MeanLength:F1})");
        Console.WriteLine($"  model        {Rel(result.ModelPath)}");
        Console.WriteLine($"  config       {Rel(result.ConfigPath)}");
        Console.WriteLine($"  progress     {Rel(result.ProgressCsvPath)}");
        Console.WriteLine($"  tensorboard  {Rel(result.TensorBoardDirectory)}   (tensorboard --logdir {Rel(result.TensorBoardDirectory)})");
        if (result.Checkpoints.Count > 0) Console.WriteLine($"  checkpoints  {Rel(run.CheckpointsDirectory)} ({result.Checkpoints.Count})");
        Console.WriteLine(result.CurvePath is { } c ? $"  curve        {Rel(c)}" : $"  curve        (none: {result.CurveNote})");
        Console.WriteLine($"Evaluate again with: proximal eval {Quote(Rel(result.ModelPath))}");
        return result.Cancelled ? ExitInterrupted : 0;
    }

    internal static string Rel(string path)
    {
        string rel = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return rel.StartsWith("..", StringComparison.Ordinal) ? path : rel;
    }

    internal static string Format(TimeSpan t) => t.TotalHours >= 1
        ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private static string Quote(string arg) => arg.Length > 0 && arg.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:,+@".Contains(ch)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
}
