using System.Diagnostics;
using System.Globalization;
using System.Text;
using Proximal.Algorithms;
using Proximal.Algorithms.Registry;
using Proximal.Common.Callbacks;
using Proximal.Training.Logging;
using Proximal.Training.Plotting;

namespace Proximal.Training.Benchmarks;

/// <summary>One training run of the learning benchmark.</summary>
public sealed record LearningRun(string EnvId, long Seed, long Steps, double Score, double Seconds, double Sps, double[] CurveSteps, double[] CurveReturns);

/// <summary>What to run: tasks × seeds, each with its config (steps overridable), on this many cores at once.</summary>
/// <remarks>Seeds run from <see cref="SeedStart"/> to SeedStart + Seeds − 1. A run whose <c>result.json</c> exists in the output
/// folder is read back rather than trained again, so an interrupted benchmark continues where it stopped.</remarks>
public sealed record LearningBenchmarkPlan(IReadOnlyList<string> Tasks, int Seeds, long? Steps, int Parallelism, string OutputDirectory, Func<string, AlgorithmOptions> ConfigFor)
{
    /// <summary>Registry name of the algorithm every run trains.</summary>
    public string Algorithm { get; init; } = "ppo";
    public long SeedStart { get; init; } = 1;
}

/// <summary>
/// PPO learning benchmark: trains every task × seed (independent runs in parallel over cores) and scores
/// each run as the mean return of its last 100 training episodes — the PPO paper's and CleanRL's protocol.
/// Writes each run's progress.csv, a Markdown table (mean ± std over seeds) and one SVG plot per task.
/// </summary>
public static class LearningBenchmark
{
    /// <summary>Mean scores at 1M steps that published PPO implementations reach (the targets of issue 5).</summary>
    public static readonly IReadOnlyDictionary<string, double> PublishedTargets = new Dictionary<string, double>
    {
        ["Hopper-v4"] = 2300, ["HalfCheetah-v4"] = 1600, ["Walker2d-v4"] = 2300, ["InvertedPendulum-v4"] = 900,
        ["InvertedDoublePendulum-v4"] = 7000, ["Reacher-v4"] = -7, ["Swimmer-v4"] = 100,
    };

    public static IReadOnlyList<LearningRun> Run(LearningBenchmarkPlan plan, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Tasks.Count == 0) throw new ArgumentException("The learning benchmark needs at least one task.", nameof(plan));
        if (plan.Seeds <= 0) throw new ArgumentOutOfRangeException(nameof(plan), plan.Seeds, "seeds must be > 0.");
        if (plan.Parallelism <= 0) throw new ArgumentOutOfRangeException(nameof(plan), plan.Parallelism, "parallelism must be > 0.");
        Directory.CreateDirectory(plan.OutputDirectory);
        var jobs = (from task in plan.Tasks from seed in Enumerable.Range(0, plan.Seeds) select (task, seed: plan.SeedStart + seed)).ToList();
        var runs = new LearningRun[jobs.Count];
        var lockLog = new object();
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = plan.Parallelism }, j =>
        {
            var (task, seed) = jobs[j];
            var options = plan.ConfigFor(task).Clone();
            options.Seed = seed;
            if (plan.Steps is { } s) options.TotalSteps = s;
            options.TrainThreads = 1; // parallelism comes from independent runs
            string dir = Path.Combine(plan.OutputDirectory, "runs", $"{task}__seed{seed}");
            Directory.CreateDirectory(dir);
            string resultPath = Path.Combine(dir, ResultFileName);
            if (TryReadResult(resultPath) is { } done && done.Steps >= options.TotalSteps)
            {
                runs[j] = done;
                lock (lockLog) log?.Invoke($"{task} seed {seed}: finished earlier (score {done.Score:F1}), skipped");
                return;
            }
            var xs = new List<double>();
            var ys = new List<double>();
            var clock = Stopwatch.StartNew();
            using (var csv = new CsvLogger(Path.Combine(dir, "progress.csv")))
            using (var ppo = AlgorithmRegistry.Create(plan.Algorithm, task, options))
            {
                ppo.Learn(options.TotalSteps, [new LambdaCallback((agent, metrics) =>
                {
                    csv.Write(agent.NumTimesteps, (IReadOnlyDictionary<string, double>)metrics);
                    double r = metrics["rollout/episode_return_mean"];
                    if (double.IsFinite(r)) { xs.Add(agent.NumTimesteps); ys.Add(r); }
                    return true;
                })]);
                double score = ppo.Metrics["rollout/episode_return_mean"];
                runs[j] = new LearningRun(task, seed, ppo.NumTimesteps, score, clock.Elapsed.TotalSeconds, ppo.NumTimesteps / clock.Elapsed.TotalSeconds, xs.ToArray(), ys.ToArray());
            }
            WriteResult(resultPath, runs[j]);
            lock (lockLog) log?.Invoke($"{task} seed {seed}: score {runs[j].Score:F1} after {runs[j].Steps:N0} steps in {runs[j].Seconds:F0} s ({runs[j].Sps:F0} steps/s)");
        });
        return runs;
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

    /// <summary>Markdown: one row per task with mean ± std of the scores over seeds, the published target, and whether it is met.</summary>
    public static string MarkdownTable(IReadOnlyList<LearningRun> runs)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| Task | Seeds | Steps | Score (mean ± std) | Per seed | Target | Met | Steps/s per run |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var g in runs.GroupBy(r => r.EnvId))
        {
            var scores = g.Select(r => r.Score).ToArray();
            double mean = scores.Average();
            double std = Math.Sqrt(scores.Sum(x => (x - mean) * (x - mean)) / scores.Length);
            bool hasTarget = PublishedTargets.TryGetValue(g.Key, out double target);
            string met = hasTarget ? (mean >= target ? "yes" : "no") : "–";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {g.Key} | {scores.Length} | {g.Max(r => r.Steps):N0} | {mean:F1} ± {std:F1} | {string.Join(", ", scores.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))} | {(hasTarget ? target.ToString(CultureInfo.InvariantCulture) : "–")} | {met} | {g.Average(r => r.Sps):N0} |");
        }
        return sb.ToString();
    }

    /// <summary>One SVG per task: the seeds' learning curves (mean return of the last 100 episodes vs steps).</summary>
    public static IReadOnlyList<string> WritePlots(IReadOnlyList<LearningRun> runs, string directory)
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var g in runs.GroupBy(r => r.EnvId))
        {
            var curves = g.Select(r => new LearningCurve($"seed {r.Seed}", r.CurveSteps, r.CurveReturns)).ToList();
            string svg = LearningCurvePlot.RenderSvg(curves, new PlotOptions { Title = $"{g.Key}", YLabel = "mean return (last 100 episodes)" });
            string path = Path.Combine(directory, $"{g.Key}.svg");
            File.WriteAllText(path, svg);
            paths.Add(path);
        }
        return paths;
    }
}
