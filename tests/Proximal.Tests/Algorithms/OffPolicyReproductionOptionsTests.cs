using Proximal.Algorithms.OffPolicy;
using Proximal.Algorithms.Registry;
using Proximal.Common.Config;
using Proximal.Envs.Vector;
using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Tests.Envs;
using NnRef = Proximal.Tests.Nn.Reference;

namespace Proximal.Tests.Algorithms;

/// <summary>
/// The two options that make our SAC/TD3/TQC start and tune the temperature as SB3's do (net_init: fan_in_uniform,
/// ent_coef_loss: log_alpha), used to reproduce SB3-zoo's published runs.
/// </summary>
public sealed class OffPolicyReproductionOptionsTests
{
    [Fact]
    public void FanInUniformDrawsWeightsAndBiasesUniformlyWithinOneOverRootFanIn()
    {
        var p = new Parameters();
        var linear = new Linear(p, 64, 300, "l");
        linear.InitializeFanInUniform(new Rng(5));
        double bound = 1.0 / 8; // 1/√64
        var w = linear.WeightValues.ToArray();
        var b = linear.BiasValues.ToArray();
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.All(b, v => Assert.InRange(v, -bound, bound));
        // U(−c, c): mean 0, variance c²/3. 19,200 draws: the sample std is within 2 % of c/√3 (its own s.e. is ~0.4 %).
        double mean = w.Average(v => (double)v), std = Math.Sqrt(w.Average(v => (double)v * v) - mean * mean);
        Assert.InRange(mean, -0.003, 0.003);
        Assert.InRange(std / (bound / Math.Sqrt(3)), 0.98, 1.02);
        Assert.True(b.Distinct().Count() > 290, "biases are drawn, not zero");
        Assert.True(b.Max() > 0.8 * bound && b.Min() < -0.8 * bound, "biases span the interval");

        var again = new Linear(new Parameters(), 64, 300, "l");
        again.InitializeFanInUniform(new Rng(5));
        Assert.Equal(w, again.WeightValues.ToArray());
        Assert.Equal(b, again.BiasValues.ToArray());
    }

    [Fact]
    public void MlpWithFanInUniformUsesEachLayersFanInAndNoGain()
    {
        var p = new Parameters();
        var mlp = new Mlp(p, [9, 256, 16, 3], Activation.Relu, new Rng(2), outputGain: 0.01, init: WeightInit.FanInUniform);
        foreach (var l in mlp.Linears)
        {
            double bound = 1.0 / Math.Sqrt(l.InputSize);
            Assert.All(l.WeightValues.ToArray(), v => Assert.InRange(v, -bound, bound));
            // No 0.01 output gain: the last layer's weights fill their interval like the others'.
            Assert.True(l.WeightValues.ToArray().Max(v => Math.Abs(v)) > 0.9 * bound, $"{l.Name} spans ±1/√fan_in");
            Assert.Contains(l.BiasValues.ToArray(), v => v != 0f);
        }
        var orthogonal = new Mlp(new Parameters(), [9, 256, 16, 3], Activation.Relu, new Rng(2), outputGain: 0.01);
        Assert.All(orthogonal.Linears, l => Assert.All(l.BiasValues.ToArray(), v => Assert.Equal(0f, v)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(new Parameters(), [2, 2], Activation.Relu, new Rng(1), init: (WeightInit)7));
    }

    [Theory]
    [InlineData(EntCoefLoss.Alpha)]
    [InlineData(EntCoefLoss.LogAlpha)]
    public void TemperatureLossFormsMatchTheirDefinitionAndFiniteDifferences(EntCoefLoss form)
    {
        foreach (var (lambda, m) in new[] { (-0.7, 0.3), (0.2, -1.9), (-4.0, 2.5) })
        {
            double J(double l) => form == EntCoefLoss.Alpha ? -Math.Exp(l) * m : -l * m;
            double loss = TemperatureLoss.Compute(form, lambda, m, out float grad);
            Assert.Equal(J(lambda), loss, 12);
            double h = 1e-5, fd = (J(lambda + h) - J(lambda - h)) / (2 * h);
            Assert.True(Math.Abs(fd - grad) <= 1e-6 * (1 + Math.Abs(fd)), $"{form} at λ={lambda}, m={m}: {grad} vs {fd}");
        }
        // The two forms differ by the factor α exactly (and agree at α = 1).
        TemperatureLoss.Compute(EntCoefLoss.Alpha, 0.0, 0.8, out float g1);
        TemperatureLoss.Compute(EntCoefLoss.LogAlpha, 0.0, 0.8, out float g2);
        Assert.Equal(g1, g2);
    }

    [Fact]
    public void TqcAndSacUseTheChosenTemperatureLossOnTheirActorStepsLogProbabilities()
    {
        using var env = new SyncVecEnv(_ => new RandomWalkEnv(), 1);
        foreach (var form in new[] { EntCoefLoss.Alpha, EntCoefLoss.LogAlpha })
        {
            using var tqc = new Tqc(env, new TqcOptions
            {
                ActorHiddenSizes = [6, 5], CriticHiddenSizes = [6, 5], NCritics = 2, NQuantiles = 3, TopQuantilesToDropPerNet = 1,
                BatchSize = 5, LearningStarts = 0, BufferSize = 100, Seed = 6, EntCoef = 0.3, EntCoefLoss = form,
            });
            using var sac = new Sac(env, new SacOptions
            {
                HiddenSizes = [6, 5], BatchSize = 5, LearningStarts = 0, BufferSize = 100, Seed = 6, EntCoef = 0.3, EntCoefLoss = form,
            });
            var rng = new Rng(14);
            var obs = NnRef.RandomFloats(rng, 5 * 2);
            var act = Enumerable.Range(0, 5 * 2).Select(_ => (float)rng.Uniform(-1, 1)).ToArray();
            var rew = NnRef.RandomFloats(rng, 5);
            var next = NnRef.RandomFloats(rng, 5 * 2);
            bool[] term = [false, true, false, false, false];
            tqc.SetBatch(obs, act, rew, next, term);
            sac.SetBatch(obs, act, rew, next, term);
            tqc.ActorLossAndGradient(tqc.Alpha);
            sac.ActorLossAndGradient(sac.Alpha);
            foreach (var (logProb, temperature, target, loss) in new[]
            {
                (tqc.PiLogProb, tqc.Temperature, tqc.TargetEntropy, tqc.TemperatureLossAndGradient()),
                (sac.PiLogProb, sac.Temperature, sac.TargetEntropy, sac.TemperatureLossAndGradient()),
            })
            {
                double m = logProb.Average(v => (double)v) + target;
                double scale = form == EntCoefLoss.Alpha ? 0.3 : 1.0;
                Assert.True(Math.Abs(temperature.Gradients[0] - (-scale * m)) <= 1e-6 * (1 + Math.Abs(m)), $"{form}: {temperature.Gradients[0]} vs {-scale * m}");
                double expected = form == EntCoefLoss.Alpha ? -0.3 * m : -Math.Log(0.3) * m;
                Assert.True(Math.Abs(loss - expected) <= 1e-6 * (1 + Math.Abs(expected)));
            }
        }
    }

    [Fact]
    public void NetInitReachesEveryNetworkOfSacTd3AndTqcAndTheTargetsStartAsCopies()
    {
        static void AllWithinFanIn(IEnumerable<Mlp> nets)
        {
            foreach (var net in nets)
                foreach (var l in net.Linears)
                {
                    double bound = 1.0 / Math.Sqrt(l.InputSize);
                    Assert.All(l.WeightValues.ToArray(), v => Assert.InRange(v, -bound, bound));
                    Assert.Contains(l.BiasValues.ToArray(), v => v != 0f); // orthogonal init leaves every bias zero
                }
        }
        using var env = new SyncVecEnv(_ => new RandomWalkEnv(), 1);
        using (var sac = new Sac(env, new SacOptions { HiddenSizes = [32, 32], NetInit = WeightInit.FanInUniform, Seed = 1 }))
        {
            AllWithinFanIn([sac.Actor.Network, .. sac.Critics.Networks]);
            Assert.Equal(sac.Critics.Parameters.Values, sac.CriticTargets.Parameters.Values);
        }
        using (var td3 = new Td3(env, new Td3Options { HiddenSizes = [32, 32], NetInit = WeightInit.FanInUniform, Seed = 1 }))
        {
            AllWithinFanIn([td3.Actor.Network, .. td3.Critics.Networks]);
            Assert.Equal(td3.Actor.Parameters.Values, td3.ActorTarget.Parameters.Values);
            Assert.Equal(td3.Critics.Parameters.Values, td3.CriticTargets.Parameters.Values);
        }
        using (var tqc = new Tqc(env, new TqcOptions { ActorHiddenSizes = [32, 32], CriticHiddenSizes = [32, 32], NCritics = 2, NetInit = WeightInit.FanInUniform, Seed = 1 }))
        {
            AllWithinFanIn([tqc.Actor.Network, .. tqc.Critics.Networks]);
            Assert.Equal(tqc.Critics.Parameters.Values, tqc.CriticTargets.Parameters.Values);
        }
        // The default is unchanged: orthogonal, zero biases.
        using var plain = new Sac(env, new SacOptions { HiddenSizes = [32, 32], Seed = 1 });
        Assert.All(plain.Actor.Network.Linears, l => Assert.All(l.BiasValues.ToArray(), v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void OptionsBindFromSnakeCaseSurviveSaveLoadAndRejectUnknownValues()
    {
        var o = new TqcOptions();
        ConfigBinder.ApplyOverrides(o, ["ent_coef_loss=log_alpha", "net_init=fan_in_uniform"]);
        Assert.Equal(EntCoefLoss.LogAlpha, o.EntCoefLoss);
        Assert.Equal(WeightInit.FanInUniform, o.NetInit);
        var bad = Assert.Throws<ConfigException>(() => ConfigBinder.ApplyOverrides(new SacOptions(), ["ent_coef_loss=alpha2"]));
        Assert.Contains("ent_coef_loss", bad.Message);
        Assert.Contains("log_alpha", bad.Message);
        var badInit = Assert.Throws<ConfigException>(() => ConfigBinder.ApplyOverrides(new Td3Options(), ["net_init=xavier"]));
        Assert.Contains("fan_in_uniform", badInit.Message);

        string dir = Directory.CreateTempSubdirectory("proximal-sb3opts-").FullName;
        try
        {
            o.ActorHiddenSizes = [8]; o.CriticHiddenSizes = [8]; o.NCritics = 2; o.NQuantiles = 3; o.LearningStarts = 10; o.BatchSize = 8; o.BufferSize = 100;
            string path = Path.Combine(dir, "m.zip");
            using (var tqc = Tqc.Create("Pendulum-v1", o))
            {
                tqc.Learn(30);
                tqc.Save(path);
            }
            using var back = (Tqc)AlgorithmRegistry.Load(path);
            Assert.Equal(EntCoefLoss.LogAlpha, back.Options.EntCoefLoss);
            Assert.Equal(WeightInit.FanInUniform, back.Options.NetInit);
        }
        finally { Directory.Delete(dir, true); }
    }
}
