using System.Xml.Linq;
using Proximal.Algorithms.OnPolicy;
using Proximal.Training.Benchmarks;
using Proximal.Training.Plotting;

namespace Proximal.Tests.Training;

public class LearningBenchmarkTests
{
    [Fact]
    public void RunsTaskBySeedAndWritesTableCsvAndPlots()
    {
        string dir = Directory.CreateTempSubdirectory("proximal-learnbench-").FullName;
        try
        {
            static PpoOptions Options() => new() { NEnvs = 2, NSteps = 128, MinibatchSize = 64, NEpochs = 2 };
            var plan = new LearningBenchmarkPlan(["CartPole-v1"], Seeds: 2, Steps: 2048, Parallelism: 2, dir, (_, _) => Options()) { EvalEpisodes = 3 };
            var runs = LearningBenchmark.Run(plan);
            Assert.Equal(2, runs.Count);
            Assert.Equal(new long[] { 1, 2 }, runs.Select(r => r.Seed).Order().ToArray());
            // Each run's score is the final mean episode return of PPO trained with that run's seed for the
            // planned steps: recomputed here by training the same configuration directly (runs are
            // deterministic for a seed and one train thread), so a score from the wrong seed, the wrong
            // metric, the wrong step count or the wrong moment of the run does not pass.
            foreach (var r in runs)
            {
                var o = Options(); o.Seed = r.Seed; o.TotalSteps = 2048; o.TrainThreads = 1;
                using var direct = Ppo.Create("CartPole-v1", o);
                direct.Learn(2048);
                Assert.Equal(2048, r.Steps);
                Assert.True(double.IsFinite(r.Score), $"seed {r.Seed}: score {r.Score}");
                Assert.Equal(direct.Metrics["rollout/episode_return_mean"], r.Score);
                // The deterministic evaluation: 3 episodes of the trained policy on a fresh evaluation env (seed 12345).
                using (var evalEnv = Proximal.Algorithms.BaseAlgorithm.BuildEnv("CartPole-v1", o, forEvaluation: true))
                {
                    Proximal.Common.Callbacks.Evaluation.SyncNormalization(direct.Env, evalEnv);
                    Assert.Equal(Proximal.Common.Callbacks.Evaluation.Evaluate(direct, evalEnv, 3, deterministic: true, seed: 12345).MeanReturn, r.EvalScore);
                }
                Assert.NotEmpty(r.CurveReturns);
                Assert.Equal(r.Score, r.CurveReturns[^1]);
            }
            Assert.True(File.Exists(Path.Combine(dir, "runs", "CartPole-v1__ppo__seed1", "progress.csv")));

            string table = LearningBenchmark.MarkdownTable(runs);
            Assert.Contains("Deterministic eval", table);
            double mean = runs.Average(r => r.Score);
            Assert.Contains($"| CartPole-v1 | 2 | 2,048 | {mean:F1} ±", table);

            var plots = LearningBenchmark.WritePlots(runs, Path.Combine(dir, "plots"));
            var svg = XDocument.Load(Assert.Single(plots));
            Assert.Equal(2, svg.Descendants().Count(e => e.Name.LocalName == "polyline"));
        }
        finally { Directory.Delete(dir, true); }
    }

    private static PpoOptions Small() => new() { NEnvs = 2, NSteps = 128, MinibatchSize = 64, NEpochs = 2 };

    [Fact]
    public void PeriodicEvaluationsAreLoggedReportedAtTheirBestAndLeaveTrainingAlone()
    {
        string dir = Directory.CreateTempSubdirectory("proximal-learnbench-eval-").FullName;
        try
        {
            var plain = LearningBenchmark.Run(new LearningBenchmarkPlan(["CartPole-v1"], Seeds: 1, Steps: 2048, Parallelism: 1, Path.Combine(dir, "plain"), (_, _) => Small()));
            var plan = new LearningBenchmarkPlan(["CartPole-v1"], Seeds: 1, Steps: 2048, Parallelism: 1, Path.Combine(dir, "eval"), (_, _) => Small())
                { EvalEvery = 512, EvalEpisodes = 2 };
            var run = Assert.Single(LearningBenchmark.Run(plan));
            // Training is the same run with or without evaluations (their env and generator are their own).
            Assert.Equal(Assert.Single(plain).Score, run.Score);
            Assert.Null(Assert.Single(plain).BestPeriodicEval);

            // An evaluation at each multiple of 512 steps (updates end every 256 steps): progress.csv has no value
            // before 512, and every row carries the latest evaluation's; the reported best is their maximum.
            var table = Proximal.Training.Logging.CsvTable.Read(Path.Combine(dir, "eval", "runs", "CartPole-v1__ppo__seed1", "progress.csv"));
            var steps = table.GetDoubles("step");
            var evals = table.GetDoubles(LearningBenchmark.EvalMetric);
            Assert.Equal(8, steps.Length);
            for (int i = 0; i < steps.Length; i++)
            {
                if (steps[i] < 512) { Assert.False(double.IsFinite(evals[i])); continue; }
                if (steps[i] % 512 != 0) Assert.Equal(evals[i - 1], evals[i]); // no evaluation between multiples
            }
            Assert.Equal(evals.Where(double.IsFinite).Max(), run.BestPeriodicEval);
            Assert.Contains("Best periodic eval", LearningBenchmark.MarkdownTable([run]));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AnInterruptedRunContinuesFromItsCheckpointToTheSameResultAsAnUninterruptedOne()
    {
        string whole = Directory.CreateTempSubdirectory("proximal-learnbench-whole-").FullName;
        string cut = Directory.CreateTempSubdirectory("proximal-learnbench-cut-").FullName;
        try
        {
            LearningBenchmarkPlan Plan(string dir) => new(["CartPole-v1"], Seeds: 1, Steps: 4096, Parallelism: 1, dir, (_, _) => Small()) { CheckpointEvery = 1024 };
            var reference = Assert.Single(LearningBenchmark.Run(Plan(whole)));

            // The state the benchmark leaves when a session ends after its checkpoint at step 2048: the checkpoint
            // (saved inside the run's Learn call, so its schedule spans all 4096 steps), the rows logged up to it, and
            // rows logged after it that the resumed run must replace.
            string runDir = LearningBenchmark.RunDirectory(cut, "ppo", "CartPole-v1", 1);
            Directory.CreateDirectory(runDir);
            var o = Small(); o.Seed = 1; o.TotalSteps = 4096; o.TrainThreads = 1;
            using (var agent = Ppo.Create("CartPole-v1", o))
            using (var csv = new Proximal.Training.Logging.CsvLogger(Path.Combine(runDir, "progress.csv")))
            {
                agent.Learn(4096, [new Proximal.Common.Callbacks.LambdaCallback((a, m) =>
                {
                    csv.Write(a.NumTimesteps, (IReadOnlyDictionary<string, double>)m);
                    if (a.NumTimesteps == 2048) agent.Save(Path.Combine(runDir, LearningBenchmark.CheckpointFileName));
                    return a.NumTimesteps < 2560; // the session ends one rollout after the checkpoint
                })]);
            }
            var log = new List<string>();
            // A report midway trains nothing and leaves the unfinished run out.
            Assert.Empty(LearningBenchmark.Run(Plan(cut) with { ReportOnly = true }, log.Add));
            Assert.Contains(log, l => l.Contains("not finished, left out of the report"));
            Assert.True(File.Exists(Path.Combine(runDir, LearningBenchmark.CheckpointFileName)));
            log.Clear();
            var resumed = Assert.Single(LearningBenchmark.Run(Plan(cut), log.Add));

            Assert.Contains(log, l => l.Contains("resuming from its checkpoint at step 2,048"));
            Assert.Equal(reference.Steps, resumed.Steps);
            Assert.Equal(reference.Score, resumed.Score);
            Assert.Equal(reference.CurveSteps, resumed.CurveSteps); // the rows after the checkpoint were not kept twice
            Assert.Equal(reference.CurveReturns, resumed.CurveReturns);
            Assert.False(File.Exists(Path.Combine(runDir, LearningBenchmark.CheckpointFileName))); // finished: result.json stands for it

            // A finished run is read back, not trained again.
            log.Clear();
            var again = Assert.Single(LearningBenchmark.Run(Plan(cut), log.Add));
            Assert.Contains(log, l => l.Contains("finished earlier"));
            Assert.Equal(reference.Score, again.Score);
            Assert.Equal(reference.Score, Assert.Single(LearningBenchmark.Run(Plan(cut) with { ReportOnly = true })).Score);
        }
        finally { Directory.Delete(whole, true); Directory.Delete(cut, true); }
    }

    [Fact]
    public void SeveralAlgorithmsGoSideBySideWithOneMeanCurvePerAlgorithm()
    {
        static LearningRun R(string algo, long seed, double score) =>
            new("Hopper-v4", seed, 1000, score, 1, 1, [0, 500, 1000], [0, score / 2, score], algo);
        var runs = new[] { R("ppo", 1, 2000), R("ppo", 2, 2400), R("trpo", 1, 1000), R("trpo", 2, 3000) };
        string table = LearningBenchmark.SideBySideTable(runs);
        Assert.Contains("| Task | PPO | TRPO |", table);
        Assert.Contains("| Hopper-v4 | 2200.0 ± 200.0 (2) | 2000.0 ± 1000.0 (2) |", table.Replace("**", ""));
        Assert.Contains("**2200.0 ± 200.0 (2)**", table); // the best mean of the row

        // Mean curve: at step 750 each seed's curve interpolates to 3/4 of its score.
        var mean = LearningBenchmark.MeanCurve("ppo", [runs[0], runs[1]], points: 4);
        Assert.Equal(new double[] { 250, 500, 750, 1000 }, mean.X);
        Assert.Equal(0.75 * 2200, mean.Y[2], 9);

        string dir = Directory.CreateTempSubdirectory("proximal-learnbench-plot-").FullName;
        try
        {
            var svg = XDocument.Load(Assert.Single(LearningBenchmark.WritePlots(runs, dir)));
            Assert.Equal(2, svg.Descendants().Count(e => e.Name.LocalName == "polyline")); // one per algorithm, not per seed
        }
        finally { Directory.Delete(dir, true); }

        string perAlgorithm = LearningBenchmark.MarkdownTable(runs);
        Assert.Contains("| Hopper-v4 | 2 | 1,000 | 2000.0 ± 1000.0 | 1000, 3000 | 1913 | yes |", perAlgorithm); // TRPO's Baselines target
    }

    [Fact]
    public void ALongSingleSeedCurveIsPlottedWithAtMostMaxPolylinePoints()
    {
        int n = 5 * LearningCurvePlot.MaxPolylinePoints;
        var steps = Enumerable.Range(1, n).Select(i => (double)i).ToArray();
        var returns = steps.Select(x => 2 * x).ToArray();
        var runs = new[] { new LearningRun("HalfCheetah-v4", 1, n, 2.0 * n, 1, 1, steps, returns, "tqc"),
                           new LearningRun("HalfCheetah-v4", 2, 3, 6, 1, 1, [1, 2, 3], [2, 4, 6], "tqc") };
        string dir = Directory.CreateTempSubdirectory("proximal-learnbench-plot-").FullName;
        try
        {
            var svg = XDocument.Load(Assert.Single(LearningBenchmark.WritePlots(runs, dir)));
            var lines = svg.Descendants().Where(e => e.Name.LocalName == "polyline").ToList();
            Assert.Equal(2, lines.Count); // one per seed
            int[] counts = lines.Select(l => l.Attribute("points")!.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length).OrderBy(c => c).ToArray();
            Assert.Equal(3, counts[0]);                                 // a short curve keeps its points
            Assert.Equal(LearningCurvePlot.MaxPolylinePoints, counts[1]); // the long one is thinned
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(2, 2, 6, 1)]   // two runs at once on two cores: one thread each
    [InlineData(2, 2, 1, 2)]   // a lone run takes both cores for its update
    [InlineData(2, 1, 4, 2)]   // one run at a time
    [InlineData(16, 3, 9, 5)]  // cores left over are not split finer than whole threads
    [InlineData(2, 4, 8, 1)]   // more runs than cores: never fewer than one thread
    public void EachRunsUpdateGetsTheCoresNoOtherRunUses(int cores, int parallelism, int jobs, int expected) =>
        Assert.Equal(expected, LearningBenchmark.RunThreads(cores, parallelism, jobs));
}
