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

public sealed class Td3Tests
{
    private static (Td3 Td3, VecEnv Env) Tiny(int batch, int[]? hidden = null, double smoothing = 0.2)
    {
        var env = new SyncVecEnv(_ => new RandomWalkEnv(), 1);
        var td3 = new Td3(env, new Td3Options
        {
            HiddenSizes = hidden ?? [6, 5], BatchSize = batch, LearningStarts = 0, BufferSize = 100, Seed = 5, TargetPolicyNoise = smoothing,
        });
        return (td3, env);
    }

    [Fact]
    public void ClippedDoubleQTargetWithSmoothingEqualsTheHandComputedValue()
    {
        const int b = 64;
        var (td3, env) = Tiny(b, [4], smoothing: 0.4); // σ̃ = 0.4, c = 0.5: the noise clip acts on |ε| > 1.25
        using var _ = env; using var __ = td3;
        // Target actor: weights 0, so π′(s′) = tanh(bias) = (−0.8, tanh 0.2).
        td3.ActorTarget.Parameters.Values.AsSpan().Clear();
        var bias = td3.ActorTarget.Network.Linears[^1].BiasValues;
        bias[0] = (float)Math.Atanh(-0.8); bias[1] = 0.2f;
        // Target critics on (s′ ‖ ã′), one hidden ReLU layer: h_0 = relu(ã′_0 + 1) = ã′_0 + 1, Q′_k = c_k + w_k h_0.
        // Q′_0 = 0.5 + 2(ã′_0 + 1), Q′_1 = 1 − (ã′_0 + 1): the minimum is Q′_0 for ã′_0 < −5/6, else Q′_1.
        td3.CriticTargets.Parameters.Values.AsSpan().Clear();
        (float c, float w)[] heads = [(0.5f, 2f), (1f, -1f)];
        for (int k = 0; k < 2; k++)
        {
            var net = td3.CriticTargets.Networks[k];
            net.Linears[0].WeightValues[0 * 4 + 2] = 1f; // unit 0 reads the first action input (obs 2 + action 2 inputs)
            net.Linears[0].BiasValues[0] = 1f;
            net.Linears[1].WeightValues[0] = heads[k].w;
            net.Linears[1].BiasValues[0] = heads[k].c;
        }
        var rng = new Rng(8);
        var rewards = NnRef.RandomFloats(rng, b);
        var terminated = Enumerable.Range(0, b).Select(i => i % 3 == 1).ToArray();
        td3.SetBatch(NnRef.RandomFloats(rng, b * 2), new float[b * 2], rewards, NnRef.RandomFloats(rng, b * 2), terminated);
        td3.ClippedDoubleQTargets();

        int noiseClipped = 0, actionClipped = 0, firstIsMin = 0;
        double pi0 = Math.Tanh((double)bias[0]);
        for (int i = 0; i < b; i++)
        {
            double eps = td3.NextNoise[i * 2];
            double noise = Math.Clamp(0.4 * eps, -0.5, 0.5);
            double a0 = Math.Clamp(pi0 + noise, -1, 1);
            if (Math.Abs(0.4 * eps) > 0.5) noiseClipped++;
            if (pi0 + noise < -1) actionClipped++;
            double q0 = 0.5 + 2 * (a0 + 1), q1 = 1 - (a0 + 1);
            if (q0 < q1) firstIsMin++;
            double y = rewards[i] + (terminated[i] ? 0 : 0.99 * Math.Min(q0, q1));
            Assert.True(Math.Abs(td3.Targets[i] - y) <= 1e-5 * (1 + Math.Abs(y)), $"row {i}: {td3.Targets[i]} vs {y}");
            if (terminated[i]) Assert.Equal(rewards[i], td3.Targets[i]);
            Assert.Equal(Math.Clamp(Math.Tanh(0.2) + Math.Clamp(0.4 * td3.NextNoise[i * 2 + 1], -0.5, 0.5), -1, 1), td3.NextActions[i * 2 + 1], 5);
        }
        // The batch exercises both clips and both branches of the minimum.
        Assert.InRange(noiseClipped, 1, b - 1);
        Assert.InRange(actionClipped, 1, b - 1);
        Assert.InRange(firstIsMin, 1, b - 1);
    }

    [Fact]
    public void CriticAndActorLossGradientsMatchAnIndependentFloat64Loss()
    {
        const int b = 6;
        var (td3, env) = Tiny(b);
        using var _ = env; using var __ = td3;
        SacTests.Jitter(td3.Critics.Parameters, new Rng(31));
        SacTests.Jitter(td3.Actor.Parameters, new Rng(32));
        var rng = new Rng(13);
        var obs = NnRef.RandomFloats(rng, b * 2);
        var act = Enumerable.Range(0, b * 2).Select(_ => (float)rng.Uniform(-1, 1)).ToArray();
        td3.SetBatch(obs, act, NnRef.RandomFloats(rng, b), NnRef.RandomFloats(rng, b * 2), [false, true, false, false, false, true]);
        td3.ClippedDoubleQTargets();

        double criticLoss = td3.CriticLossAndGradient();
        var critics = td3.Critics;
        var xa = OffPolicyReference.Concat(obs, NnRef.ToDouble(act), b, 2, 2);
        double Lc(double[] th)
        {
            double s = 0;
            for (int k = 0; k < 2; k++)
            {
                var q = NnRef.Mlp(critics.Networks[k], th, xa, b);
                for (int i = 0; i < b; i++) s += (q[i] - td3.Targets[i]) * (q[i] - td3.Targets[i]) / b;
            }
            return s;
        }
        var ct = NnRef.ToDouble(critics.Parameters.Values);
        Assert.True(Math.Abs(Lc(ct) - criticLoss) <= 1e-5 * (1 + criticLoss));
        NnRef.Close(OffPolicyReference.FiniteDifferences(Lc, ct), critics.Parameters.Gradients, 1e-4, 1e-3, "dθ critic");

        double actorLoss = td3.ActorLossAndGradient();
        var actor = td3.Actor;
        double La(double[] th)
        {
            var a = NnRef.Mlp(actor.Network, th, NnRef.ToDouble(obs), b).Select(Math.Tanh).ToArray();
            var q = NnRef.Mlp(critics.Networks[0], ct, OffPolicyReference.Concat(obs, a, b, 2, 2), b);
            return -q.Average();
        }
        var at = NnRef.ToDouble(actor.Parameters.Values);
        Assert.True(Math.Abs(La(at) - actorLoss) <= 1e-5 * (1 + Math.Abs(actorLoss)));
        NnRef.Close(OffPolicyReference.FiniteDifferences(La, at), actor.Parameters.Gradients, 1e-4, 2e-3, "dθ actor");
    }

    private static Td3Options Small(long seed = 3, int delay = 2) => new()
    {
        NEnvs = 1, HiddenSizes = [16, 16], BatchSize = 32, LearningStarts = 64, BufferSize = 10_000, Seed = seed, LearningRate = 1e-3, PolicyDelay = delay,
    };

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void TheActorAndTheTargetsMoveOnlyEveryPolicyDelayCriticUpdates(int delay)
    {
        using var td3 = Td3.Create("Pendulum-v1", Small(delay: delay));
        float[] Snap(Proximal.Nn.Parameters p) => (float[])p.Values.Clone();
        var prev = new[] { Snap(td3.Critics.Parameters), Snap(td3.Actor.Parameters), Snap(td3.CriticTargets.Parameters), Snap(td3.ActorTarget.Parameters) };
        long lastSteps = 0;
        int checkedSteps = 0;
        td3.Learn(100, [new LambdaCallback((_, _) =>
        {
            var now = new[] { Snap(td3.Critics.Parameters), Snap(td3.Actor.Parameters), Snap(td3.CriticTargets.Parameters), Snap(td3.ActorTarget.Parameters) };
            long k = td3.GradientStepsTaken;
            if (k > lastSteps)
            {
                Assert.Equal(lastSteps + 1, k); // one gradient step per env step
                bool policy = k % delay == 0;
                Assert.NotEqual(prev[0], now[0]);
                for (int i = 1; i < 4; i++)
                    if (policy) Assert.NotEqual(prev[i], now[i]); else Assert.Equal(prev[i], now[i]);
                checkedSteps++;
            }
            else for (int i = 0; i < 4; i++) Assert.Equal(prev[i], now[i]); // warm-up: nothing trains
            prev = now;
            lastSteps = k;
            return true;
        })]);
        Assert.Equal(100 - 64 + 1, checkedSteps);
    }

    private static float[] AllParameters(Td3 t) =>
        [.. t.Actor.Parameters.Values, .. t.ActorTarget.Parameters.Values, .. t.Critics.Parameters.Values, .. t.CriticTargets.Parameters.Values];

    [Fact]
    public void SameSeedGivesBitIdenticalParametersAndAnotherSeedDoesNot()
    {
        float[] Run(long seed)
        {
            using var td3 = Td3.Create("Pendulum-v1", Small(seed));
            td3.Learn(256);
            return AllParameters(td3);
        }
        var a = Run(3);
        Assert.Equal(a, Run(3));
        Assert.NotEqual(a, Run(4));
    }

    [Fact]
    public void SaveLoadResumesBitIdenticallyToAnUninterruptedRun()
    {
        string dir = Directory.CreateTempSubdirectory("proximal-td3-").FullName;
        try
        {
            using var straight = Td3.Create("Pendulum-v1", Small());
            straight.Learn(320);
            string path = Path.Combine(dir, "half.zip");
            using (var first = Td3.Create("Pendulum-v1", Small()))
            {
                first.Learn(320, [new LambdaCallback((a, _) => a.NumTimesteps < 151)]); // stop after an odd (critic-only) step
                first.Save(path);
            }
            using var resumed = (Td3)AlgorithmRegistry.Load(path);
            resumed.Learn(169, schedule: ScheduleMode.Continue);
            Assert.Equal(straight.NumTimesteps, resumed.NumTimesteps);
            Assert.Equal(straight.GradientStepsTaken, resumed.GradientStepsTaken);
            Assert.Equal(AllParameters(straight), AllParameters(resumed));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ShippedConfigsBindAndValidate()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "configs", "td3"), "*.yaml");
        Assert.NotEmpty(files);
        foreach (var f in files) ConfigBinder.Load<Td3Options>(f).Validate();
        Assert.Equal("td3", AlgorithmRegistry.Get("td3").Name);
    }

    /// <summary>Pendulum-v1: mean return of the last 10 training episodes ≥ −200 within 15k env steps, shipped config.</summary>
    [Fact]
    [Trait("Category", "Learning")]
    public void PendulumLastTenEpisodesReachMinus200Within15kSteps()
    {
        var o = ConfigBinder.Load<Td3Options>(Path.Combine(AppContext.BaseDirectory, "configs", "td3", "Pendulum-v1.yaml"));
        o.Validate();
        Assert.True(o.TotalSteps <= 15_000);
        var returns = new List<double>();
        using var env = new VecEnvBuilder(_ => new ReturnRecorder(EnvRegistry.Make("Pendulum-v1"), returns), 1).Build();
        using var td3 = new Td3(env, o);
        double LastTen() { lock (returns) return returns.Count >= 10 ? returns.TakeLast(10).Average() : double.NegativeInfinity; }
        td3.Learn(o.TotalSteps, [new LambdaCallback((_, _) => LastTen() < -200)]);
        Assert.True(LastTen() >= -200, $"mean of the last 10 episodes after {td3.NumTimesteps} steps: {LastTen():F1} (episodes: {string.Join(", ", returns.Select(r => r.ToString("F0")))})");
    }
}
