using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Envs.Vector;
using Proximal.Envs.Games;
using Proximal.Numerics;
using DRef = Proximal.Tests.Distributions.Reference;

namespace Proximal.Tests.Algorithms;

/// <summary>
/// Action masks through the policy head, the rollout and PPO's update (the distribution's own masked kernels are
/// tested in CategoricalTests): the masked minibatch loss and gradient against a float64 construction with finite
/// differences, exactly-zero gradient for a logit masked in every row, masks honoured in a rollout and in Predict.
/// </summary>
public class ActionMaskTests
{
    private const int M = 16;
    private const double Clip = 0.2, Beta = 0.7, EntCoef = 0.02, VfCoef = 0.5;
    private const int AlwaysMasked = 5; // this action is masked in every row of the test minibatch

    [Theory]
    [InlineData(SurrogateKind.Clip, false)]
    [InlineData(SurrogateKind.Clip, true)]
    [InlineData(SurrogateKind.FixedKl, false)]
    public void MaskedMinibatchLossAndGradientMatchAFloat64ReferenceAndMaskedLogitsGetNoGradient(SurrogateKind kind, bool shared)
    {
        var o = new PpoOptions
        {
            NEnvs = 2, NSteps = 8, MinibatchSize = M, NEpochs = 1, Seed = 3, Surrogate = kind, EntCoef = EntCoef, VfCoef = VfCoef, KlBeta = Beta,
            Policy = new PolicyOptions { HiddenSizes = [8, 6], SharedTrunk = shared },
        };
        using var env = new ConnectFourSelfPlayVecEnv(2);
        using var ppo = new Ppo(env, o);
        var policy = ppo.Policy;
        var net = new PolicyReference(policy);
        int p = net.OutputSize, od = env.ObservationSize;
        Assert.Equal(7, p);
        var rng = new Rng(77);
        var theta = policy.Parameters.Values;
        for (int i = 0; i < theta.Length; i++) theta[i] += (float)(0.3 * rng.NextGaussian());
        var thetaNow = (float[])theta.Clone();
        var thetaOld = thetaNow.Select(v => (float)(v + 0.15 * rng.NextGaussian())).ToArray();

        var obs = new float[M * od];
        for (int i = 0; i < obs.Length; i++) obs[i] = rng.NextDouble() < 0.3 ? 1f : 0f;
        var mask = DRef.RandomMask(rng, M, p, 0.6);
        for (int b = 0; b < M; b++)
        {
            mask[b * p + AlwaysMasked] = false;
            if (!mask.AsSpan(b * p, p).Contains(true)) mask[b * p] = true;
        }
        var (oldOut, _) = net.Forward(PolicyReference.ToDouble(thetaOld), obs, M);
        var oldOutputs = oldOut.Select(v => (float)v).ToArray();
        var actions = new float[M];
        var oldLogProb = new float[M];
        for (int b = 0; b < M; b++)
        {
            var allowed = Enumerable.Range(0, p).Where(a => mask[b * p + a]).ToArray();
            actions[b] = allowed[rng.NextInt(allowed.Length)];
            oldLogProb[b] = (float)DRef.CatLogProb(oldOut.AsSpan(b * p, p), mask.AsSpan(b * p, p), (int)actions[b]);
        }
        var (v0, _) = (net.Forward(PolicyReference.ToDouble(thetaNow), obs, M).Values, 0);
        var oldValues = v0.Select(x => (float)(x + 0.3 * rng.NextGaussian())).ToArray();
        var returns = v0.Select(x => (float)(x + rng.NextGaussian())).ToArray();
        var advantages = Enumerable.Range(0, M).Select(_ => (float)rng.NextGaussian()).ToArray();

        policy.Head.SnapshotOld();
        policy.Parameters.Gradients.AsSpan().Fill(9f);
        var loss = ppo.LossAndGradientOf(obs, actions, oldLogProb, oldValues, advantages, returns, oldOutputs, Clip, mask);
        var grad = (float[])policy.Parameters.Gradients.Clone();

        double Total(double[] th) => Reference(net, th, obs, actions, oldLogProb, oldValues, advantages, returns, oldOut, mask, kind).Total;
        var th = PolicyReference.ToDouble(thetaNow);
        var r = Reference(net, th, obs, actions, oldLogProb, oldValues, advantages, returns, oldOut, mask, kind);
        Close(r.Entropy, loss.Entropy, "masked entropy");
        if (kind == SurrogateKind.FixedKl) Close(r.Kl, loss.Kl, "masked KL");
        Close(r.Total, loss.Total, "masked total loss");

        // The unmasked loss differs: the masks are really in use.
        var unmaskedEntropy = Enumerable.Range(0, M).Average(b => DRef.CatEntropy(net.Forward(th, obs, M).Outputs.AsSpan(b * p, p), default));
        Assert.True(Math.Abs(unmaskedEntropy - r.Entropy) > 1e-2);

        const double h = 1e-6;
        double maxFd = 0;
        var fd = new double[th.Length];
        for (int i = 0; i < th.Length; i++)
        {
            double keep = th[i];
            th[i] = keep + h; double up = Total(th);
            th[i] = keep - h; double down = Total(th);
            th[i] = keep;
            fd[i] = (up - down) / (2 * h);
            maxFd = Math.Max(maxFd, Math.Abs(fd[i]));
        }
        for (int i = 0; i < th.Length; i++)
        {
            double tol = 2e-5 * maxFd + 1e-3 * Math.Abs(fd[i]);
            Assert.True(Math.Abs(grad[i] - fd[i]) <= tol, $"dL/dθ[{i}]: finite differences {fd[i]:R}, library {grad[i]:R}");
        }

        // The logit masked in every row gets exactly no gradient: its output bias, and its row of output weights.
        string head = shared ? "policy_head.0" : $"actor.{o.Policy.HiddenSizes.Length}";
        var bias = policy.Parameters[head + ".bias"];
        var weight = policy.Parameters[head + ".weight"];
        int nin = weight.Length / p;
        Assert.Equal(0f, grad[bias.Offset + AlwaysMasked]);
        for (int k = 0; k < nin; k++) Assert.Equal(0f, grad[weight.Offset + AlwaysMasked * nin + k]);
        Assert.NotEqual(0f, grad[bias.Offset + (AlwaysMasked + 1) % p]);
    }

    private sealed record Terms(double Entropy, double Kl, double Total);

    /// <summary>PPO's minibatch loss from its definition with masked softmaxes (masked logits −∞), in float64.</summary>
    private static Terms Reference(PolicyReference net, double[] theta, float[] obs, float[] actions, float[] oldLogProb, float[] oldValues,
        float[] adv, float[] returns, double[] oldOut, bool[] mask, SurrogateKind kind)
    {
        int p = net.OutputSize;
        var (outputs, values) = net.Forward(theta, obs, M);
        double surrogate = 0, value = 0, entropy = 0, kl = 0;
        for (int b = 0; b < M; b++)
        {
            var z = outputs.AsSpan(b * p, p);
            var mk = mask.AsSpan(b * p, p);
            double ratio = Math.Exp(DRef.CatLogProb(z, mk, (int)actions[b]) - oldLogProb[b]);
            surrogate += kind == SurrogateKind.Clip ? Math.Min(ratio * adv[b], Math.Clamp(ratio, 1 - Clip, 1 + Clip) * adv[b]) : ratio * adv[b];
            entropy += DRef.CatEntropy(z, mk);
            kl += DRef.CatKl(oldOut.AsSpan(b * p, p), z, mk);
            value += (values[b] - returns[b]) * (values[b] - returns[b]);
        }
        entropy /= M; kl /= M;
        double total = -surrogate / M + VfCoef * 0.5 * value / M - EntCoef * entropy + (kind == SurrogateKind.FixedKl ? Beta * kl : 0);
        return new Terms(entropy, kl, total);
    }

    private static void Close(double expected, double actual, string what)
    {
        double tol = 1e-5 * Math.Max(1e-2, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: float64 reference {expected:R}, library {actual:R}");
    }

    [Fact]
    public void RolloutStoresTheEnvMasksAndNeverSamplesAMaskedAction()
    {
        var o = new PpoOptions { NEnvs = 4, NSteps = 64, MinibatchSize = 64, NEpochs = 2, Seed = 1, Policy = new PolicyOptions { HiddenSizes = [16] } };
        using var env = new ConnectFourSelfPlayVecEnv(4);
        using var ppo = new Ppo(env, o);
        int fullColumnRows = 0;
        for (int it = 0; it < 3; it++)
        {
            ppo.Learn(4 * 64);
            var buf = ppo.LatestRollout;
            Assert.Equal(7, buf.MaskSize);
            for (int k = 0; k < buf.Count; k++)
            {
                var m = buf.ActionMasks.AsSpan(k * 7, 7);
                var obs = buf.Observations.AsSpan(k * ConnectFour.FeaturePlanesSize, 84); // planes 0–1: the pieces
                for (int c = 0; c < 7; c++) // the stored mask is the board's: a column is legal iff its top cell is empty
                {
                    bool top = obs[5 * 7 + c] != 0 || obs[42 + 5 * 7 + c] != 0;
                    Assert.Equal(!top, m[c]);
                    if (top) fullColumnRows++;
                }
                Assert.True(m[(int)buf.Actions[k]], $"row {k}: action {buf.Actions[k]} is masked");
                Assert.True(float.IsFinite(buf.LogProbs[k]));
            }
        }
        Assert.True(fullColumnRows > 0, "no full column occurred: the test did not exercise a mask");
    }

    [Fact]
    public void MaskedPredictNeverChoosesAMaskedActionAndModeIsTheBestAllowed()
    {
        using var env = new ConnectFourSelfPlayVecEnv(1);
        using var ppo = new Ppo(env, new PpoOptions { NEnvs = 1, NSteps = 8, MinibatchSize = 8, Seed = 2 });
        var rng = new Rng(4);
        const int B = 200;
        var obs = new float[B * ConnectFour.FeaturePlanesSize];
        for (int i = 0; i < obs.Length; i++) obs[i] = rng.NextDouble() < 0.3 ? 1f : 0f;
        var mask = DRef.RandomMask(rng, B, 7, 0.4);
        var actions = new float[B];
        for (int draw = 0; draw < 50; draw++)
        {
            ppo.Predict(obs, mask, actions, deterministic: false);
            for (int b = 0; b < B; b++) Assert.True(mask[b * 7 + (int)actions[b]]);
        }
        ppo.Predict(obs, mask, actions, deterministic: true);
        var logits = ppo.Policy.ActorOutputs(obs, B).ToArray();
        for (int b = 0; b < B; b++)
        {
            int best = -1;
            for (int c = 0; c < 7; c++) if (mask[b * 7 + c] && (best < 0 || logits[b * 7 + c] > logits[b * 7 + best])) best = c;
            Assert.Equal(best, (int)actions[b]);
        }
        Assert.Throws<ArgumentException>(() => ppo.Predict(obs, mask.AsSpan(0, 7).ToArray(), actions));
    }

    [Fact]
    public void AlgorithmsThatIgnoreMasksRefuseAMaskedEnv()
    {
        using var env = new ConnectFourSelfPlayVecEnv(1);
        var e = Assert.Throws<NotSupportedException>(() => new A2c(env, new A2cOptions { NEnvs = 1 }));
        Assert.Contains("PPO", e.Message);
    }
}
