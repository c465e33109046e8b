using System.Diagnostics;
using System.Globalization;
using System.Text;
using Proximal.Algorithms;
using Proximal.Algorithms.Registry;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Common.Persistence;
using Proximal.Training.Logging;
using Proximal.Training.Plotting;

namespace Proximal.Training.Benchmarks;

/// <summary>One training run of the learning benchmark.</summary>
/// <remarks><see cref="Algorithm"/> is null in result files written before the benchmark ran several algorithms: read it as "ppo".</remarks>
public sealed record LearningRun(string EnvId, long Seed, long Steps, double Score, double Seconds, double Sps, double[] CurveSteps, double[] CurveReturns,
    string? Algorithm = "ppo", double? EvalScore = null, double? BestPeriodicEval = null)
{
    // EvalScore: mean return of deterministic-policy episodes after training (SB3-zoo's protocol), when the plan asked for them.
    // BestPeriodicEval: the highest mean return of the deterministic evaluations made every plan.EvalEvery steps during
    // the run (the TD3 paper's "max average return" protocol), when the plan asked for them.
    public string AlgorithmName => Algorithm ?? "ppo";
}

/// <summary>What to run: algorithms × tasks × seeds, each with its config (steps overridable), on this many cores at once.</summary>
/// <remarks>Seeds run from <see cref="SeedStart"/> to SeedStart + Seeds − 1. A run whose <c>result.json</c> exists in the output
/// folder is read back rather than trained again, and an unfinished run continues from its last checkpoint
/// (<see cref="CheckpointEvery"/>), so an interrupted benchmark — a session that ended — continues where it stopped.</remarks>
public sealed record LearningBenchmarkPlan(IReadOnlyList<string> Tasks, int Seeds, long? Steps, int Parallelism, string OutputDirectory,
    Func<string, string, AlgorithmOptions> ConfigFor)
{
    /// <summary>Registry names of the algorithms; every one trains every task × seed.</summary>
    public IReadOnlyList<string> Algorithms { get; init; } = ["ppo"];
    public long SeedStart { get; init; } = 1;
    /// <summary>Checkpoint interval in env steps; null: a twentieth of each run (at least one rollout), 0: none.</summary>
    public long? CheckpointEvery { get; init; }
    /// <summary>Episodes of a deterministic evaluation after each run (0: none), on a fresh env seeded apart from training.</summary>
    public int EvalEpisodes { get; init; }
    /// <summary>
    /// Every this many env steps, a deterministic evaluation of EvalEpisodes episodes (10 when EvalEpisodes is 0) during
    /// the run, logged as eval/mean_return in progress.csv; the run's best is reported (the TD3 paper's protocol:
    /// every 5000 steps, 10 episodes, the maximum over the run). 0: none. Evaluations never change training: they use
    /// their own env and generator.
    /// </summary>
    public long EvalEvery { get; init; }
    /// <summary>Train nothing: report the runs that have finished (a long benchmark looked at midway). Unfinished runs are left out.</summary>
    public bool ReportOnly { get; init; }
}

/// <summary>
/// The learning benchmark: trains every algorithm × task × seed (independent runs in parallel over cores) and
/// scores each run as the mean return of its last 100 training episodes — the PPO paper's and CleanRL's protocol.
/// Writes each run's progress.csv, Markdown tables (mean ± std over seeds; algorithms side by side) and one SVG plot per task.
/// </summary>
public static class LearningBenchmark
{
    /// <summary>Published mean scores at 1M steps, per algorithm, that the issues set as targets (see each source).</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> PublishedTargets =
        new Dictionary<string, IReadOnlyDictionary<string, double>>
        {
            // Published PPO implementations at 1M steps (the targets of issue 5).
            ["ppo"] = new Dictionary<string, double>
            {
                ["Hopper-v4"] = 2300, ["HalfCheetah-v4"] = 1600, ["Walker2d-v4"] = 2300, ["InvertedPendulum-v4"] = 900,
                ["InvertedDoublePendulum-v4"] = 7000, ["Reacher-v4"] = -7, ["Swimmer-v4"] = 100,
            },
            // OpenAI Baselines trpo_mpi at 1M steps (issue 9).
            ["trpo"] = new Dictionary<string, double>
            {
                ["Hopper-v4"] = 1913, ["Walker2d-v4"] = 2343, ["HalfCheetah-v4"] = 1290, ["Swimmer-v4"] = 95,
                ["InvertedDoublePendulum-v4"] = 6732, ["Reacher-v4"] = -4.8, ["InvertedPendulum-v4"] = 905,
            },
            // ACKTR as reported in Table 1 of the TD3 paper (Fujimoto et al., 2018), 1M steps (issue 9).
            ["acktr"] = new Dictionary<string, double>
            {
                ["Hopper-v4"] = 2428, ["HalfCheetah-v4"] = 1450, ["Walker2d-v4"] = 1217, ["Reacher-v4"] = -4.3,
                ["InvertedDoublePendulum-v4"] = 9082, ["InvertedPendulum-v4"] = 1000,
            },
            // CleanRL's published 1M-step figures (issue 10).
            ["sac"] = new Dictionary<string, double> { ["HalfCheetah-v4"] = 9635, ["Hopper-v4"] = 2310 },
            ["td3"] = new Dictionary<string, double> { ["HalfCheetah-v4"] = 9583, ["Hopper-v4"] = 3135 },
            // SB3-zoo TQC HalfCheetah (its figure is a deterministic evaluation; ours here is the training-episode score: see docs).
            ["tqc"] = new Dictionary<string, double> { ["HalfCheetah-v4"] = 12090 },
        };

    public static bool TryGetTarget(string algorithm, string task, out double target)
    {
        target = double.NaN;
        return PublishedTargets.TryGetValue(algorithm, out var t) && t.TryGetValue(task, out target);
    }

    /// <summary>The folder of one run: <c>runs/&lt;task&gt;__&lt;algo&gt;__seed&lt;seed&gt;</c>.</summary>
    public static string RunDirectory(string outputDirectory, string algorithm, string task, long seed)
        => Path.Combine(outputDirectory, "runs", $"{task}__{algorithm}__seed{seed}");

    /// <summary>File name of a run's latest checkpoint (one file, replaced atomically at each save).</summary>
    public const string CheckpointFileName = "checkpoint.zip";

    public static IReadOnlyList<LearningRun> Run(LearningBenchmarkPlan plan, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Tasks.Count == 0) throw new ArgumentException("The learning benchmark needs at least one task.", nameof(plan));
        if (plan.Algorithms.Count == 0) throw new ArgumentException("The learning benchmark needs at least one algorithm.", nameof(plan));
        if (plan.Seeds <= 0) throw new ArgumentOutOfRangeException(nameof(plan), plan.Seeds, "seeds must be > 0.");
        if (plan.Parallelism <= 0) throw new ArgumentOutOfRangeException(nameof(plan), plan.Parallelism, "parallelism must be > 0.");
        if (plan.CheckpointEvery is < 0) throw new ArgumentOutOfRangeException(nameof(plan), plan.CheckpointEvery, "checkpoint interval must be >= 0.");
        Directory.CreateDirectory(plan.OutputDirectory);
        var jobs = (from algo in plan.Algorithms from task in plan.Tasks from seed in Enumerable.Range(0, plan.Seeds)
                    select (algo, task, seed: plan.SeedStart + seed)).ToList();
        var runs = new LearningRun[jobs.Count];
        var lockLog = new object();
        void Log(string line) { lock (lockLog) log?.Invoke(line); }
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = plan.Parallelism }, j =>
        {
            var (algo, task, seed) = jobs[j];
            var options = plan.ConfigFor(algo, task).Clone();
            options.Seed = seed;
            if (plan.Steps is { } s) options.TotalSteps = s;
            // Parallelism comes from independent runs; cores that no run would use go to each run's update (results are
            // bit-identical for any thread count, so this changes only the wall time: a lone 1M-step SAC run on 2 cores).
            options.TrainThreads = RunThreads(Environment.ProcessorCount, plan.Parallelism, jobs.Count);
            // A checkpoint of an off-policy run must carry its replay buffer, or the resumed run is not the same run.
            if (options is Proximal.Algorithms.OffPolicy.OffPolicyOptions off) off.SaveReplayBuffer = true;
            if (plan.ReportOnly)
            {
                string dir = RunDirectory(plan.OutputDirectory, algo, task, seed);
                if (TryReadResult(Path.Combine(dir, ResultFileName)) is { } r && r.Steps >= options.TotalSteps) runs[j] = r with { Algorithm = r.AlgorithmName };
                else Log($"{algo} {task} seed {seed}: not finished, left out of the report");
                return;
            }
            runs[j] = RunOne(algo, task, seed, options, RunDirectory(plan.OutputDirectory, algo, task, seed), plan.CheckpointEvery, plan.EvalEpisodes, plan.EvalEvery, Log);
        });
        return plan.ReportOnly ? runs.Where(r => r is not null).ToArray() : runs;
    }

    /// <summary>Update threads per run: the cores divided among the runs that go at once (at least 1).</summary>
    public static int RunThreads(int cores, int parallelism, int jobs) => Math.Max(1, cores / Math.Max(1, Math.Min(parallelism, jobs)));

    private static LearningRun RunOne(string algo, string task, long seed, AlgorithmOptions options, string dir, long? checkpointEvery, int evalEpisodes, long evalEvery, Action<string> log)
    {
        Directory.CreateDirectory(dir);
        string resultPath = Path.Combine(dir, ResultFileName);
        string label = $"{algo} {task} seed {seed}";
        if (TryReadResult(resultPath) is { } done && done.Steps >= options.TotalSteps)
        {
            log($"{label}: finished earlier (score {done.Score:F1}), skipped");
            return done with { Algorithm = done.AlgorithmName };
        }
        string checkpoint = Path.Combine(dir, CheckpointFileName), csvPath = Path.Combine(dir, "progress.csv");
        var clock = Stopwatch.StartNew();
        double earlierSeconds = 0;
        BaseAlgorithm agent;
        bool resumed = false;
        if (File.Exists(checkpoint) && TryLoadCheckpoint(checkpoint, algo, task, options, log, label) is { } loaded)
        {
            agent = loaded.Agent;
            earlierSeconds = loaded.Seconds;
            resumed = true;
            KeepRowsUpTo(csvPath, agent.NumTimesteps);
            log($"{label}: resuming from its checkpoint at step {agent.NumTimesteps:N0}");
        }
        else agent = AlgorithmRegistry.Create(algo, task, options);

        long every = checkpointEvery ?? Math.Max(options.TotalSteps / 20, 1);
        using (agent)
        using (var csv = new CsvLogger(csvPath, append: resumed))
        {
            long next = (agent.NumTimesteps / Math.Max(every, 1) + 1) * every;
            var callback = new LambdaCallback((a, metrics) =>
            {
                csv.Write(a.NumTimesteps, (IReadOnlyDictionary<string, double>)metrics);
                if (every > 0 && a.NumTimesteps >= next && a.NumTimesteps < options.TotalSteps)
                {
                    next = (a.NumTimesteps / every + 1) * every;
                    csv.Flush(); // the rows up to the checkpoint are on disk before the checkpoint says they are
                    agent.Save(checkpoint);
                    WriteSeconds(dir, earlierSeconds + clock.Elapsed.TotalSeconds);
                }
                return true;
            });
            long remaining = options.TotalSteps - agent.NumTimesteps;
            // Deterministic evaluations on their own env (never the training one), periodic or after training.
            var evalOptions = options.Clone();
            EvalCallback Evaluator(long every, int episodes) =>
                new(() => BaseAlgorithm.BuildEnv(task, evalOptions, forEvaluation: true, numEnvs: Math.Min(options.NEnvs, 10)), every, episodes, deterministic: true);
            // Periodic evaluations go first, so that their eval/* metrics reach the same progress.csv row.
            using var periodic = evalEvery > 0 ? Evaluator(evalEvery, evalEpisodes > 0 ? evalEpisodes : 10) : null;
            TrainingCallback[] callbacks = periodic is null ? [callback] : [periodic, callback];
            if (remaining > 0) agent.Learn(remaining, callbacks, default, resumed ? ScheduleMode.Continue : ScheduleMode.New);
            csv.Flush();
            double seconds = earlierSeconds + clock.Elapsed.TotalSeconds;
            var (xs, ys) = ReadCurve(csvPath);
            double score = agent.Metrics["rollout/episode_return_mean"];
            double? evalScore = null;
            if (evalEpisodes > 0)
            {
                using var eval = Evaluator(long.MaxValue, evalEpisodes);
                evalScore = eval.Run(agent).MeanReturn;
            }
            // The best periodic evaluation over the whole run, read from progress.csv (which a resumed run keeps).
            double[] periodicEvals = evalEvery > 0 ? ReadCurve(csvPath, EvalMetric).Returns : [];
            var run = new LearningRun(task, seed, agent.NumTimesteps, score, seconds, agent.NumTimesteps / seconds, xs, ys, algo, evalScore,
                periodicEvals.Length > 0 ? periodicEvals.Max() : null);
            WriteResult(resultPath, run);
            log($"{label}: score {run.Score:F1}{(evalScore is { } ev ? $" (deterministic evaluation {ev:F1})" : "")} after {run.Steps:N0} steps in {run.Seconds:F0} s ({run.Sps:F0} steps/s)");
        }
        // The result now stands for the run; its checkpoint is no longer needed (and can be large: a replay buffer).
        File.Delete(checkpoint);
        return TryReadResult(resultPath)!;
    }

    private static (BaseAlgorithm Agent, double Seconds)? TryLoadCheckpoint(string path, string algo, string task, AlgorithmOptions planned, Action<string> log, string label)
    {
        BaseAlgorithm agent;
        try { agent = AlgorithmRegistry.Load(path); }
        catch (Exception e) when (e is ModelFileException or InvalidDataException or IOException or ConfigException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            log($"{label}: checkpoint {path} cannot be loaded ({e.Message}); training from the start");
            return null;
        }
        // A checkpoint from another configuration is not this run: keep it aside rather than continue the wrong run or lose it.
        if (agent.Algorithm != algo || agent.EnvId != task || agent.BaseOptions.Seed != planned.Seed || agent.BaseOptions.TotalSteps != planned.TotalSteps)
        {
            agent.Dispose();
            string aside = path + ".other-config";
            File.Move(path, aside, overwrite: true);
            log($"{label}: checkpoint was made with other settings; moved to {aside}, training from the start");
            return null;
        }
        double seconds = File.Exists(SecondsPath(Path.GetDirectoryName(path)!)) &&
                         double.TryParse(File.ReadAllText(SecondsPath(Path.GetDirectoryName(path)!)), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) ? s : 0;
        return (agent, seconds);
    }

    private static string SecondsPath(string dir) => Path.Combine(dir, "checkpoint.seconds");

    private static void WriteSeconds(string dir, double seconds)
    {
        string temp = SecondsPath(dir) + ".tmp";
        File.WriteAllText(temp, seconds.ToString("R", CultureInfo.InvariantCulture));
        File.Move(temp, SecondsPath(dir), overwrite: true);
    }

    /// <summary>Drops the rows a resumed run will write again (those logged after its checkpoint).</summary>
    private static void KeepRowsUpTo(string csvPath, long step)
    {
        if (!File.Exists(csvPath)) return;
        var lines = File.ReadAllLines(csvPath);
        if (lines.Length == 0) return;
        var kept = new List<string> { lines[0] };
        foreach (var line in lines.Skip(1))
        {
            int comma = line.IndexOf(',');
            string first = comma < 0 ? line : line[..comma];
            if (long.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) && s <= step) kept.Add(line);
        }
        string temp = csvPath + ".tmp";
        File.WriteAllLines(temp, kept);
        File.Move(temp, csvPath, overwrite: true);
    }

    /// <summary>The progress.csv column of the periodic evaluations.</summary>
    public const string EvalMetric = "eval/mean_return";

    /// <summary>
    /// One column of a run's progress.csv against its steps, finite values only; by default the learning curve (the
    /// mean episode return). Empty while the column has no value (no episode finished, no evaluation made yet).
    /// </summary>
    private static (double[] Steps, double[] Returns) ReadCurve(string csvPath, string column = "rollout/episode_return_mean")
    {
        LearningCurve curve;
        try { curve = LearningCurvePlot.LoadRun(csvPath, column); }
        catch (InvalidDataException) { return ([], []); } // no value yet: an empty curve
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i < curve.Count; i++)
            if (double.IsFinite(curve.Y[i])) { xs.Add(curve.X[i]); ys.Add(curve.Y[i]); }
        return (xs.ToArray(), ys.ToArray());
    }

    /// <summary>Per-run outcome file; its presence marks the run finished.</summary>
    public const string ResultFileName = "result.json";

    private static void WriteResult(string path, LearningRun run)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, System.Text.Json.JsonSerializer.Serialize(run));
        File.Move(temp, path, overwrite: true);
    }

    private static LearningRun? TryReadResult(string path)
    {
        if (!File.Exists(path)) return null;
        try { return System.Text.Json.JsonSerializer.Deserialize<LearningRun>(File.ReadAllText(path)); }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException) { return null; } // damaged: train it again
    }

    /// <summary>
    /// Markdown, one table per algorithm: a row per task with mean ± std of the scores over seeds, the published
    /// target and whether it is met.
    /// </summary>
    public static string MarkdownTable(IReadOnlyList<LearningRun> runs)
    {
        var sb = new StringBuilder();
        var byAlgorithm = runs.GroupBy(r => r.AlgorithmName).ToList();
        foreach (var a in byAlgorithm)
        {
            if (byAlgorithm.Count > 1) sb.AppendLine(CultureInfo.InvariantCulture, $"**{a.Key}**\n");
            bool evals = a.Any(r => r.EvalScore is not null), periodic = a.Any(r => r.BestPeriodicEval is not null);
            sb.AppendLine("| Task | Seeds | Steps | Score (mean ± std) | Per seed | Target | Met | Steps/s per run |" + (evals ? " Deterministic eval (mean ± std) |" : "")
                + (periodic ? " Best periodic eval (mean ± std) |" : ""));
            sb.AppendLine("|---|---|---|---|---|---|---|---|" + (evals ? "---|" : "") + (periodic ? "---|" : ""));
            foreach (var g in a.GroupBy(r => r.EnvId))
            {
                var (mean, std, scores) = Stats(g);
                bool hasTarget = TryGetTarget(a.Key, g.Key, out double target);
                string met = hasTarget ? (mean >= target ? "yes" : "no") : "–";
                sb.Append(CultureInfo.InvariantCulture, $"| {g.Key} | {scores.Length} | {g.Max(r => r.Steps):N0} | {mean:F1} ± {std:F1} | {string.Join(", ", scores.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))} | {(hasTarget ? target.ToString(CultureInfo.InvariantCulture) : "–")} | {met} | {g.Average(r => r.Sps):N0} |");
                sb.AppendLine((evals ? EvalCell(g.Select(r => r.EvalScore)) : "") + (periodic ? EvalCell(g.Select(r => r.BestPeriodicEval)) : ""));
            }
            sb.AppendLine();
        }
        return sb.ToString().TrimEnd() + "\n";
    }

    /// <summary>
    /// Markdown: the algorithms side by side (the PPO paper's Figure 3 comparison as final scores), a row per task,
    /// a column per algorithm with mean ± std over seeds; the best mean of the row in bold.
    /// </summary>
    public static string SideBySideTable(IReadOnlyList<LearningRun> runs)
    {
        var algorithms = runs.Select(r => r.AlgorithmName).Distinct().ToList();
        var sb = new StringBuilder();
        sb.AppendLine("| Task | " + string.Join(" | ", algorithms.Select(a => a.ToUpperInvariant())) + " |");
        sb.AppendLine("|---|" + string.Concat(algorithms.Select(_ => "---|")));
        foreach (var task in runs.Select(r => r.EnvId).Distinct())
        {
            var cells = algorithms.Select(a => runs.Where(r => r.AlgorithmName == a && r.EnvId == task).ToList())
                .Select(g => g.Count == 0 ? ((double Mean, double Std, double[] Scores)?)null : Stats(g)).ToList();
            double best = cells.Where(c => c is not null).Select(c => c!.Value.Mean).DefaultIfEmpty(double.NaN).Max();
            sb.Append(CultureInfo.InvariantCulture, $"| {task} |");
            foreach (var c in cells)
            {
                if (c is not { } v) { sb.Append(" – |"); continue; }
                string text = string.Create(CultureInfo.InvariantCulture, $"{v.Mean:F1} ± {v.Std:F1} ({v.Scores.Length})");
                sb.Append(v.Mean == best && cells.Count > 1 ? $" **{text}** |" : $" {text} |");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string EvalCell(IEnumerable<double?> scores)
    {
        var e = scores.Where(x => x is not null).Select(x => x!.Value).ToArray();
        if (e.Length == 0) return " – |";
        double mean = e.Average(), std = Math.Sqrt(e.Sum(x => (x - mean) * (x - mean)) / e.Length);
        return string.Create(CultureInfo.InvariantCulture, $" {mean:F1} ± {std:F1} ({e.Length}) |");
    }

    private static (double Mean, double Std, double[] Scores) Stats(IEnumerable<LearningRun> runs)
    {
        var scores = runs.Select(r => r.Score).ToArray();
        double mean = scores.Average();
        double std = Math.Sqrt(scores.Sum(x => (x - mean) * (x - mean)) / scores.Length);
        return (mean, std, scores);
    }

    /// <summary>
    /// One SVG per task. With one algorithm: each seed's learning curve (mean return of the last 100 episodes vs steps).
    /// With several: one curve per algorithm, the mean over its seeds on a common grid of steps (each seed's curve
    /// interpolated linearly, no extrapolation: a grid point counts only seeds whose curve covers it).
    /// </summary>
    public static IReadOnlyList<string> WritePlots(IReadOnlyList<LearningRun> runs, string directory)
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        bool several = runs.Select(r => r.AlgorithmName).Distinct().Count() > 1;
        foreach (var g in runs.GroupBy(r => r.EnvId))
        {
            var curves = several
                ? g.GroupBy(r => r.AlgorithmName).Select(a => MeanCurve(a.Key.ToUpperInvariant() + $" ({a.Count()} seeds)", a.ToList())).Where(c => c.Count > 0).ToList()
                : g.Select(r => new LearningCurve($"seed {r.Seed}", r.CurveSteps, r.CurveReturns)).ToList();
            string svg = LearningCurvePlot.RenderSvg(curves, new PlotOptions { Title = $"{g.Key}", YLabel = "mean return (last 100 episodes)" });
            string path = Path.Combine(directory, $"{g.Key}.svg");
            File.WriteAllText(path, svg);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>The mean over seeds of their curves, on 200 evenly spaced steps up to the longest curve.</summary>
    public static LearningCurve MeanCurve(string name, IReadOnlyList<LearningRun> seeds, int points = 200)
    {
        var curves = seeds.Where(r => r.CurveSteps.Length > 0).ToList();
        if (curves.Count == 0) return new LearningCurve(name, [], []);
        double end = curves.Max(r => r.CurveSteps[^1]);
        var xs = new List<double>();
        var ys = new List<double>();
        for (int p = 1; p <= points; p++)
        {
            double x = end * p / points, sum = 0;
            int n = 0;
            foreach (var r in curves)
            {
                if (x < r.CurveSteps[0] || x > r.CurveSteps[^1]) continue;
                sum += Interpolate(r.CurveSteps, r.CurveReturns, x);
                n++;
            }
            if (n > 0) { xs.Add(x); ys.Add(sum / n); }
        }
        return new LearningCurve(name, xs.ToArray(), ys.ToArray());
    }

    /// <summary>Linear interpolation of (xs, ys) at x, for xs ascending and x within [xs[0], xs[^1]].</summary>
    internal static double Interpolate(double[] xs, double[] ys, double x)
    {
        int i = Array.BinarySearch(xs, x);
        if (i >= 0) return ys[i];
        i = ~i; // first index with xs[i] > x; x > xs[0] so i ≥ 1
        double t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
        return ys[i - 1] + t * (ys[i] - ys[i - 1]);
    }
}
