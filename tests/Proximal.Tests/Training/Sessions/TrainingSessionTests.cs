using Proximal.Algorithms;
using Proximal.Algorithms.Registry;
using System.Text.Json.Nodes;
using Proximal.Algorithms.OnPolicy;
using Proximal.Envs;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Training.Logging;
using Proximal.Common.Persistence;
using Proximal.Training.Runs;
using Proximal.Training.Sessions;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Training.Sessions;

public sealed class TrainingSessionTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    // 4 envs × 64 steps = 256 samples per update: 16 updates in 4096 steps, fast enough for a unit test.
    private static PpoOptions Small() => ConfigBinder.Parse<PpoOptions>("""
        n_envs: 4
        n_steps: 64
        minibatch_size: 128
        n_epochs: 2
        learning_rate: 0.001
        anneal_lr: true
        gamma: 0.98
        policy: {hidden_sizes: [32, 32]}
        seed: 7
        total_steps: 4096
        """);

    private static TrainingSessionSettings Settings(PpoOptions? options = null) => new()
    {
        EnvId = "CartPole-v1",
        Options = options ?? Small(),
        EvalEvery = 1024,
        EvalEpisodes = 5,
        CheckpointEvery = 1024,
        CommandLine = "proximal train --algo ppo --env CartPole-v1",
    };

    [Fact]
    public void ShortRunWritesConfigProgressTensorBoardCheckpointsModelAndCurve()
    {
        var options = Small();
        using var session = TrainingSession.Create(Settings(options));
        var run = RunDirectory.CreateAt(Path.Combine(_dir, "run"));
        var reports = new List<TrainingProgress>();
        var result = session.Run(run, new SyncProgress(reports.Add));

        Assert.False(result.Cancelled);
        Assert.Equal(4096, result.Steps);

        // config.yaml: header names env, algo and seed; the body binds back to exactly the same options.
        string configText = File.ReadAllText(run.ConfigPath);
        Assert.Contains("# env: CartPole-v1", configText);
        Assert.Contains("# algo: ppo", configText);
        Assert.Contains("seed: 7", configText);
        var reloaded = ConfigBinder.Load<PpoOptions>(run.ConfigPath);
        Assert.Equal(ConfigWriter.ToYaml(options), ConfigWriter.ToYaml(reloaded));

        // progress.csv: one row per update, step = NumTimesteps, the PPO diagnostics as columns, eval only on eval rows.
        var table = CsvTable.Read(run.ProgressCsvPath);
        Assert.Equal(CsvLogger.StepColumn, table.Columns[0]);
        foreach (var column in new[] { "train/policy_loss", "train/value_loss", "train/entropy", "train/approx_kl", "train/clip_fraction",
                     "train/explained_variance", "time/sps", "rollout/episode_return_mean", "eval/mean_return", "eval/std_return" })
            Assert.Contains(column, table.Columns);
        Assert.Equal(16, table.Rows.Count);
        Assert.Equal(Enumerable.Range(1, 16).Select(i => 256.0 * i), table.GetDoubles("step"));
        var evalColumn = table.GetDoubles("eval/mean_return");
        var evalRows = Enumerable.Range(0, 16).Where(i => !double.IsNaN(evalColumn[i])).Select(i => (long)table.GetDoubles("step")[i]);
        Assert.Equal(new long[] { 1024, 2048, 3072, 4096 }, evalRows);

        // TensorBoard: one event file with records beyond the version header.
        var events = Directory.GetFiles(run.TensorBoardDirectory, "events.out.tfevents.*");
        Assert.Single(events);
        Assert.True(new FileInfo(events[0]).Length > 1000);

        // Checkpoints at every 1024 steps, each a loadable model at that step.
        Assert.Equal(new[] { 1024L, 2048, 3072, 4096 }.Select(run.CheckpointPath), result.Checkpoints);
        using (var cp = Ppo.Load(run.CheckpointPath(2048))) Assert.Equal(2048, cp.NumTimesteps);

        // The final evaluation is the one taken at the last step; the model loads and evaluates the same way.
        Assert.NotNull(result.FinalEvaluation);
        Assert.Equal(4096, result.FinalEvaluationStep);
        Assert.Equal(5, result.FinalEvaluation!.Returns.Length);
        using (var model = Ppo.Load(run.ModelPath))
        {
            Assert.Equal(4096, model.NumTimesteps);
            Assert.Equal("CartPole-v1", model.EnvId);
            using var evalEnv = Ppo.BuildEnv("CartPole-v1", model.Options, forEvaluation: true, numEnvs: TrainingSession.MaxEvalEnvs);
            Evaluation.SyncNormalization(model.Env, evalEnv);
            var again = Evaluation.Evaluate(model, evalEnv, 5, deterministic: true, seed: 12345);
            Assert.Equal(result.FinalEvaluation.Returns, again.Returns);
        }

        Assert.NotNull(result.CurvePath);
        Assert.Contains("<polyline", File.ReadAllText(result.CurvePath!));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Path, TrainingSession.SummaryFileName)))!;
        Assert.Equal(4096, summary["steps"]!.GetValue<long>());
        Assert.Equal(result.FinalEvaluation.MeanReturn, summary["final_evaluation"]!["mean_return"]!.GetValue<double>());

        // Progress: once per update plus once at the end, steps rising to the target, evaluations flagged.
        Assert.Equal(17, reports.Count);
        Assert.Equal(256, reports[0].Steps);
        Assert.All(reports, r => Assert.Equal(4096, r.TargetSteps));
        Assert.Equal(1.0, reports[^1].Fraction);
        Assert.Equal(4, reports.Count(r => r.EvaluatedThisIteration));
        Assert.True(reports[^1].StepsPerSecond > 0);
        Assert.Equal(result.FinalEvaluation, reports[^1].LastEvaluation);
    }

    [Fact]
    public void CancellationAfterTheFirstUpdateStillSavesTheModel()
    {
        using var session = TrainingSession.Create(Settings() with { CheckpointEvery = 0 });
        var run = RunDirectory.CreateAt(Path.Combine(_dir, "cancelled"));
        using var cts = new CancellationTokenSource();
        var result = session.Run(run, new SyncProgress(_ => cts.Cancel()), cts.Token);

        Assert.True(result.Cancelled);
        Assert.Equal(256, result.Steps);
        Assert.Null(result.FinalEvaluation); // no evaluation had happened yet, and none is run after Ctrl-C
        Assert.Single(CsvTable.Read(run.ProgressCsvPath).Rows);
        using var model = Ppo.Load(run.ModelPath);
        Assert.Equal(256, model.NumTimesteps);
        Assert.True(JsonNode.Parse(File.ReadAllText(Path.Combine(run.Path, TrainingSession.SummaryFileName)))!["cancelled"]!.GetValue<bool>());
    }

    [Fact]
    public void ResumeContinuesFromTheModelIntoANewRunDirectory()
    {
        // A run planned for 4096 steps (total_steps), interrupted after 1024.
        string first;
        using var cts = new CancellationTokenSource();
        using (var session = TrainingSession.Create(Settings() with { EvalEvery = 0, CheckpointEvery = 0, FinalEvaluation = false }))
            first = session.Run(RunDirectory.CreateAt(Path.Combine(_dir, "first")),
                new SyncProgress(p => { if (p.Steps >= 1024) cts.Cancel(); }), cts.Token).ModelPath;

        using var resumed = TrainingSession.Create(new TrainingSessionSettings { ResumeFrom = first, EnvId = "CartPole-v1", FinalEvaluation = false, EvalEvery = 0 });
        Assert.Equal(1024, resumed.ResumedAtStep);
        Assert.Equal(4096 - 1024, resumed.StepsToTrain); // what is left of the saved schedule
        Assert.Equal(ScheduleMode.Continue, resumed.ScheduleMode);
        Assert.StartsWith("schedule: continuing the saved one — learning_rate 0.00075 now, linearly to 0 at step 4,096", resumed.ScheduleNote);
        Assert.Null(resumed.EvalEvery);
        Assert.Equal(768, resumed.CheckpointEvery);     // default: a quarter of the session
        var run = RunDirectory.CreateAt(Path.Combine(_dir, "second"));
        var result = resumed.Run(run);
        Assert.Equal(4096, result.Steps);
        Assert.Equal(3072, result.StepsThisSession);
        Assert.Contains("# resumed from: " + Path.GetFullPath(first) + " (at step 1024)", File.ReadAllText(run.ConfigPath));
        Assert.Equal(1024 + 256, CsvTable.Read(run.ProgressCsvPath).GetDoubles("step")[0]);

        // Bit-identical to training 4096 steps in one go (the model stores the full state, schedule included).
        using var straight = Ppo.Create("CartPole-v1", Small());
        straight.Learn(4096);
        using var model = Ppo.Load(run.ModelPath);
        Assert.Equal(straight.Policy.Parameters.Values, model.Policy.Parameters.Values);

        // The schedule is finished: nothing to train without an explicit step count ...
        var e = Assert.Throws<ConfigException>(() => TrainingSession.Create(new TrainingSessionSettings { ResumeFrom = run.ModelPath }));
        Assert.Contains("has finished its planned 4,096 steps (at step 4,096); give the number of further steps with --steps", e.Message);
        // ... and with one, a new schedule from the full learning rate, never a run at learning rate 0.
        using (var more = TrainingSession.Create(new TrainingSessionSettings { ResumeFrom = run.ModelPath, Steps = 512, EvalEvery = 0, CheckpointEvery = 0, FinalEvaluation = false }))
        {
            Assert.Equal(ScheduleMode.New, more.ScheduleMode);
            Assert.Contains("new — learning_rate 0.001 annealed linearly to 0 over these 512 steps", more.ScheduleNote);
            more.Run(RunDirectory.CreateAt(Path.Combine(_dir, "third")));
            var lr = CsvTable.Read(Path.Combine(_dir, "third", "progress.csv")).GetDoubles("train/learning_rate");
            Assert.Equal(0.001, lr[0], 12);   // the first update of the new schedule runs at the full rate
            Assert.True(lr[^1] > 0);          // and the last one still above 0
        }
        var wrongEnv = Assert.Throws<ArgumentException>(() => TrainingSession.Create(new TrainingSessionSettings { ResumeFrom = first, EnvId = "Pendulum-v1" }));
        Assert.Contains("was trained on 'CartPole-v1', not 'Pendulum-v1'", wrongEnv.Message);
    }

    [Fact]
    public void ResumeWithANewLearningRateStartsANewScheduleAndRefusesStructuralChanges()
    {
        string first;
        using var cts = new CancellationTokenSource();
        using (var session = TrainingSession.Create(Settings() with { EvalEvery = 0, CheckpointEvery = 0, FinalEvaluation = false }))
            first = session.Run(RunDirectory.CreateAt(Path.Combine(_dir, "first")),
                new SyncProgress(p => { if (p.Steps >= 1024) cts.Cancel(); }), cts.Token).ModelPath;

        using (var changed = TrainingSession.Create(new TrainingSessionSettings { ResumeFrom = first, Steps = 512, ResumeOverrides = ["learning_rate=0.0005"] }))
        {
            Assert.Equal(ScheduleMode.New, changed.ScheduleMode);
            Assert.Equal(0.0005, changed.Options.LearningRate);
            Assert.Contains("new — learning_rate 0.0005 annealed linearly to 0 over these 512 steps (learning_rate/anneal_lr changed)", changed.ScheduleNote);
        }
        var structural = Assert.Throws<ConfigException>(() => TrainingSession.Create(new TrainingSessionSettings { ResumeFrom = first, ResumeOverrides = ["n_steps=32"] }));
        Assert.Contains("'n_steps' cannot change when resuming", structural.Message);
        var wrongAlgo = Assert.Throws<UnknownAlgorithmException>(() => TrainingSession.Create(new TrainingSessionSettings { ResumeFrom = first, Algorithm = "ppp" }));
        Assert.Contains("unknown algorithm 'ppp'; available: " + string.Join(", ", AlgorithmRegistry.Names) + " (did you mean ppo?)", wrongAlgo.Message);
    }

    [Fact]
    public void BadRequestsFailBeforeAnythingIsWritten()
    {
        var unknown = Assert.Throws<UnknownEnvException>(() => TrainingSession.Create(Settings() with { EnvId = "CartPol-v1" }));
        Assert.Contains("CartPole-v1", unknown.Message);
        var bad = Small();
        bad.MinibatchSize = 100;
        var config = Assert.Throws<ConfigException>(() => TrainingSession.Create(Settings(bad)));
        Assert.Contains("minibatch_size 100", config.Message);
        var missing = Assert.Throws<ModelFileException>(() => TrainingSession.Create(new TrainingSessionSettings { ResumeFrom = Path.Combine(_dir, "none.zip") }));
        Assert.Contains("does not exist", missing.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingSession.Create(Settings() with { EvalEpisodes = 0 }));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
