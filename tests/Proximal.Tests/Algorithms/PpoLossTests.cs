using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Tests.Envs;
using DRef = Proximal.Tests.Distributions.Reference;

namespace Proximal.Tests.Algorithms;

/// <summary>
/// The assembled PPO update against an independent float64 construction: one minibatch's total loss
/// L = policy surrogate + vf_coef · value loss − ent_coef · mean entropy (+ β · mean KL(π_old‖π)), built here from the
/// flat parameters (network forward, distributions, surrogate, value loss, weights: nothing from the library's
/// numerics), compared with <see cref="Ppo.LossAndGradientOf"/>'s total, and its central finite differences compared
/// with the gradient the library leaves in the parameters. Then the adaptive-β rule against a KL computed here.
/// </summary>
public class PpoLossTests
{
    private const int M = 16;          // minibatch
    private const double Clip = 0.2;   // ε of the policy surrogate
    private const double VfClip = 0.2; // ε of the value clipping, when on
    private const double Beta = 0.7;   // β of the KL surrogates (not 1, so a missing factor shows)

    public static TheoryData<bool, SurrogateKind, double, bool, double, bool> Matrix()
    {
        var data = new TheoryData<bool, SurrogateKind, double, bool, double, bool>();
        foreach (bool box in new[] { false, true })
        foreach (var kind in new[] { SurrogateKind.Clip, SurrogateKind.AdaptiveKl, SurrogateKind.FixedKl, SurrogateKind.None })
        foreach (double ent in new[] { 0.0, 0.01 })
        foreach (bool clipVf in new[] { false, true })
        foreach (double vf in new[] { 0.5, 1.3 })
        foreach (bool shared in new[] { false, true })
            data.Add(box, kind, ent, clipVf, vf, shared);
        return data;
    }

    /// <summary>A minibatch as the update sees it (float32, as the rollout buffer holds it) plus π_old's log-std.</summary>
    private sealed record Batch(float[] Obs, float[] Actions, float[] OldLogProb, float[] OldValues, float[] Advantages,
        float[] Returns, float[] OldOutputs, float[] OldLogStd, int ObsSize);

    private sealed record Terms(double Policy, double Value, double Entropy, double Kl, double Total,
        int RatioOutside, int ClippedTermTaken, int ValueClipTaken, double KinkMargin);

    [Theory]
    [MemberData(nameof(Matrix))]
    public void MinibatchLossAndGradientMatchAFloat64ReferenceAndFiniteDifferences(
        bool box, SurrogateKind kind, double entCoef, bool clipVf, double vfCoef, bool shared)
    {
        var o = new PpoOptions
        {
            NEnvs = 2, NSteps = 8, MinibatchSize = M, NEpochs = 1, Seed = 11, Surrogate = kind, EntCoef = entCoef,
            ClipRangeVf = clipVf ? VfClip : null, VfCoef = vfCoef, KlBeta = Beta,
            Policy = new PolicyOptions { HiddenSizes = [8, 7], SharedTrunk = shared, LogStdInit = -0.3 },
        };
        using var env = box ? new SyncVecEnv(_ => new RandomWalkEnv(), 2) : VecEnvBuilder.ForId("Acrobot-v1", 2).Build();
        using var ppo = new Ppo(env, o);
        var policy = ppo.Policy;
        var net = new PolicyReference(policy);
        Assert.Equal(box, net.LogStdOffset >= 0);
        var rng = new Rng(2024);

        // θ: the initial parameters moved as training would move them; θ_old: θ perturbed, so ratios ≠ 1.
        var theta = policy.Parameters.Values; // the live vector
        for (int i = 0; i < theta.Length; i++) theta[i] += (float)(0.25 * rng.NextGaussian());
        var thetaNow = (float[])theta.Clone();
        var thetaOld = thetaNow.Select(v => (float)(v + 0.12 * rng.NextGaussian())).ToArray();
        var mb = MakeBatch(net, policy, env.ObservationSize, thetaNow, thetaOld, rng);

        // π_old's log-std is the head's snapshot, taken while the parameters are π_old's (as Train does at its start).
        thetaOld.CopyTo(policy.Parameters.Values, 0);
        policy.Head.SnapshotOld();
        thetaNow.CopyTo(policy.Parameters.Values, 0);

        policy.Parameters.Gradients.AsSpan().Fill(123f); // must be zeroed, not accumulated into
        var loss = ppo.LossAndGradientOf(mb.Obs, mb.Actions, mb.OldLogProb, mb.OldValues, mb.Advantages, mb.Returns, mb.OldOutputs, Clip);
        var grad = (float[])policy.Parameters.Gradients.Clone();
        Assert.Equal(thetaNow, policy.Parameters.Values); // the loss evaluation leaves θ alone

        bool usesKl = kind is SurrogateKind.AdaptiveKl or SurrogateKind.FixedKl;
        var th = PolicyReference.ToDouble(thetaNow);
        var r = ReferenceLoss(net, th, mb, kind, entCoef, o.ClipRangeVf, vfCoef);

        // The branches this case is about are exercised.
        if (kind == SurrogateKind.Clip)
        {
            Assert.InRange(r.ClippedTermTaken, 1, M - 1);
            Assert.Equal(r.RatioOutside / (double)M, loss.Policy.ClipFraction, 12);
        }
        Assert.InRange(r.RatioOutside, 1, M - 1);
        if (clipVf) Assert.InRange(r.ValueClipTaken, 1, M - 1);
        Assert.True(r.KinkMargin > 1e-4, $"a sample sits {r.KinkMargin:E2} from a clipping kink: finite differences would straddle it");
        if (usesKl) Assert.True(r.Kl > 1e-3, $"KL(π_old‖π) = {r.Kl} is too small to test the penalty");

        // (a) the total, and each term, equal the float64 construction.
        Close(r.Policy, loss.Policy.Loss, "policy loss");
        Close(r.Value, loss.Value, "value loss");
        Close(r.Entropy, loss.Entropy, "entropy");
        if (usesKl) Close(r.Kl, loss.Kl, "KL");
        Close(r.Total, loss.Total, "total loss");

        // (b) central differences of the float64 total w.r.t. every parameter equal the library's float32 gradient.
        const double h = 1e-6;
        var fd = new double[th.Length];
        double maxFd = 0;
        for (int i = 0; i < th.Length; i++)
        {
            double keep = th[i];
            th[i] = keep + h; double up = ReferenceLoss(net, th, mb, kind, entCoef, o.ClipRangeVf, vfCoef).Total;
            th[i] = keep - h; double down = ReferenceLoss(net, th, mb, kind, entCoef, o.ClipRangeVf, vfCoef).Total;
            th[i] = keep;
            fd[i] = (up - down) / (2 * h);
            maxFd = Math.Max(maxFd, Math.Abs(fd[i]));
        }
        Assert.True(maxFd > 1e-2, $"the gradient is too small to test ({maxFd})");
        foreach (string name in net.Names)
        {
            var s = policy.Parameters[name];
            for (int k = 0; k < s.Length; k++)
            {
                int i = s.Offset + k;
                double tol = 2e-5 * maxFd + 1e-3 * Math.Abs(fd[i]);
                Assert.True(Math.Abs(grad[i] - fd[i]) <= tol,
                    $"dL/d{name}[{k}]: finite differences {fd[i]:R}, library {grad[i]:R} (tolerance {tol:E2})");
            }
        }
    }

    /// <summary>
    /// The adaptive-β rule after one update, against KL(π_old‖π_new) over the whole rollout computed here in float64 from
    /// the parameters before the update (those that collected the rollout: the old outputs and old log-std) and after it.
    /// adaptive_kl_target does not influence the update itself, only β afterwards, so runs from one seed differ only in β:
    /// targets just inside each branch (5% from its threshold) then force doubling, halving and keeping.
    /// </summary>
    [Theory]
    [InlineData("Pendulum-v1")]
    [InlineData("Acrobot-v1")]
    public void AdaptiveBetaDoublesHalvesOrKeepsByAnIndependentlyComputedBatchKl(string envId)
    {
        const double beta0 = 0.8;
        (double Kl, double Beta, double Metric, float[] After) Run(double target)
        {
            var o = new PpoOptions
            {
                NEnvs = 2, NSteps = 32, MinibatchSize = 16, NEpochs = 4, LearningRate = 3e-3, Seed = 5,
                Surrogate = SurrogateKind.AdaptiveKl, KlBeta = beta0, AdaptiveKlTarget = target,
                Policy = new PolicyOptions { HiddenSizes = [16, 16], LogStdInit = -0.5 },
            };
            using var ppo = Ppo.Create(envId, o);
            var net = new PolicyReference(ppo.Policy);
            var before = PolicyReference.ToDouble(ppo.Policy.Parameters.Values);
            ppo.Learn(o.NEnvs * o.NSteps);
            Assert.Equal(1, ppo.Iterations);
            var after = (float[])ppo.Policy.Parameters.Values.Clone();
            int batch = o.NEnvs * o.NSteps, p = net.OutputSize;
            var obs = ppo.LatestRollout.Observations;
            var (oldOut, _) = net.Forward(before, obs, batch);
            var (newOut, _) = net.Forward(PolicyReference.ToDouble(after), obs, batch);
            double kl = 0;
            for (int b = 0; b < batch; b++)
            {
                if (net.LogStdOffset < 0) { kl += DRef.CatKl(oldOut.AsSpan(b * p, p), newOut.AsSpan(b * p, p), default); continue; }
                for (int j = 0; j < p; j++)
                    kl += DRef.GaussKl(oldOut[b * p + j], before[net.LogStdOffset + j], newOut[b * p + j], after[net.LogStdOffset + j]);
            }
            return (kl / batch, ppo.KlBeta, ppo.Metrics["train/kl_after_update"], after);
        }

        var probe = Run(1.0);
        Assert.True(probe.Kl > 1e-3, $"the update must move the policy measurably (KL {probe.Kl})");
        Assert.True(Math.Abs(probe.Metric - probe.Kl) <= 1e-3 * probe.Kl,
            $"kl_after_update {probe.Metric:R}, float64 KL(π_old‖π_new) over the rollout {probe.Kl:R}");

        foreach (var (target, expected, branch) in new[]
        {
            (probe.Kl / 1.5 / 1.05, 2 * beta0, "KL > 1.5·target: doubled"),
            (probe.Kl * 1.5 * 1.05, beta0 / 2, "KL < target/1.5: halved"),
            (probe.Kl, beta0, "target/1.5 ≤ KL ≤ 1.5·target: kept"),
        })
        {
            var run = Run(target);
            Assert.Equal(probe.After, run.After); // the same update: only β may differ
            Assert.True(run.Beta == expected, $"{branch}: β = {run.Beta}, expected {expected} (KL {probe.Kl:R}, target {target:R})");
        }
    }

    private static void Close(double expected, double actual, string what)
    {
        double tol = 1e-5 * Math.Max(1e-2, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: float64 reference {expected:R}, library {actual:R} (tolerance {tol:E2})");
    }

    private static Batch MakeBatch(PolicyReference net, ActorCritic policy, int od, float[] thetaNow, float[] thetaOld, Rng rng)
    {
        int p = net.OutputSize;
        bool box = net.LogStdOffset >= 0;
        var obs = new float[M * od];
        for (int i = 0; i < obs.Length; i++) obs[i] = (float)(1.5 * rng.NextGaussian());
        var (oldOut, _) = net.Forward(PolicyReference.ToDouble(thetaOld), obs, M);
        var oldOutputs = oldOut.Select(v => (float)v).ToArray();
        var oldLogStd = box ? thetaOld.AsSpan(net.LogStdOffset, p).ToArray() : [];
        int ad = policy.ActionSize;
        var actions = new float[M * ad];
        var oldLogProb = new float[M];
        for (int b = 0; b < M; b++)
        {
            if (box)
                for (int j = 0; j < p; j++)
                    actions[b * p + j] = (float)(oldOutputs[b * p + j] + Math.Exp(oldLogStd[j]) * rng.NextGaussian());
            else
                actions[b] = rng.NextInt(p);
            oldLogProb[b] = (float)LogProb(PolicyReference.ToDouble(oldOutputs.AsSpan(b * p, p)), PolicyReference.ToDouble(oldLogStd), actions.AsSpan(b * ad, ad), box);
        }
        var (_, v) = net.Forward(PolicyReference.ToDouble(thetaNow), obs, M);
        var oldValues = v.Select(x => (float)(x + 0.3 * rng.NextGaussian())).ToArray();
        var returns = v.Select(x => (float)(x + rng.NextGaussian())).ToArray();
        var advantages = Enumerable.Range(0, M).Select(_ => (float)rng.NextGaussian()).ToArray();
        return new Batch(obs, actions, oldLogProb, oldValues, advantages, returns, oldOutputs, oldLogStd, od);
    }

    private static double LogProb(double[] output, double[] logStd, ReadOnlySpan<float> action, bool box)
    {
        if (!box) return DRef.CatLogProb(output, default, (int)action[0]);
        double s = 0;
        for (int j = 0; j < output.Length; j++) s += DRef.GaussLogProb(action[j], output[j], logStd[j]);
        return s;
    }

    /// <summary>
    /// The minibatch loss from its definition (PPO paper §3–§4; value loss as SB3/CleanRL write it):
    /// policy = −mean(min(r·A, clip(r, 1−ε, 1+ε)·A)) for the clipped surrogate, −mean(r·A) otherwise;
    /// value = ½·mean((V − R)²), or ½·mean(max((V − R)², (V_old + clip(V − V_old, ±ε_vf) − R)²)) with value clipping;
    /// total = policy + vf_coef·value − ent_coef·mean(H) + β·mean(KL(π_old‖π)) for the KL surrogates.
    /// </summary>
    private static Terms ReferenceLoss(PolicyReference net, double[] theta, Batch mb, SurrogateKind kind, double entCoef, double? vfClip, double vfCoef)
    {
        int p = net.OutputSize;
        bool box = net.LogStdOffset >= 0;
        var (outputs, values) = net.Forward(theta, mb.Obs, M);
        var logStd = box ? theta.AsSpan(net.LogStdOffset, p).ToArray() : [];
        var oldLogStd = PolicyReference.ToDouble(mb.OldLogStd);
        int ad = box ? p : 1;
        double surrogate = 0, value = 0, entropy = 0, kl = 0, margin = double.PositiveInfinity;
        int outside = 0, clippedTaken = 0, valueClipTaken = 0;
        for (int b = 0; b < M; b++)
        {
            var z = outputs.AsSpan(b * p, p).ToArray();
            var zOld = PolicyReference.ToDouble(mb.OldOutputs.AsSpan(b * p, p));
            double logp = LogProb(z, logStd, mb.Actions.AsSpan(b * ad, ad), box);
            if (box)
                for (int j = 0; j < p; j++)
                {
                    entropy += DRef.GaussEntropy(logStd[j]);
                    kl += DRef.GaussKl(zOld[j], oldLogStd[j], z[j], logStd[j]);
                }
            else
            {
                entropy += DRef.CatEntropy(z, default);
                kl += DRef.CatKl(zOld, z, default);
            }

            double ratio = Math.Exp(logp - mb.OldLogProb[b]), a = mb.Advantages[b];
            if (ratio < 1 - Clip || ratio > 1 + Clip) outside++;
            if (kind == SurrogateKind.Clip)
            {
                double plain = ratio * a, clipped = Math.Clamp(ratio, 1 - Clip, 1 + Clip) * a;
                if (clipped < plain) clippedTaken++;
                surrogate += Math.Min(plain, clipped);
                margin = Math.Min(margin, Math.Min(Math.Abs(ratio - (1 - Clip)), Math.Abs(ratio - (1 + Clip))));
            }
            else surrogate += ratio * a;

            double v = values[b], ret = mb.Returns[b], err2 = (v - ret) * (v - ret);
            if (vfClip is { } eps)
            {
                double vOld = mb.OldValues[b];
                double vClipped = vOld + Math.Clamp(v - vOld, -eps, eps);
                double errC2 = (vClipped - ret) * (vClipped - ret);
                if (errC2 > err2) valueClipTaken++;
                value += Math.Max(err2, errC2);
                margin = Math.Min(margin, Math.Abs(Math.Abs(v - vOld) - eps));
                if (Math.Abs(v - vOld) > eps) margin = Math.Min(margin, Math.Abs(errC2 - err2));
            }
            else value += err2;
        }
        double policy = -surrogate / M;
        value = 0.5 * value / M;
        entropy /= M;
        kl /= M;
        bool usesKl = kind is SurrogateKind.AdaptiveKl or SurrogateKind.FixedKl;
        double total = policy + vfCoef * value - entCoef * entropy + (usesKl ? Beta * kl : 0);
        return new Terms(policy, value, entropy, kl, total, outside, clippedTaken, valueClipTaken, margin);
    }
}
