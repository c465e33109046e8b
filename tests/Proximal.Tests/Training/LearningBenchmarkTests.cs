using System.Xml.Linq;
using Proximal.Algorithms.OnPolicy;
using Proximal.Training.Benchmarks;

namespace Proximal.Tests.Training;

public class LearningBenchmarkTests
{
    [Fact]
    public void RunsTaskBySeedAndWritesTableCsvAndPlots()
    {
        string dir = Directory.CreateTempSubdirectory("proximal-learnbench-").FullName;
        try
        {
            var plan = new LearningBenchmarkPlan(["CartPole-v1"], Seeds: 2, Steps: 2048, Parallelism: 2, dir,
                _ => new PpoOptions { NEnvs = 2, NSteps = 128, MinibatchSize = 64, NEpochs = 2 });
            var runs = LearningBenchmark.Run(plan);
            Assert.Equal(2, runs.Count);
            Assert.Equal(new long[] { 1, 2 }, runs.Select(r => r.Seed).Order().ToArray());
            Assert.All(runs, r => { Assert.Equal(2048, r.Steps); Assert.True(r.Score > 0); Assert.NotEmpty(r.CurveReturns); });
            Assert.True(File.Exists(Path.Combine(dir, "runs", "CartPole-v1__seed1", "progress.csv")));

            string table = LearningBenchmark.MarkdownTable(runs);
            double mean = runs.Average(r => r.Score);
            Assert.Contains($"| CartPole-v1 | 2 | 2,048 | {mean:F1} ±", table);

            var plots = LearningBenchmark.WritePlots(runs, Path.Combine(dir, "plots"));
            var svg = XDocument.Load(Assert.Single(plots));
            Assert.Equal(2, svg.Descendants().Count(e => e.Name.LocalName == "polyline"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
