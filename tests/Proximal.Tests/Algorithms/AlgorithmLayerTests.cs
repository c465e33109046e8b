using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Registry;
using Proximal.Common.Callbacks;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;

namespace Proximal.Tests.Algorithms;

/// <summary>The shared algorithm layer: schedules, Predict, the model file's checks, the registry, target_kl.</summary>
public sealed class AlgorithmLayerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proximal-layer-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static PpoOptions Small(long seed = 3) => new()
    {
        NEnvs = 2, NSteps = 64, MinibatchSize = 32, NEpochs = 3, LearningRate = 1e-3, Seed = seed, TotalSteps = 4096,
    };

    // ---------------------------------------------------------------- schedules

    [Fact]
    public void ScheduleFractionsFollowTheirDefinition()
    {
        var s = Schedule.Fresh(100, 400);
        Assert.Equal(1.0, s.FractionAt(100));
        Assert.Equal(0.75, s.FractionAt(200));
        Assert.Equal(0.0, s.FractionAt(500));
        Assert.Equal(0.0, s.FractionAt(900)); // never negative

        Assert.Equal(s, s.For(ScheduleMode.Continue, 200, 300));                  // ends within: unchanged
        var stretched = s.For(ScheduleMode.Continue, 200, 600);                  // ends beyond: 0.75 spread to step 800
        Assert.Equal(new Schedule(200, 0.75, 800), stretched);
        Assert.Equal(0.375, stretched.FractionAt(500));
        Assert.Equal(Schedule.Fresh(500, 50), s.For(ScheduleMode.Continue, 500, 50)); // finished: a new one, never lr 0
        Assert.Equal(Schedule.Fresh(200, 10), s.For(ScheduleMode.New, 200, 10));
    }

    [Fact]
    public void EachLearnCallAnnealsOverItsOwnStepsByDefault()
    {
        var o = Small(); o.AnnealLr = true;
        using var ppo = Ppo.Create("CartPole-v1", o);
        var lrs = new List<double>();
        var record = new LambdaCallback((_, m) => { lrs.Add(m["train/learning_rate"]); return true; });
        ppo.Learn(512, [record]);
        Assert.Equal([1e-3, 0.75e-3, 0.5e-3, 0.25e-3], lrs.Select(x => Math.Round(x, 12)));
        lrs.Clear();
        ppo.Learn(256, [record]); // past the first call's end: a new schedule from the full rate (SB3/CleanRL), never 0
        Assert.Equal([1e-3, 0.5e-3], lrs.Select(x => Math.Round(x, 12)));
        lrs.Clear();
        ppo.Learn(256, [record], schedule: ScheduleMode.Continue); // the last schedule is finished: a new one as well
        Assert.Equal([1e-3, 0.5e-3], lrs.Select(x => Math.Round(x, 12)));
    }

    [Fact]
    public void AnnealedClipRangeNeverReachesZeroInsideACall()
    {
        var o = Small(); o.AnnealClipRange = true; o.AnnealLr = true;
        using var ppo = Ppo.Create("CartPole-v1", o);
        ppo.Learn(128);
        ppo.Learn(128); // round one threw here: ε had annealed to 0 over total_steps
        Assert.True(ppo.Metrics["train/clip_range"] > 0);
    }

    // ---------------------------------------------------------------- Predict

    [Fact]
    public void PredictAppliesTheStoredObservationNormalisationToRawObservations()
    {
        var o = new PpoOptions { NEnvs = 2, NSteps = 64, MinibatchSize = 64, NEpochs = 2, NormalizeObservation = true, Seed = 5 };
        using var ppo = Ppo.Create("Pendulum-v1", o);
        ppo.Learn(512);
        var raw = new float[] { 0.9f, 0.3f, 4.0f, -0.5f, 0.8f, -6.0f };
        var normalized = (float[])raw.Clone();
        var stats = ppo.Env.Find<VecNormalizeObservation>()!.Statistics;
        for (int i = 0; i < raw.Length; i++)
        {
            int k = i % 3;
            double z = (raw[i] - stats.Mean[k]) / Math.Sqrt(stats.Variance[k] + 1e-8);
            normalized[i] = (float)Math.Clamp(z, -10, 10);
        }
        var fromRaw = new float[2]; var fromNormalized = new float[2]; var rawAsNormalized = new float[2];
        ppo.Predict(raw, fromRaw);
        ppo.Predict(normalized, fromNormalized, normalized: true);
        ppo.Predict(raw, rawAsNormalized, normalized: true);
        Assert.Equal(fromNormalized, fromRaw);
        Assert.NotEqual(rawAsNormalized, fromRaw); // the opt-out really skips it (the statistics are far from 0/1 here)

        // A loaded model applies the same stored statistics.
        string path = Path.Combine(_dir, "norm.zip");
        ppo.Save(path);
        using var loaded = Ppo.Load(path);
        var again = new float[2];
        loaded.Predict(raw, again);
        Assert.Equal(fromRaw, again);
    }

    // ---------------------------------------------------------------- model file

    private string SavedCartPole()
    {
        using var ppo = Ppo.Create("CartPole-v1", Small());
        ppo.Learn(128);
        string path = Path.Combine(_dir, "m.zip");
        ppo.Save(path);
        return path;
    }

    private static void RewriteMetadata(string path, Func<string, string> edit)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = zip.GetEntry("metadata.json")!;
        string text;
        using (var r = new StreamReader(entry.Open())) text = r.ReadToEnd();
        entry.Delete();
        using var w = new StreamWriter(zip.CreateEntry("metadata.json").Open());
        w.Write(edit(text));
    }

    [Fact]
    public void MetadataIsComparedByValueNotByText()
    {
        string path = SavedCartPole();
        // The same values written differently: exponent case, whitespace, no indentation, key order.
        RewriteMetadata(path, text =>
        {
            var meta = JsonNode.Parse(text)!.AsObject();
            string compact = meta.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
            Assert.Contains("E+38", compact);
            return compact.Replace("E+38", "e+38").Replace(",\"", " ,  \"");
        });
        using var loaded = Ppo.Load(path);
        Assert.Equal(128, loaded.NumTimesteps);
    }

    [Fact]
    public void ASpaceMismatchNamesTheFieldInOneShortLine()
    {
        string path = SavedCartPole();
        RewriteMetadata(path, text =>
        {
            var meta = JsonNode.Parse(text)!.AsObject();
            meta["observation_space"]!["high"]![1] = 5;
            return meta.ToJsonString();
        });
        var e = Assert.Throws<ArgumentException>(() => Ppo.Load(path));
        Assert.Matches(@"does not fit this env: observation space high\[1\] is 5 in the file, 3\.40282\d*E\+38 here\.$", e.Message);
        Assert.True(e.Message.Length < 200 + path.Length, e.Message);
    }

    [Fact]
    public void NaNWeightsAreRefusedNamingTheArray()
    {
        string path;
        using (var ppo = Ppo.Create("CartPole-v1", Small()))
        {
            ppo.Learn(128);
            ppo.Policy.Parameters.Values[7] = float.NaN;
            path = Path.Combine(_dir, "nan.zip");
            ppo.Save(path);
        }
        var e = Assert.Throws<ModelFileException>(() => Ppo.Load(path));
        Assert.Contains("array 'policy/parameters' holds NaN at index 7", e.Message);
        Assert.Throws<ModelFileException>(() => AlgorithmRegistry.Load(path));
    }

    [Fact]
    public void LoadingWithAnotherNumberOfEnvCopiesIsRefusedWithTheRule()
    {
        string path = SavedCartPole();
        using var three = BaseAlgorithm.BuildEnv("CartPole-v1", Small(), numEnvs: 3);
        var e = Assert.Throws<ArgumentException>(() => Ppo.Load(path, three));
        Assert.Contains("was trained with n_envs = 2, but the env given has 3 copies; build it with 2 copies", e.Message);
        using var two = BaseAlgorithm.BuildEnv("CartPole-v1", Small(), numEnvs: 2);
        using var ok = Ppo.Load(path, two);
        Assert.Equal(32, ok.Options.MinibatchSize); // unchanged, never silently rewritten
    }

    [Fact]
    public void TheModelFileNamesItsParameterSetsOptimiserAndSchedule()
    {
        string path = SavedCartPole();
        var model = ModelArchive.Load(path);
        var names = model.Arrays.Select(a => a.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "policy/parameters", "optimizer/adam_m", "optimizer/adam_v", "optimizer/adam_step", "rng/train", "rng/predict" }, names);
        Assert.Equal("ppo", model.Metadata["algorithm"]!.GetValue<string>());
        Assert.Equal(BaseAlgorithm.StateFormat, model.Metadata["algorithm_format"]!.GetValue<int>());
        Assert.Equal(128, model.Metadata["schedule"]!["end_step"]!.GetValue<long>());
    }

    [Fact]
    public void TheAdaptedKlBetaIsSavedAndRestored()
    {
        var o = Small(); o.Surrogate = SurrogateKind.AdaptiveKl; o.AdaptiveKlTarget = 1e-6; // far below any KL: β doubles
        using var ppo = Ppo.Create("Pendulum-v1", o);
        ppo.Learn(256);
        Assert.NotEqual(o.KlBeta, ppo.KlBeta);
        string path = Path.Combine(_dir, "beta.zip");
        ppo.Save(path);
        using var loaded = Ppo.Load(path);
        Assert.Equal(ppo.KlBeta, loaded.KlBeta);
    }

    // ---------------------------------------------------------------- registry

    [Fact]
    public void TheRegistryCreatesAndLoadsByName()
    {
        var spec = AlgorithmRegistry.Get("PPO");
        Assert.Equal("ppo", spec.Name);
        Assert.IsType<PpoOptions>(spec.NewOptions());
        using var created = spec.Create("CartPole-v1", Small());
        Assert.IsType<Ppo>(created);
        string path = SavedCartPole();
        Assert.Equal("ppo", AlgorithmRegistry.AlgorithmOf(path));
        using var loaded = AlgorithmRegistry.Load(path);
        Assert.IsType<Ppo>(loaded);
        var e = Assert.Throws<UnknownAlgorithmException>(() => AlgorithmRegistry.Get("ppp"));
        Assert.Equal("unknown algorithm 'ppp'; available: " + string.Join(", ", AlgorithmRegistry.Names) + " (did you mean ppo?).", e.Message);
    }

    // ---------------------------------------------------------------- target_kl (SB3's semantics)

    [Fact]
    public void TargetKlStopsBeforeTheStepOfTheFirstMinibatchAboveOneAndAHalfTimesIt()
    {
        // Ratio is exactly 1 on the first minibatch, so its approx-KL is 0 and it always steps; the second
        // minibatch sees the moved policy (KL > 0 > tiny target) and ends the update before its own step.
        var tiny = Small(); tiny.TargetKl = 1e-12;
        using var stopped = Ppo.Create("CartPole-v1", tiny);
        stopped.Learn(128);
        Assert.True(stopped.EarlyStopped);
        Assert.Equal(1, AdamSteps(stopped));
        Assert.Equal(1.0, stopped.Metrics["train/early_stopped"]);

        var loose = Small(); loose.TargetKl = 10;
        using var full = Ppo.Create("CartPole-v1", loose);
        full.Learn(128);
        Assert.False(full.EarlyStopped);
        Assert.Equal(3 * 128 / 32, AdamSteps(full)); // epochs × minibatches
    }

    private string? _stepsDir;
    private long AdamSteps(Ppo ppo)
    {
        _stepsDir ??= Directory.CreateDirectory(Path.Combine(_dir, "steps")).FullName;
        string path = Path.Combine(_stepsDir, Guid.NewGuid().ToString("N") + ".zip");
        ppo.Save(path);
        return ModelArchive.Load(path).GetInt64("optimizer/adam_step", 1).Span[0];
    }

    // ---------------------------------------------------------------- truncation option

    [Fact]
    public void BootstrapTruncationFalseTreatsTimeLimitsAsTerminations()
    {
        foreach (bool bootstrap in new[] { true, false })
        {
            var o = new PpoOptions { NEnvs = 2, NSteps = 256, MinibatchSize = 64, NEpochs = 1, Seed = 2, BootstrapTruncation = bootstrap };
            using var ppo = Ppo.Create("Pendulum-v1", o); // every episode ends by the 200-step time limit
            ppo.Learn(512);
            var buffer = ppo.LatestRollout;
            int truncations = buffer.Truncated.Count(x => x);
            Assert.Equal(2, truncations);
            bool anyBootstrap = buffer.TruncationValues.Any(v => v != 0);
            Assert.Equal(bootstrap, anyBootstrap);
        }
    }
}

public sealed class EnvKwargsTests
{
    [Fact]
    public void EnvKwargsFromConfigAndSetReachTheTask()
    {
        var o = (PpoOptions)Proximal.Training.Sessions.TrainingConfig.Resolve(
            new Proximal.Training.Sessions.ConfigSource("test.yaml", "n_envs: 1\nn_steps: 64\nminibatch_size: 64\nenv_kwargs:\n  g: 3.5\n"),
            overrides: ["env_kwargs.g=2.5"]);
        Assert.Equal(2.5, o.EnvKwargs["g"]);
        var copy = o.Clone();
        copy.EnvKwargs["g"] = 9;
        Assert.Equal(2.5, o.EnvKwargs["g"]); // Clone copies the mapping
        using var ppo = Ppo.Create("Pendulum-v1", o);
        // Pendulum's g enters the dynamics: with a weaker g the pole falls more slowly from the same state and action.
        static float[] Step(double g)
        {
            var env = Proximal.Envs.Registry.EnvRegistry.Make("Pendulum-v1", new Proximal.Envs.Registry.EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = g } });
            var obs = new float[3];
            env.Reset(obs, 7);
            env.Step([0f], obs);
            return obs;
        }
        var viaAlgorithm = BaseAlgorithm.BuildEnv("Pendulum-v1", o, numEnvs: 1);
        var a = new float[3];
        viaAlgorithm.Reset(a, 7);
        viaAlgorithm.Step([0f], a, new float[1], new bool[1], new bool[1]);
        Assert.Equal(Step(2.5), a);
        Assert.NotEqual(Step(10.0), a);
        viaAlgorithm.Dispose();

        var bad = new PpoOptions { NSteps = 64, MinibatchSize = 64 };
        bad.EnvKwargs["gravity"] = 1;
        var e = Assert.ThrowsAny<ArgumentException>(() => Ppo.Create("Pendulum-v1", bad));
        Assert.Contains("has no parameter 'gravity'", e.Message);
    }
}
