using System.CommandLine;
using Proximal.Algorithms.Registry;
using Proximal.Common.Config;
using Proximal.Envs.Registry;
using Proximal.Training.Benchmarks;
using Proximal.Cli.Train;
using Proximal.Training.Sessions;

namespace Proximal.Cli.Bench;

/// <summary><c>proximal bench learn --suite mujoco</c>: PPO learning results, task × seed, in parallel over cores.</summary>
internal static class LearnBench
{
    private static readonly string[] MuJoCoSuite =
        ["Hopper-v4", "HalfCheetah-v4", "Walker2d-v4", "InvertedPendulum-v4", "InvertedDoublePendulum-v4", "Reacher-v4", "Swimmer-v4"];

    public static Command CreateCommand()
    {
        var suite = new Option<string>("--suite") { Description = "Task suite: mujoco (Hopper, HalfCheetah, Walker2d, InvertedPendulum, InvertedDoublePendulum, Reacher, Swimmer).", DefaultValueFactory = _ => "mujoco" };
        var tasks = new Option<string[]>("--tasks") { Description = "Run only these env ids (overrides the suite).", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per task (seed-start .. seed-start + N − 1).", DefaultValueFactory = _ => 3 };
        var seedStart = new Option<long>("--seed-start") { Description = "First seed.", DefaultValueFactory = _ => 1 };
        var set = new Option<string[]>("--set") { Description = "Override a hyperparameter of every run, key=value (e.g. bootstrap_truncation=false). Repeatable.", AllowMultipleArgumentsPerToken = true };
        var steps = new Option<long?>("--steps") { Description = "Environment steps per run (default: each config's total_steps, 1M for MuJoCo)." };
        var parallel = new Option<int>("--parallel") { Description = "Runs at once (default: one per core).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var algos = new Option<string[]>("--algo") { Description = "Algorithm(s) to train, side by side (e.g. --algo ppo a2c trpo acktr).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["ppo"] };
        var checkpointEvery = new Option<long?>("--checkpoint-every") { Description = "Checkpoint interval in env steps (default: a twentieth of each run; 0: none). An interrupted benchmark continues each unfinished run from its checkpoint." };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "After each run, evaluate the deterministic policy for this many episodes (SB3-zoo's protocol; 0: none).", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<long>("--eval-every") { Description = "Also evaluate the deterministic policy every this many env steps during each run (--eval-episodes episodes, 10 if 0) and report each run's best (the TD3 paper's protocol: 5000; 0: none).", DefaultValueFactory = _ => 0 };
        var reportOnly = new Option<bool>("--report-only") { Description = "Train nothing: write the tables and plots of the runs finished so far (unfinished runs are left out and named)." };
        var output = new Option<string>("--out") { Description = "Output folder for progress.csv files, plots and results.md.", DefaultValueFactory = _ => Path.Combine("runs", "bench-learn") };
        var cmd = new Command("learn", "Train each algorithm on each task × seed and report the mean return of the last 100 training episodes (Markdown tables, algorithms side by side, SVG curves). Resumable: finished runs are skipped, unfinished ones continue from their checkpoints.");
        foreach (var o in new Option[] { algos, suite, tasks, seeds, seedStart, set, steps, parallel, checkpointEvery, evalEpisodes, evalEvery, reportOnly, output }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            if (pr.GetValue(tasks) is not { Length: > 0 } && pr.GetValue(suite) != "mujoco")
            {
                return CliParsing.UsageError($"unknown suite '{pr.GetValue(suite)}'; known: mujoco (or give --tasks ID …).");
            }
            string[] ids = pr.GetValue(tasks) is { Length: > 0 } t ? t : MuJoCoSuite;
            string outDir = pr.GetValue(output)!;
            string[] sets = pr.GetValue(set) ?? [];
            string[] algorithms = (pr.GetValue(algos) ?? ["ppo"]).SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select(a => a.ToLowerInvariant()).Distinct().ToArray();
            foreach (var a in algorithms)
                if (!AlgorithmRegistry.TryGet(a, out _)) return CliParsing.UsageError($"unknown algorithm '{a}'; known: {string.Join(", ", AlgorithmRegistry.Names)}.");
            var plan = new LearningBenchmarkPlan(ids, pr.GetValue(seeds), pr.GetValue(steps), pr.GetValue(parallel), outDir,
                (algo, id) => TrainingConfig.Resolve(BuiltInConfigs.Find(algo, id), overrides: sets, algorithm: algo))
            { SeedStart = pr.GetValue(seedStart), Algorithms = algorithms, CheckpointEvery = pr.GetValue(checkpointEvery), EvalEpisodes = pr.GetValue(evalEpisodes), EvalEvery = pr.GetValue(evalEvery), ReportOnly = pr.GetValue(reportOnly) };
            // Everything that can be wrong with the request is found before any run starts or any folder is made.
            if (plan.Seeds <= 0) return CliParsing.UsageError($"--seeds must be at least 1 (got {plan.Seeds}).");
            if (plan.SeedStart < 0) return CliParsing.UsageError($"--seed-start must be >= 0 (got {plan.SeedStart}).");
            if (plan.Steps is <= 0) return CliParsing.UsageError($"--steps must be at least 1 (got {plan.Steps}).");
            if (plan.Parallelism <= 0) return CliParsing.UsageError($"--parallel must be at least 1 (got {plan.Parallelism}).");
            if (plan.EvalEpisodes < 0) return CliParsing.UsageError($"--eval-episodes must be >= 0 (got {plan.EvalEpisodes}).");
            if (plan.EvalEvery < 0) return CliParsing.UsageError($"--eval-every must be >= 0 (got {plan.EvalEvery}).");
            if (plan.CheckpointEvery is < 0) return CliParsing.UsageError($"--checkpoint-every must be >= 0 (got {plan.CheckpointEvery}).");
            try
            {
                foreach (var id in ids)
                {
                    EnvRegistry.GetSpec(id);
                    foreach (var a in algorithms) plan.ConfigFor(a, id);
                }
            }
            catch (Exception e) when (e is UnknownEnvException or ConfigException) { return CliParsing.UsageError(e.Message); }
            var machine = MachineInfo.Current();
            new BenchReport(json: false).Header(machine);
            Console.WriteLine($"bench learn: {string.Join(", ", algorithms)} × {ids.Length} tasks × {plan.Seeds} seeds, {plan.Parallelism} at once, output in {outDir}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var runs = LearningBenchmark.Run(plan, Console.WriteLine);
            if (runs.Count == 0) { Console.Error.WriteLine($"error: no finished runs in {outDir} for this request yet."); return 1; }
            string table = (algorithms.Length > 1 ? LearningBenchmark.SideBySideTable(runs) + "\n" : "") + LearningBenchmark.MarkdownTable(runs);
            var plots = LearningBenchmark.WritePlots(runs, Path.Combine(outDir, "plots"));
            string md = $"# Learning benchmark ({string.Join(", ", algorithms)})\n\nCommand: `proximal {string.Join(' ', pr.Tokens.Select(x => x.Value))}`; " +
                        (plan.ReportOnly ? $"report of the {runs.Count} finished runs (each run's wall time and steps/s are in the table) on {machine.CpuDescription}," : $"{runs.Count} runs in {clock.Elapsed.TotalMinutes:F1} min on {machine.CpuDescription},") + $" {machine.GemmTier} tier, {machine.Cores} cores, " +
                        $"load average at start {(machine.LoadAverage is { } l ? l[0].ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "unknown")}. " +
                        "Score: mean return of the last 100 training episodes at the end of each run.\n\n" + table;
            File.WriteAllText(Path.Combine(outDir, "results.md"), md);
            Console.WriteLine();
            Console.WriteLine(table);
            Console.WriteLine($"results: {Path.Combine(outDir, "results.md")}; plots: {string.Join(", ", plots)}");
            return 0;
        });
        return cmd;
    }
}
