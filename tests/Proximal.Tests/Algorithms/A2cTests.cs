using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Algorithms.Registry;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Nn;

namespace Proximal.Tests.Algorithms;

public class A2cTests
{
    private static A2cOptions Small(long seed = 3) => new()
    {
        NEnvs = 2, NSteps = 8, Seed = seed, TotalSteps = 4096, LearningRate = 1e-3,
    };

    internal static A2cOptions Config(string envId)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "configs", "a2c", envId + ".yaml");
        var o = ConfigBinder.Load<A2cOptions>(path);
        o.Validate();
        return o;
    }

    [Fact]
    public void DefaultsAreSb3s()
    {
        var o = new A2cOptions();
        Assert.Equal(5, o.NSteps);
        Assert.Equal(1.0, o.GaeLambda);
        Assert.Equal(0.0, o.EntCoef);
        Assert.Equal(0.5, o.VfCoef);
        Assert.Equal(0.5, o.MaxGradNorm);
        Assert.Equal(7e-4, o.LearningRate);
        Assert.False(o.NormalizeAdvantage);
        Assert.True(o.UseRmsProp);
        Assert.Equal(0.99, o.RmsPropAlpha);
        Assert.Equal(1e-5, o.RmsPropEps);
        Assert.Equal(RmspropStyle.Torch, o.RmsPropStyle);
    }

    [Theory]
    [InlineData("CartPole-v1", false)]
    [InlineData("Pendulum-v1", true)]
    public void LossAndGradientMatchAFloat64ReferenceAndItsFiniteDifferences(string env, bool normalizeAdvantage)
    {
        var o = Small(); o.NSteps = 3; o.EntCoef = 0.03; o.VfCoef = 0.7; o.NormalizeAdvantage = normalizeAdvantage;
        o.Policy = new PolicyOptions { HiddenSizes = [6] };
        using var a2c = A2c.Create(env, o);
        a2c.Learn(6); // one rollout (and one update) fills the buffer
        var policy = a2c.Policy;
        // Larger weights than the 0.01 policy-output init so every term's gradient is well above float noise.
        var rng = new Proximal.Numerics.Rng(8);
        var p = policy.Parameters.Values;
        for (int i = 0; i < p.Length; i++) p[i] = (float)(rng.NextGaussian() * 0.4);

        var parts = a2c.LossAndGradient();
        var grad = (float[])policy.Parameters.Gradients.Clone();

        var buf = a2c.Rollout;
        int b = buf.Count;
        var obs = buf.Observations.Select(x => (double)x).ToArray();
        var adv = buf.Advantages.Select(x => (double)x).ToArray();
        if (normalizeAdvantage)
        {
            double mean = adv.Average(), std = Math.Sqrt(adv.Sum(x => (x - mean) * (x - mean)) / (b - 1));
            adv = adv.Select(x => (x - mean) / (std + 1e-8)).ToArray();
        }
        var reference = new TrustRegionPolicyReference(policy);
        (double Policy, double Value, double Entropy, double Total) Loss(double[] theta)
        {
            var outs = reference.ActorOutputs(theta, obs, b);
            var v = reference.Values(theta, obs, b);
            var ls = reference.LogStd(theta);
            double pl = 0, vl = 0, h = 0;
            for (int r = 0; r < b; r++)
            {
                pl -= reference.LogProb(outs, ls, r, buf.Actions) * adv[r];
                vl += (v[r] - buf.Returns[r]) * (v[r] - buf.Returns[r]);
                h += reference.Entropy(outs, ls, r);
            }
            pl /= b; vl /= b; h /= b;
            return (pl, vl, h, pl - o.EntCoef * h + o.VfCoef * vl);
        }

        var theta0 = p.Select(x => (double)x).ToArray();
        var l = Loss(theta0);
        Assert.Equal(l.Policy, parts.Policy, 1e-5 * (1 + Math.Abs(l.Policy)));
        Assert.Equal(l.Value, parts.Value, 1e-5 * (1 + Math.Abs(l.Value)));
        Assert.Equal(l.Entropy, parts.Entropy, 1e-5 * (1 + Math.Abs(l.Entropy)));
        Assert.Equal(l.Total, parts.Total, 1e-5 * (1 + Math.Abs(l.Total)));

        double maxGrad = 0;
        for (int i = 0; i < theta0.Length; i++)
        {
            var up = (double[])theta0.Clone(); up[i] += 1e-6;
            var down = (double[])theta0.Clone(); down[i] -= 1e-6;
            double fd = (Loss(up).Total - Loss(down).Total) / 2e-6;
            maxGrad = Math.Max(maxGrad, Math.Abs(fd));
            Assert.True(Math.Abs(fd - grad[i]) <= 1e-4 + 1e-3 * Math.Abs(fd),
                $"parameter {i} ({policy.Parameters.Slices.First(s => i >= s.Offset && i < s.Offset + s.Length).Name}): update gradient {grad[i]} vs float64 finite difference {fd}");
        }
        Assert.True(maxGrad > 1e-2, "the check must see non-trivial gradients");
    }

    [Fact]
    public void OneUpdateIsOneRmspropStepOfTheClippedGradient()
    {
        var o = Small(); o.MaxGradNorm = 0.05; o.LearningRate = 1e-3;
        using var a2c = A2c.Create("CartPole-v1", o);
        var before = (float[])a2c.Policy.Parameters.Values.Clone();
        a2c.Learn(16); // exactly one rollout (2 envs × 8 steps) and one update
        var after = (float[])a2c.Policy.Parameters.Values.Clone();
        Assert.Equal(1, a2c.Iterations);

        // Redo that update by hand from the initial parameters on the same rollout: clip, then torch RMSprop from v = 0.
        Array.Copy(before, a2c.Policy.Parameters.Values, before.Length);
        a2c.LossAndGradient();
        var g = a2c.Policy.Parameters.Gradients.Select(x => (double)x).ToArray();
        double norm = Math.Sqrt(g.Sum(x => x * x));
        Assert.True(norm > 0.05, $"the clip must be active in this test (norm {norm})");
        Assert.Equal(norm, a2c.Metrics["train/grad_norm"], 1e-5 * norm);
        for (int i = 0; i < g.Length; i++)
        {
            double gi = g[i] * 0.05 / norm, v = 0.01 * gi * gi;
            double expected = before[i] - 1e-3 * gi / (Math.Sqrt(v) + 1e-5);
            Assert.True(Math.Abs(after[i] - expected) <= 1e-6 + 1e-5 * Math.Abs(expected), $"θ[{i}] = {after[i]}, expected {expected}");
        }
    }

    [Theory]
    [InlineData("CartPole-v1", true)]
    [InlineData("Pendulum-v1", false)]
    public void SameSeedGivesBitIdenticalParameters(string env, bool rmsprop)
    {
        float[] Run()
        {
            var o = Small(); o.UseRmsProp = rmsprop; o.NormalizeObservation = true; o.NormalizeReward = true;
            using var a2c = A2c.Create(env, o);
            a2c.Learn(512);
            return (float[])a2c.Policy.Parameters.Values.Clone();
        }
        var a = Run();
        Assert.Equal(a, Run());
        var other = Small(seed: 4); other.UseRmsProp = rmsprop;
        using var c = A2c.Create(env, other);
        c.Learn(512);
        Assert.NotEqual(a, c.Policy.Parameters.Values);
    }

    [Theory]
    [InlineData("CartPole-v1", false, true, RmspropStyle.Torch)]
    [InlineData("Pendulum-v1", true, true, RmspropStyle.Tensorflow)]
    [InlineData("CartPole-v1", true, false, RmspropStyle.Torch)]
    public void SaveLoadResumesBitIdenticallyToAnUninterruptedRun(string env, bool normalize, bool rmsprop, RmspropStyle style)
    {
        var o = Small(); o.NormalizeObservation = normalize; o.NormalizeReward = normalize; o.AnnealLr = true;
        o.UseRmsProp = rmsprop; o.RmsPropStyle = style;
        string dir = Directory.CreateTempSubdirectory("proximal-a2c-").FullName;
        try
        {
            using var straight = A2c.Create(env, o);
            straight.Learn(32 * 16);

            string path = Path.Combine(dir, "half.zip");
            using (var first = A2c.Create(env, o))
            {
                first.Learn(32 * 16, [new LambdaCallback((a, _) => a.NumTimesteps < 256)]);
                first.Save(path);
            }
            using var resumed = (A2c)AlgorithmRegistry.Load(path);
            Assert.Equal(256, resumed.NumTimesteps);
            resumed.Learn(16 * 16, schedule: ScheduleMode.Continue);

            Assert.Equal(straight.NumTimesteps, resumed.NumTimesteps);
            Assert.Equal(straight.Policy.Parameters.Values, resumed.Policy.Parameters.Values);
            Assert.Equal(straight.Metrics["train/value_loss"], resumed.Metrics["train/value_loss"]);
            Assert.Equal(straight.Metrics["rollout/episode_return_mean"], resumed.Metrics["rollout/episode_return_mean"]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void RegistryConfigsAndBadOptions()
    {
        var spec = AlgorithmRegistry.Get("a2c");
        Assert.Equal(typeof(A2cOptions), spec.OptionsType);
        using (var a = spec.Create("CartPole-v1", Small())) Assert.IsType<A2c>(a);
        Assert.Throws<ArgumentException>(() => spec.Create("CartPole-v1", new PpoOptions()));
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "configs", "a2c"), "*.yaml");
        Assert.True(files.Length >= 9);
        foreach (var f in files) ConfigBinder.Load<A2cOptions>(f).Validate();
        var bad = Assert.Throws<ConfigException>(() => ConfigBinder.Parse<A2cOptions>("rms_prop_alpha: 1.0"));
        Assert.Contains("rms_prop_alpha", bad.Message);
        var style = Assert.Throws<ConfigException>(() => ConfigBinder.Parse<A2cOptions>("rms_prop_style: keras"));
        Assert.Contains("tensorflow", style.Message);
    }

    [Fact]
    public void CartPoleReachesEvaluationReturn475WithinItsBudget()
    {
        var o = Config("CartPole-v1");
        Assert.True(o.TotalSteps <= 500_000);
        using var a2c = A2c.Create("CartPole-v1", o);
        a2c.Learn(o.TotalSteps);
        using var eval = A2c.BuildEnv("CartPole-v1", o, forEvaluation: true, numEnvs: 4);
        var r = Evaluation.Evaluate(a2c, eval, 20, deterministic: true, seed: 2024);
        Assert.True(r.MeanReturn >= 475, $"mean evaluation return {r.MeanReturn} < 475");
    }
}
