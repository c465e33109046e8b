using System.Text.Json.Nodes;
using Proximal.Algorithms.OnPolicy;
using Proximal.Common.Config;
using Proximal.Training.Logging;
using Proximal.Training.Runs;
using Proximal.Training.Sessions;

namespace Proximal.Tests.Training.Sessions;

/// <summary>progress.csv, TensorBoard and summary.json tell the same story (issue 8: logs disagree).</summary>
public sealed class TrainingSessionLogTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private static PpoOptions Small() => ConfigBinder.Parse<PpoOptions>("""
        n_envs: 4
        n_steps: 64
        minibatch_size: 128
        n_epochs: 2
        policy: {hidden_sizes: [16]}
        seed: 3
        total_steps: 1024
        """);

    [Fact]
    public void WithOnlyTheFinalEvaluationProgressCsvGetsItAndEveryRowHasElapsedSeconds()
    {
        using var session = TrainingSession.Create(new TrainingSessionSettings
        {
            EnvId = "CartPole-v1", Options = Small(), EvalEvery = 0, EvalEpisodes = 3, CheckpointEvery = 0,
        });
        var run = RunDirectory.CreateAt(Path.Combine(_dir, "run"));
        var result = session.Run(run);

        var table = CsvTable.Read(run.ProgressCsvPath);
        // 4 updates, then the closing row with the final evaluation at the same step.
        Assert.Equal(5, table.Rows.Count);
        var steps = table.GetDoubles("step");
        Assert.Equal(1024, steps[^1]);
        Assert.Equal(steps[^2], steps[^1]);
        var evalMean = table.GetDoubles("eval/mean_return");
        Assert.All(evalMean[..^1], v => Assert.True(double.IsNaN(v)));
        Assert.Equal(result.FinalEvaluation!.MeanReturn, evalMean[^1]);
        Assert.Equal(result.FinalEvaluation.StdReturn, table.GetDoubles("eval/std_return")[^1]);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Path, TrainingSession.SummaryFileName)))!;
        Assert.Equal(summary["final_evaluation"]!["mean_return"]!.GetValue<double>(), evalMean[^1]);

        // Wall-clock seconds since the run started, on every row, never decreasing, within the run's own duration.
        var elapsed = table.GetDoubles(TrainingSession.ElapsedColumn);
        Assert.All(elapsed, v => Assert.True(double.IsFinite(v) && v >= 0));
        for (int i = 1; i < elapsed.Length; i++) Assert.True(elapsed[i] >= elapsed[i - 1]);
        Assert.True(elapsed[^1] <= result.Elapsed.TotalSeconds);
    }

    [Fact]
    public void OffPolicyRunsWriteARowEvery100StepsPlusEvaluationsAndTheLastStep()
    {
        var o = new Proximal.Algorithms.OffPolicy.SacOptions { HiddenSizes = [16, 16], BatchSize = 32, LearningStarts = 100, BufferSize = 1000, Seed = 3, TotalSteps = 450 };
        using var session = TrainingSession.Create(new TrainingSessionSettings
        {
            Algorithm = "sac", EnvId = "Pendulum-v1", Options = o, EvalEvery = 250, EvalEpisodes = 1, CheckpointEvery = 0,
        });
        var run = RunDirectory.CreateAt(Path.Combine(_dir, "sac"));
        session.Run(run);
        var table = CsvTable.Read(run.ProgressCsvPath);
        var steps = table.GetDoubles("step");
        var evalMean = table.GetDoubles("eval/mean_return");
        // Every 100 steps; the evaluation at 250 in a row of its own; the last step, then its final evaluation.
        Assert.Equal(new double[] { 100, 200, 250, 350, 450, 450 }, steps);
        Assert.True(double.IsFinite(evalMean[2]) && double.IsFinite(evalMean[^1]));
        Assert.All(new[] { evalMean[0], evalMean[1], evalMean[3], evalMean[4] }, v => Assert.True(double.IsNaN(v)));

        using var everyStep = TrainingSession.Create(new TrainingSessionSettings
        {
            Algorithm = "sac", EnvId = "Pendulum-v1", Options = o, EvalEvery = 0, FinalEvaluation = false, CheckpointEvery = 0, LogEverySteps = 1,
        });
        var run1 = RunDirectory.CreateAt(Path.Combine(_dir, "sac1"));
        everyStep.Run(run1);
        Assert.Equal(450, CsvTable.Read(run1.ProgressCsvPath).Rows.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingSession.Create(new TrainingSessionSettings
        {
            Algorithm = "sac", EnvId = "Pendulum-v1", Options = o, LogEverySteps = 0,
        }));
    }
}
