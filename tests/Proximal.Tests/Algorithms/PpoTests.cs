using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Envs;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Common.Persistence;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Algorithms;

public class PpoTests
{
    private static PpoOptions Small(long seed = 3) => new()
    {
        NEnvs = 2, NSteps = 64, MinibatchSize = 32, NEpochs = 3, LearningRate = 1e-3, Seed = seed, TotalSteps = 4096,
    };

    internal static PpoOptions Config(string envId)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "configs", "ppo", envId + ".yaml");
        var o = ConfigBinder.Load<PpoOptions>(path);
        o.Validate();
        return o;
    }

    [Fact]
    public void RatioIsExactlyOneOnTheFirstMinibatchOfTheFirstEpoch()
    {
        foreach (var env in new[] { "CartPole-v1", "Pendulum-v1" })
        {
            using var ppo = Ppo.Create(env, Small());
            ppo.Learn(128);
            Assert.Equal(0.0, ppo.FirstMinibatchStats.ApproxKl);
            Assert.Equal(0.0, ppo.FirstMinibatchStats.ApproxKlNaive);
            Assert.Equal(0.0, ppo.FirstMinibatchStats.ClipFraction);
            Assert.True(ppo.Metrics["train/approx_kl"] > 0, "later minibatches move the policy");
        }
    }

    [Theory]
    [InlineData("CartPole-v1", SurrogateKind.Clip)]
    [InlineData("Pendulum-v1", SurrogateKind.AdaptiveKl)]
    [InlineData("CartPole-v1", SurrogateKind.FixedKl)]
    [InlineData("Pendulum-v1", SurrogateKind.None)]
    public void SameSeedGivesBitIdenticalParameters(string env, SurrogateKind kind)
    {
        float[] Run()
        {
            var o = Small(); o.Surrogate = kind; o.NormalizeObservation = true; o.NormalizeReward = true;
            using var ppo = Ppo.Create(env, o);
            ppo.Learn(512);
            return (float[])ppo.Policy.Parameters.Values.Clone();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void AdaptiveBetaFollowsTheRuleAfterEachUpdateAndFixedBetaStays()
    {
        var o = Small(); o.Surrogate = SurrogateKind.AdaptiveKl; o.AdaptiveKlTarget = 0.01; o.KlBeta = 1;
        using var ppo = Ppo.Create("Pendulum-v1", o);
        double beta = 1;
        for (int i = 0; i < 4; i++)
        {
            ppo.Learn(128);
            double kl = ppo.Metrics["train/kl_after_update"];
            beta = Surrogate.AdaptBeta(beta, kl, 0.01);
            Assert.Equal(beta, ppo.KlBeta);
            Assert.Equal(beta, ppo.Metrics["train/kl_beta"]);
        }
        var f = Small(); f.Surrogate = SurrogateKind.FixedKl; f.KlBeta = 3;
        using var fixedKl = Ppo.Create("CartPole-v1", f);
        fixedKl.Learn(256);
        Assert.Equal(3, fixedKl.KlBeta);
    }

    [Fact]
    public void KlMeanAveragesThePenaltyKlOverMinibatchesStartingFromZero()
    {
        // One minibatch per epoch (the whole 128-step batch), so every epoch sees the same states.
        // Two epochs: kl_mean = (KL before step 1, which is 0, + KL(θ0‖θ1) before step 2) / 2.
        // One epoch from the same seed takes the same first step, and its kl_after_update is KL(θ0‖θ1)
        // over the same batch. A penalty KL taken between the new policy and itself, or against the wrong
        // old outputs, or averaged over the wrong count, breaks the equality; KL ≥ 0 alone never can.
        PpoOptions Options(int epochs)
        {
            var o = Small(); o.Surrogate = SurrogateKind.FixedKl; o.KlBeta = 3; o.MinibatchSize = 128; o.NEpochs = epochs;
            return o;
        }
        using var two = Ppo.Create("CartPole-v1", Options(2));
        two.Learn(128);
        using var one = Ppo.Create("CartPole-v1", Options(1));
        one.Learn(128);
        double klAfterFirstStep = one.Metrics["train/kl_after_update"];
        Assert.True(klAfterFirstStep > 1e-8, $"the first step must move the policy (KL {klAfterFirstStep})");
        // Before the first step π = π_old: zero up to float rounding in the analytic KL (≈1e-9 here).
        Assert.InRange(one.Metrics["train/kl_mean"], -1e-3 * klAfterFirstStep, 1e-3 * klAfterFirstStep);
        Assert.Equal(klAfterFirstStep / 2, two.Metrics["train/kl_mean"], 1e-4 * klAfterFirstStep);
    }

    [Theory]
    [InlineData("CartPole-v1", false)]
    [InlineData("Pendulum-v1", true)]
    public void SaveLoadResumesBitIdenticallyToAnUninterruptedRun(string env, bool normalize)
    {
        var o = Small(); o.NormalizeObservation = normalize; o.NormalizeReward = normalize; o.AnnealLr = true;
        string dir = Directory.CreateTempSubdirectory("proximal-ppo-").FullName;
        try
        {
            using var straight = Ppo.Create(env, o);
            straight.Learn(4 * 128);

            string path = Path.Combine(dir, "half.zip");
            using (var first = Ppo.Create(env, o))
            {
                // The same planned run, interrupted half-way (as Ctrl-C or a callback would).
                first.Learn(4 * 128, [new LambdaCallback((a, _) => a.NumTimesteps < 256)]);
                first.Save(path);
            }
            using var resumed = Ppo.Load(path);
            Assert.Equal(256, resumed.NumTimesteps);
            resumed.Learn(2 * 128, schedule: ScheduleMode.Continue);

            Assert.Equal(straight.NumTimesteps, resumed.NumTimesteps);
            Assert.Equal(straight.Policy.Parameters.Values, resumed.Policy.Parameters.Values);
            Assert.Equal(straight.Metrics["train/value_loss"], resumed.Metrics["train/value_loss"]);
            Assert.Equal(straight.Metrics["rollout/episode_return_mean"], resumed.Metrics["rollout/episode_return_mean"]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void LoadedModelPredictsLikeTheSavedOne()
    {
        string dir = Directory.CreateTempSubdirectory("proximal-ppo-").FullName;
        try
        {
            using var ppo = Ppo.Create("CartPole-v1", Small());
            ppo.Learn(256);
            string path = Path.Combine(dir, "m.zip");
            ppo.Save(path);
            using var loaded = Ppo.Load(path);
            var obs = new float[] { 0.01f, 0.2f, -0.03f, 0.1f, -0.02f, -0.5f, 0.04f, 0.3f };
            var a = new float[2]; var b = new float[2];
            ppo.Predict(obs, a); loaded.Predict(obs, b);
            Assert.Equal(a, b);
            var ex = Assert.Throws<ArgumentException>(() => loaded.Predict(new float[] { 1, 2, 3 }, new float[1]));
            Assert.Contains("observation size 4", ex.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CorruptTruncatedOrMismatchedModelFilesFailWithClearMessages()
    {
        string dir = Directory.CreateTempSubdirectory("proximal-ppo-").FullName;
        try
        {
            using var ppo = Ppo.Create("CartPole-v1", Small());
            ppo.Learn(128);
            string path = Path.Combine(dir, "m.zip");
            ppo.Save(path);

            string truncated = Path.Combine(dir, "truncated.zip");
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
            var e1 = Assert.Throws<ModelFileException>(() => Ppo.Load(truncated));
            Assert.Contains("truncated.zip", e1.Message);

            string garbage = Path.Combine(dir, "garbage.zip");
            File.WriteAllText(garbage, "not a model");
            Assert.Throws<ModelFileException>(() => Ppo.Load(garbage));

            using var pendulum = Ppo.BuildEnv("Pendulum-v1", Small());
            var e2 = Assert.Throws<ArgumentException>(() => Ppo.Load(path, pendulum));
            Assert.Contains("observation space", e2.Message);

            var e3 = Assert.Throws<ModelFileException>(() => Ppo.Load(Path.Combine(dir, "missing.zip")));
            Assert.Contains("does not exist", e3.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadOptionsAreRejectedNamingTheKey()
    {
        var o = Small(); o.MinibatchSize = 50;
        var e = Assert.Throws<ConfigException>(() => Ppo.Create("CartPole-v1", o));
        Assert.Contains("minibatch_size", e.Message);
        var bad = Assert.Throws<ConfigException>(() => ConfigBinder.Parse<PpoOptions>("clip_range: -1"));
        Assert.Contains("clip_range", bad.Message);
        var unknown = Assert.Throws<ConfigException>(() => ConfigBinder.Parse<PpoOptions>("learnin_rate: 0.1"));
        Assert.Contains("learning_rate", unknown.Message);
        Assert.Throws<UnknownEnvException>(() => Ppo.Create("CartPoel-v1", Small()));
    }

    [Fact]
    public void EveryShippedConfigBindsAndValidates()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "configs", "ppo"), "*.yaml");
        Assert.NotEmpty(files);
        foreach (var f in files)
        {
            var o = ConfigBinder.Load<PpoOptions>(f);
            o.Validate();
        }
    }

    [Fact]
    public void CartPoleReachesEvaluationReturn475Within150kSteps()
    {
        var o = Config("CartPole-v1");
        Assert.True(o.TotalSteps <= 150_000);
        using var ppo = Ppo.Create("CartPole-v1", o);
        ppo.Learn(o.TotalSteps);
        using var eval = Ppo.BuildEnv("CartPole-v1", o, forEvaluation: true, numEnvs: 4);
        var r = Evaluation.Evaluate(ppo, eval, 20, deterministic: true, seed: 2024);
        Assert.True(r.MeanReturn >= 475, $"mean evaluation return {r.MeanReturn} < 475");
    }

    [Fact]
    public void PendulumReachesEvaluationReturnAboveMinus300WithinItsBudget()
    {
        var o = Config("Pendulum-v1");
        Assert.True(o.TotalSteps <= 1_000_000);
        using var ppo = Ppo.Create("Pendulum-v1", o);
        ppo.Learn(o.TotalSteps);
        using var eval = Ppo.BuildEnv("Pendulum-v1", o, forEvaluation: true, numEnvs: 4);
        Evaluation.SyncNormalization(ppo.Env, eval);
        var r = Evaluation.Evaluate(ppo, eval, 20, deterministic: true, seed: 2024);
        Assert.True(r.MeanReturn >= -300, $"mean evaluation return {r.MeanReturn} < -300");
    }
}
