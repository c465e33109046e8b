using Proximal.Algorithms;
using Proximal.Algorithms.OffPolicy;
using Proximal.Algorithms.Registry;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Envs.Registry;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Tests.Envs;
using NnRef = Proximal.Tests.Nn.Reference;

namespace Proximal.Tests.Algorithms;

public sealed class TqcTests
{
    private const int B = 5;

    private static (Tqc Tqc, VecEnv Env) Tiny(int critics = 2, int quantiles = 3, int drop = 1, int[]? hidden = null)
    {
        var env = new SyncVecEnv(_ => new RandomWalkEnv(), 1);
        var tqc = new Tqc(env, new TqcOptions
        {
            ActorHiddenSizes = hidden ?? [6, 5], CriticHiddenSizes = hidden ?? [6, 5], NCritics = critics, NQuantiles = quantiles,
            TopQuantilesToDropPerNet = drop, BatchSize = B, LearningStarts = 0, BufferSize = 100, Seed = 6,
        });
        return (tqc, env);
    }

    /// <summary>Quantile Huber loss (κ = 1) in float64, from the paper's definition.</summary>
    private static double RefQuantileHuber(double[] theta, double[] y)
    {
        int m = theta.Length;
        double s = 0;
        for (int q = 0; q < m; q++)
        {
            double tau = (2.0 * q + 1) / (2.0 * m);
            foreach (double t in y)
            {
                double u = t - theta[q];
                double h = Math.Abs(u) <= 1 ? 0.5 * u * u : Math.Abs(u) - 0.5;
                s += Math.Abs(tau - (u < 0 ? 1 : 0)) * h;
            }
        }
        return s / (m * y.Length);
    }

    [Theory]
    [InlineData(1)] // sb3-contrib's default kind of truncation: the top atom of each critic dropped
    [InlineData(0)] // the TQC authors' choice for HalfCheetah: the whole pooled mixture, sorted
    public void TruncatedMixtureTargetEqualsTheHandComputedAtoms(int drop)
    {
        var (tqc, env) = Tiny(critics: 2, quantiles: 3, drop: drop, hidden: [4]);
        using var _ = env; using var __ = tqc;
        int kept = 2 * (3 - drop); // N·(M − d)
        Assert.Equal(kept, tqc.Kept);
        tqc.Actor.Parameters.Values.AsSpan().Clear();
        var ab = tqc.Actor.Network.Linears[^1].BiasValues;
        ab[0] = 0.1f; ab[1] = -0.2f; ab[2] = -1f; ab[3] = -0.5f; // μ, log σ
        tqc.CriticTargets.Parameters.Values.AsSpan().Clear();
        float[][] atoms = [[3f, -1f, 0.5f], [2f, 4f, -2f]];
        for (int n = 0; n < 2; n++) atoms[n].CopyTo(tqc.CriticTargets.Networks[n].Linears[^1].BiasValues);
        double[] sortedPool = [-2, -1, 0.5, 2, 3, 4]; // pooled {3, −1, 0.5, 2, 4, −2} sorted; d per critic dropped from the top
        float[] rewards = [0.5f, -1f, 2f, 0f, 1f];
        bool[] terminated = [false, true, false, false, true];
        var rng = new Rng(2);
        tqc.SetBatch(NnRef.RandomFloats(rng, B * 2), new float[B * 2], rewards, NnRef.RandomFloats(rng, B * 2), terminated);
        double alpha = 0.2;
        tqc.TruncatedTargets(alpha);
        double[] mu = [0.1, -0.2], ls = [-1, -0.5];
        for (int i = 0; i < B; i++)
        {
            double logPi = 0;
            for (int j = 0; j < 2; j++)
            {
                double e = tqc.NextNoise[i * 2 + j], u = mu[j] + Math.Exp(ls[j]) * e;
                logPi += -0.5 * e * e - ls[j] - 0.5 * Math.Log(2 * Math.PI) - Math.Log(1 - Math.Tanh(u) * Math.Tanh(u));
            }
            for (int j = 0; j < kept; j++)
            {
                double y = rewards[i] + (terminated[i] ? 0 : 0.99 * (sortedPool[j] - alpha * logPi));
                double got = tqc.Targets[i * kept + j];
                Assert.True(Math.Abs(got - y) <= 1e-5 * (1 + Math.Abs(y)), $"row {i} atom {j}: {got} vs {y}");
            }
        }
    }

    [Fact]
    public void QuantileHuberLossAndGradientMatchFloat64AndFiniteDifferences()
    {
        var rng = new Rng(3);
        for (int trial = 0; trial < 4; trial++)
        {
            var theta = NnRef.RandomFloats(rng, 7, 1.5);
            // |u| on both sides of κ = 1, both signs; 11 and 115 (the paper's kept atoms) targets: vector steps and a tail.
            var y = NnRef.RandomFloats(rng, trial % 2 == 0 ? 11 : 115, 1.5);
            var grad = new float[7];
            double loss = Tqc.QuantileHuberLoss(theta, y, grad);
            var td = NnRef.ToDouble(theta); var yd = NnRef.ToDouble(y);
            Assert.True(Math.Abs(loss - RefQuantileHuber(td, yd)) <= 1e-6 * (1 + loss));
            NnRef.Close(OffPolicyReference.FiniteDifferences(t => RefQuantileHuber(t, yd), td), grad, 1e-5, 1e-4, "dθ");
        }
    }

    [Fact]
    public void CriticAndActorLossGradientsMatchAnIndependentFloat64Loss()
    {
        var (tqc, env) = Tiny();
        using var _ = env; using var __ = tqc;
        SacTests.Jitter(tqc.Critics.Parameters, new Rng(41));
        SacTests.Jitter(tqc.Actor.Parameters, new Rng(42));
        var rng = new Rng(14);
        var obs = NnRef.RandomFloats(rng, B * 2);
        var act = Enumerable.Range(0, B * 2).Select(_ => (float)rng.Uniform(-1, 1)).ToArray();
        tqc.SetBatch(obs, act, NnRef.RandomFloats(rng, B), NnRef.RandomFloats(rng, B * 2), [false, true, false, false, false]);
        tqc.TruncatedTargets(0.4);
        double criticLoss = tqc.CriticLossAndGradient();
        var critics = tqc.Critics;
        int m = 3, k = tqc.Kept;
        var xa = OffPolicyReference.Concat(obs, NnRef.ToDouble(act), B, 2, 2);
        double Lc(double[] th)
        {
            double s = 0;
            for (int n = 0; n < 2; n++)
            {
                var z = NnRef.Mlp(critics.Networks[n], th, xa, B);
                for (int i = 0; i < B; i++)
                    s += RefQuantileHuber(z.Skip(i * m).Take(m).ToArray(), NnRef.ToDouble(tqc.Targets.AsSpan(i * k, k))) / B;
            }
            return s;
        }
        var ct = NnRef.ToDouble(critics.Parameters.Values);
        Assert.True(Math.Abs(Lc(ct) - criticLoss) <= 1e-5 * (1 + criticLoss));
        NnRef.Close(OffPolicyReference.FiniteDifferences(Lc, ct), critics.Parameters.Gradients, 1e-4, 1e-3, "dθ critic");

        double alpha = 0.6;
        double actorLoss = tqc.ActorLossAndGradient(alpha);
        var noise = (float[])tqc.PiNoise.Clone();
        var actor = tqc.Actor;
        double La(double[] th)
        {
            var (mu, ls) = OffPolicyReference.Heads(NnRef.Mlp(actor.Network, th, NnRef.ToDouble(obs), B), B, 2);
            var (a, lp) = OffPolicyReference.Squash(mu, ls, noise, B, 2);
            var x = OffPolicyReference.Concat(obs, a, B, 2, 2);
            var z0 = NnRef.Mlp(critics.Networks[0], ct, x, B);
            var z1 = NnRef.Mlp(critics.Networks[1], ct, x, B);
            double s = 0;
            for (int i = 0; i < B; i++)
            {
                double meanZ = (z0.Skip(i * m).Take(m).Sum() + z1.Skip(i * m).Take(m).Sum()) / (2 * m);
                s += (alpha * lp[i] - meanZ) / B;
            }
            return s;
        }
        var at = NnRef.ToDouble(actor.Parameters.Values);
        Assert.True(Math.Abs(La(at) - actorLoss) <= 1e-5 * (1 + Math.Abs(actorLoss)));
        NnRef.Close(OffPolicyReference.FiniteDifferences(La, at), actor.Parameters.Gradients, 1e-4, 2e-3, "dθ actor");
    }

    private static TqcOptions Small(long seed = 3) => new()
    {
        NEnvs = 1, ActorHiddenSizes = [16, 16], CriticHiddenSizes = [16, 16], NCritics = 3, NQuantiles = 5, TopQuantilesToDropPerNet = 1,
        BatchSize = 32, LearningStarts = 64, BufferSize = 10_000, Seed = seed, LearningRate = 1e-3,
    };

    private static float[] AllParameters(Tqc t) =>
        [.. t.Actor.Parameters.Values, .. t.Critics.Parameters.Values, .. t.CriticTargets.Parameters.Values, .. t.Temperature.Values];

    [Fact]
    public void SameSeedGivesBitIdenticalParametersAndAnotherSeedDoesNot()
    {
        float[] Run(long seed)
        {
            using var tqc = Tqc.Create("Pendulum-v1", Small(seed));
            tqc.Learn(200);
            return AllParameters(tqc);
        }
        var a = Run(3);
        Assert.Equal(a, Run(3));
        Assert.NotEqual(a, Run(4));
    }

    [Fact]
    public void TrainThreadsGiveTheSameBitsAsOne()
    {
        // Batch 96 splits the per-row work (target sort, quantile Huber loss) into 2 or 3 blocks of rows.
        float[] Run(int threads, out double criticLoss)
        {
            var o = Small(); o.BatchSize = 96; o.TrainThreads = threads;
            using var tqc = Tqc.Create("Pendulum-v1", o);
            tqc.Learn(180);
            criticLoss = tqc.CriticLossAndGradient();
            return AllParameters(tqc);
        }
        var one = Run(1, out double l1);
        Assert.Equal(one, Run(2, out double l2));
        Assert.Equal(one, Run(3, out double l3));
        Assert.Equal(l1, l2);
        Assert.Equal(l1, l3);
    }

    [Fact]
    public void SaveLoadResumesBitIdenticallyToAnUninterruptedRun()
    {
        string dir = Directory.CreateTempSubdirectory("proximal-tqc-").FullName;
        try
        {
            using var straight = Tqc.Create("Pendulum-v1", Small());
            straight.Learn(260);
            string path = Path.Combine(dir, "half.zip");
            using (var first = Tqc.Create("Pendulum-v1", Small()))
            {
                first.Learn(260, [new LambdaCallback((a, _) => a.NumTimesteps < 130)]);
                first.Save(path);
            }
            using var resumed = (Tqc)AlgorithmRegistry.Load(path);
            resumed.Learn(130, schedule: ScheduleMode.Continue);
            Assert.Equal(straight.GradientStepsTaken, resumed.GradientStepsTaken);
            Assert.Equal(AllParameters(straight), AllParameters(resumed));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ShippedConfigsBindAndValidate()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "configs", "tqc"), "*.yaml");
        Assert.NotEmpty(files);
        foreach (var f in files) ConfigBinder.Load<TqcOptions>(f).Validate();
        Assert.Equal("tqc", AlgorithmRegistry.Get("tqc").Name);
        Assert.Throws<ConfigException>(() => new TqcOptions { NQuantiles = 3, TopQuantilesToDropPerNet = 3 }.Validate());
    }

    /// <summary>Pendulum-v1: mean return of the last 10 training episodes ≥ −200 within 15k env steps, shipped config.</summary>
    [Fact]
    [Trait("Category", "Learning")]
    public void PendulumLastTenEpisodesReachMinus200Within15kSteps()
    {
        var o = ConfigBinder.Load<TqcOptions>(Path.Combine(AppContext.BaseDirectory, "configs", "tqc", "Pendulum-v1.yaml"));
        o.Validate();
        Assert.True(o.TotalSteps <= 15_000);
        var returns = new List<double>();
        using var env = new VecEnvBuilder(_ => new ReturnRecorder(EnvRegistry.Make("Pendulum-v1"), returns), 1).Build();
        using var tqc = new Tqc(env, o);
        double LastTen() { lock (returns) return returns.Count >= 10 ? returns.TakeLast(10).Average() : double.NegativeInfinity; }
        tqc.Learn(o.TotalSteps, [new LambdaCallback((_, _) => LastTen() < -200)]);
        Assert.True(LastTen() >= -200, $"mean of the last 10 episodes after {tqc.NumTimesteps} steps: {LastTen():F1} (episodes: {string.Join(", ", returns.Select(r => r.ToString("F0")))})");
    }
}
