using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Algorithms.Registry;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Algorithms;

public class TrpoTests
{
    private static TrpoOptions Small(long seed = 3) => new()
    {
        NEnvs = 2, NSteps = 64, VfMinibatchSize = 32, VfEpochs = 2, Seed = seed, TotalSteps = 4096,
    };

    internal static TrpoOptions Config(string envId)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "configs", "trpo", envId + ".yaml");
        var o = ConfigBinder.Load<TrpoOptions>(path);
        o.Validate();
        return o;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FisherVectorProductEqualsTheFloat64HessianOfTheMeanKl(bool gaussian)
    {
        Space actions = gaussian ? new Box(-1, 1, 2) : new Discrete(3);
        var policy = new ActorCritic(new Box(-10, 10, 3), actions, new PolicyOptions { HiddenSizes = [4] }, new Rng(11));
        var rng = new Rng(5);
        var p = policy.Parameters.Values;
        for (int i = 0; i < p.Length; i++) p[i] = (float)(rng.NextGaussian() * 0.5);
        const int b = 5;
        var obs = new float[b * 3];
        for (int i = 0; i < obs.Length; i++) obs[i] = (float)rng.NextGaussian();
        var v = new float[p.Length];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextGaussian(); // critic entries too: F has no critic block

        var fisher = new PolicyFisher(policy);
        fisher.Prepare(obs, b);
        var fv = new float[p.Length];
        fisher.Multiply(v, fv, damping: 0);
        var fvDamped = new float[p.Length];
        fisher.Multiply(v, fvDamped, damping: 0.1);

        // Reference: H = ∇²_θ mean_b KL(π_θ0(s_b) ‖ π_θ(s_b)) at θ = θ0, by second-order central differences in float64.
        var reference = new TrustRegionPolicyReference(policy);
        var theta0 = p.Select(x => (double)x).ToArray();
        var dObs = obs.Select(x => (double)x).ToArray();
        var out0 = reference.ActorOutputs(theta0, dObs, b);
        var ls0 = reference.LogStd(theta0);
        double MeanKl(double[] theta)
        {
            var o = reference.ActorOutputs(theta, dObs, b);
            var ls = reference.LogStd(theta);
            double s = 0;
            for (int r = 0; r < b; r++) s += reference.Kl(out0, ls0, o, ls, r);
            return s / b;
        }
        var actorIdx = policy.Parameters.Slices.Where(s => !s.Name.StartsWith("critic", StringComparison.Ordinal))
            .SelectMany(s => Enumerable.Range(s.Offset, s.Length)).ToArray();
        const double h = 1e-4;
        var hv = new double[p.Length];
        foreach (int i in actorIdx)
            foreach (int j in actorIdx)
            {
                double K(double di, double dj) { var t = (double[])theta0.Clone(); t[i] += di; t[j] += dj; return MeanKl(t); }
                double hij = (K(h, h) - K(h, -h) - K(-h, h) + K(-h, -h)) / (4 * h * h);
                hv[i] += hij * v[j];
            }
        double scale = hv.Max(Math.Abs);
        Assert.True(scale > 1e-2, "the check must see a non-trivial Fisher");
        for (int i = 0; i < p.Length; i++)
        {
            Assert.True(Math.Abs(hv[i] - fv[i]) <= 1e-4 * scale + 1e-3 * Math.Abs(hv[i]),
                $"(F·v)[{i}] = {fv[i]}, Hessian of the KL gives {hv[i]} ({(gaussian ? "Gaussian" : "Categorical")})");
            Assert.Equal(fv[i] + 0.1f * v[i], fvDamped[i], 1e-5 * (1 + Math.Abs(fvDamped[i])));
        }
        foreach (var s in policy.Parameters.Slices.Where(s => s.Name.StartsWith("critic", StringComparison.Ordinal)))
            for (int i = s.Offset; i < s.Offset + s.Length; i++) Assert.Equal(0f, fv[i]);
    }

    /// <summary>
    /// The network Hopper uses (11 observations, 64-64 tanh, 3 action means, a state-independent log-std), with
    /// F = (1/B) Σ_b J_bᵀ M J_b built explicitly in float64: every column of the actor's Jacobian J_b by central
    /// differences of a float64 forward pass, M = diag(1/σ²) for the means and the exact 2·I for the log-std. Also the
    /// subsampled Fisher (every 3rd state): the same construction on those rows only.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void FisherVectorProductMatchesAnExplicitFisherOnTheHopperSizedGaussianPolicy(int stride)
    {
        const int od = 11, ad = 3, b = 7;
        var policy = new ActorCritic(new Box(-10, 10, od), new Box(-1, 1, ad), new PolicyOptions { HiddenSizes = [64, 64] }, new Rng(7));
        var p = policy.Parameters.Values;
        var rng = new Rng(9);
        var logStd = policy.Parameters["log_std"];
        for (int j = 0; j < logStd.Length; j++) p[logStd.Offset + j] = (float)(0.4 * rng.NextGaussian()); // σ ≠ 1: M is not the identity
        var actorOut = policy.Parameters.Slices.Last(s => s.Name.StartsWith("actor", StringComparison.Ordinal) && s.Name.EndsWith("weight", StringComparison.Ordinal));
        for (int i = 0; i < actorOut.Length; i++) p[actorOut.Offset + i] += (float)(0.1 * rng.NextGaussian()); // the 0.01-gain init would make J tiny
        var obs = new float[b * od];
        for (int i = 0; i < obs.Length; i++) obs[i] = (float)(1.5 * rng.NextGaussian());
        var v = new float[p.Length];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextGaussian();

        var fisher = new PolicyFisher(policy);
        fisher.Prepare(obs, b, stride);
        int[] rows = Enumerable.Range(0, b).Where(r => r % stride == 0).ToArray();
        Assert.Equal(rows.Length, fisher.Rows);
        var fv = new float[p.Length];
        fisher.Multiply(v, fv, damping: 0);

        var reference = new TrustRegionPolicyReference(policy);
        var theta0 = p.Select(x => (double)x).ToArray();
        var dObs = rows.SelectMany(r => obs.Skip(r * od).Take(od)).Select(x => (double)x).ToArray();
        int n = rows.Length;
        var actorIdx = policy.Parameters.Slices.Where(s => s.Name.StartsWith("actor", StringComparison.Ordinal))
            .SelectMany(s => Enumerable.Range(s.Offset, s.Length)).ToArray();
        var jacobian = new double[actorIdx.Length][]; // column i: ∂ outputs[n × ad] / ∂θ_i
        const double h = 1e-5;
        for (int c = 0; c < actorIdx.Length; c++)
        {
            var t = (double[])theta0.Clone();
            t[actorIdx[c]] = theta0[actorIdx[c]] + h;
            var plus = reference.ActorOutputs(t, dObs, n);
            t[actorIdx[c]] = theta0[actorIdx[c]] - h;
            var minus = reference.ActorOutputs(t, dObs, n);
            jacobian[c] = new double[n * ad];
            for (int k = 0; k < n * ad; k++) jacobian[c][k] = (plus[k] - minus[k]) / (2 * h);
        }
        var jv = new double[n * ad];
        for (int c = 0; c < actorIdx.Length; c++)
            for (int k = 0; k < n * ad; k++) jv[k] += jacobian[c][k] * v[actorIdx[c]];
        var ls0 = reference.LogStd(theta0);
        for (int k = 0; k < n * ad; k++) jv[k] *= Math.Exp(-2 * ls0[k % ad]) / n; // M·J·v / n
        var expected = new double[p.Length];
        for (int c = 0; c < actorIdx.Length; c++)
        {
            double s = 0;
            for (int k = 0; k < n * ad; k++) s += jacobian[c][k] * jv[k];
            expected[actorIdx[c]] = s;
        }
        for (int j = 0; j < logStd.Length; j++) expected[logStd.Offset + j] = 2 * v[logStd.Offset + j]; // KL's Hessian in log σ: 2 per state, averaged

        double scale = expected.Max(Math.Abs);
        Assert.True(expected.Where((_, i) => i < logStd.Offset || i >= logStd.Offset + logStd.Length).Max(Math.Abs) > 1e-2 * scale,
            "the mean block must carry a non-trivial share of F·v");
        for (int i = 0; i < p.Length; i++)
            Assert.True(Math.Abs(expected[i] - fv[i]) <= 2e-4 * scale + 2e-3 * Math.Abs(expected[i]),
                $"(F·v)[{i}] = {fv[i]}, the explicit Fisher gives {expected[i]} (stride {stride})");
    }

    [Fact]
    public void ConjugateGradientSolvesAKnownSpdSystem()
    {
        const int n = 6;
        var rng = new Rng(2);
        var m = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) m[i, j] = rng.NextGaussian();
        var a = new double[n, n]; // A = MᵀM + 0.5 I, symmetric positive definite
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++)
        {
            double s = i == j ? 0.5 : 0;
            for (int k = 0; k < n; k++) s += m[k, i] * m[k, j];
            a[i, j] = s;
        }
        var bVec = Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
        int products = 0;
        void Multiply(ReadOnlySpan<float> x, Span<float> y)
        {
            products++;
            for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j < n; j++) s += a[i, j] * x[j]; y[i] = (float)s; }
        }
        var solution = new float[n];
        int iters = Trpo.ConjugateGradient(Multiply, bVec, solution, 50, 1e-12, new float[n], new float[n], new float[n]);
        Assert.InRange(iters, 1, 50);
        Assert.Equal(iters, products);
        // Residual of the float64 system: CG converges (in at most n steps in exact arithmetic).
        for (int i = 0; i < n; i++)
        {
            double s = 0; for (int j = 0; j < n; j++) s += a[i, j] * solution[j];
            Assert.True(Math.Abs(s - bVec[i]) < 1e-4, $"row {i}: A·x = {s}, b = {bVec[i]}");
        }
        // Fewer iterations: a worse but still improving solution; a zero right-hand side stops at once.
        var x2 = new float[n];
        Trpo.ConjugateGradient(Multiply, bVec, x2, 2, 0, new float[n], new float[n], new float[n]);
        double Res(float[] x) { double r = 0; for (int i = 0; i < n; i++) { double s = -bVec[i]; for (int j = 0; j < n; j++) s += a[i, j] * x[j]; r += s * s; } return r; }
        Assert.True(Res(x2) < Res(new float[n]) && Res(x2) > Res(solution));
        products = 0;
        Assert.Equal(0, Trpo.ConjugateGradient(Multiply, new float[n], x2, 10, 1e-10, new float[n], new float[n], new float[n]));
        Assert.Equal(0, products);
        Assert.All(x2, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void LineSearchRejectsKlViolatingAndSurrogateLoweringSteps()
    {
        var tried = new List<double>();
        (double, double) Eval(double f)
        {
            tried.Add(f);
            return f switch
            {
                1.0 => (2.0, 0.05),    // big improvement, KL 5× over δ: rejected
                0.5 => (0.9, 0.005),   // within δ but the surrogate fell below 1.0: rejected
                0.25 => (1.1, 0.002),  // accepted
                _ => (1.05, 0.001),
            };
        }
        int k = Trpo.LineSearch(Eval, surrogateBefore: 1.0, maxKl: 0.01, shrink: 0.5, maxIterations: 10, out var at);
        Assert.Equal(2, k);
        Assert.Equal([1.0, 0.5, 0.25], tried);
        Assert.Equal((1.1, 0.002), at);

        // The KL bound is what the caller passes: Baselines' 1.5·δ accepts the full step whose KL is 1.2·δ, δ does not.
        (double, double) Slightly(double f) => f == 1.0 ? (1.5, 0.012) : (1.2, 0.004);
        Assert.Equal(1, Trpo.LineSearch(Slightly, 1.0, maxKl: 0.01, 0.5, 10, out _));
        Assert.Equal(0, Trpo.LineSearch(Slightly, 1.0, maxKl: 1.5 * 0.01, 0.5, 10, out at));
        Assert.Equal((1.5, 0.012), at);

        tried.Clear();
        Assert.Equal(-1, Trpo.LineSearch(_ => (double.NaN, 0.0), 1.0, 0.01, 0.5, 4, out _));
        Assert.Equal(-1, Trpo.LineSearch(f => { tried.Add(f); return (1.0, 0.0); }, 1.0, 0.01, 0.5, 3, out _)); // no improvement: never accepted
        Assert.Equal([1.0, 0.5, 0.25], tried);
    }

    [Theory]
    [InlineData("CartPole-v1")]
    [InlineData("Pendulum-v1")]
    public void TheStepStaysInTheTrustRegionAndLeavesTheCriticAlone(string env)
    {
        // Damping 1e-3 (not 0: an undamped CG on this rank-deficient Fisher takes huge steps along nearly flat
        // directions, where the KL is far from quadratic even at δ = 1e-5).
        var o = Small(); o.VfEpochs = 0; o.CgDamping = 1e-3; o.MaxKl = 1e-5;
        using var trpo = Trpo.Create(env, o);
        var before = (float[])trpo.Policy.Parameters.Values.Clone();
        trpo.Learn(128); // one rollout and one step
        var after = trpo.Policy.Parameters.Values;
        Assert.Equal(1, trpo.Iterations);
        Assert.True(trpo.Metrics["train/line_search_steps"] == 0, string.Join(", ", trpo.Metrics.Where(kv => kv.Key.StartsWith("train/")).Select(kv => $"{kv.Key}={kv.Value}"))); // a tiny trust region: the quadratic model holds, the full step passes
        double kl = trpo.Metrics["train/kl"];
        // β = √(2δ / sᵀ(F + λI)s) puts the quadratic model of the KL at δ − ½β²λ|s|², just under δ: the measured KL
        // must be close to δ, which pins the Fisher's scale (a Fisher off by 2× would give about δ/2 or 2δ).
        Assert.InRange(kl, 0.85 * o.MaxKl, o.MaxKl);
        Assert.True(trpo.Metrics["train/surrogate_improvement"] > 0);

        // The KL recomputed independently in float64 on the rollout's states.
        double refKl = new TrustRegionPolicyReference(trpo.Policy).MeanKl(before, after, trpo.RolloutForTests.Observations, trpo.RolloutForTests.Count);
        Assert.Equal(refKl, kl, 0.02 * kl);

        int changed = 0;
        foreach (var s in trpo.Policy.Parameters.Slices)
            for (int i = s.Offset; i < s.Offset + s.Length; i++)
            {
                if (s.Name.StartsWith("critic", StringComparison.Ordinal)) Assert.Equal(before[i], after[i]);
                else if (before[i] != after[i]) changed++;
            }
        Assert.True(changed > 100);
    }

    /// <summary>
    /// The Gaussian log-std is part of the policy step. Its block of the Fisher is (2 + λ)·I and decoupled from the
    /// mean's parameters, so the step moves log σ_j by about β·g_j/(2 + λ), with g_j = mean_i A_i((a_ij − μ_ij)²/σ_j² − 1)
    /// computed here independently in float64. (A bug zeroed g's log-std part after it was written: σ stayed 1.)
    /// </summary>
    [Fact]
    public void TheStepMovesTheGaussianLogStdAlongItsNaturalGradient()
    {
        var o = Small(); o.VfEpochs = 0; o.CgDamping = 1e-3; o.MaxKl = 1e-4;
        using var trpo = Trpo.Create("Pendulum-v1", o);
        var before = trpo.Policy.Parameters.Values.Select(x => (double)x).ToArray();
        trpo.Learn(128); // one rollout and one step
        var after = trpo.Policy.Parameters.Values.Select(x => (double)x).ToArray();
        Assert.Equal(0, trpo.Metrics["train/line_search_steps"]);

        var reference = new TrustRegionPolicyReference(trpo.Policy);
        var buffer = trpo.RolloutForTests;
        int b = buffer.Count, d = reference.OutputSize;
        var obs = buffer.Observations.Select(x => (double)x).ToArray();
        var mu = reference.ActorOutputs(before, obs, b);
        var logStd0 = reference.LogStd(before); var logStd1 = reference.LogStd(after);
        var adv = buffer.Advantages.Take(b).Select(x => (double)x).ToArray();
        double mean = adv.Average(), std = Math.Sqrt(adv.Select(x => (x - mean) * (x - mean)).Average());
        for (int j = 0; j < d; j++)
        {
            double var0 = Math.Exp(2 * logStd0[j]), g = 0;
            for (int i = 0; i < b; i++)
            {
                double diff = buffer.Actions[i * d + j] - mu[i * d + j];
                g += (adv[i] - mean) / (std + 1e-8) * (diff * diff / var0 - 1);
            }
            g /= b;
            double expected = trpo.Metrics["train/step_size"] * g / (2 + o.CgDamping), moved = logStd1[j] - logStd0[j];
            Assert.True(moved != 0, $"log σ[{j}] did not move (expected about {expected:G4})");
            Assert.InRange(moved / expected, 0.5, 2.0);
        }
    }

    /// <summary>
    /// line_search_kl_tolerance and fisher_subsample reach the step: with δ so large that the full step overshoots
    /// (KL between δ and 1.5·δ at least once over the updates), tolerance 1.5 accepts steps the paper's bound
    /// would shrink, and the KL stays within 1.5·δ. With the Fisher on every 4th state the step is still a
    /// trust-region step (KL within the bound) and differs from the whole-batch one.
    /// </summary>
    [Fact]
    public void KlToleranceAndFisherSubsampleReachTheStep()
    {
        // A small damping and a large δ: the quadratic model then often underestimates the KL of the full step.
        const double delta = 0.05;
        List<double> Kls(double tolerance, int stride, out float[] parameters)
        {
            var o = Small(); o.VfEpochs = 1; o.MaxKl = delta; o.CgDamping = 1e-3; o.LineSearchKlTolerance = tolerance; o.FisherSubsample = stride;
            using var trpo = Trpo.Create("Pendulum-v1", o);
            var kls = new List<double>();
            trpo.Learn(8 * 128, [new LambdaCallback((_, m) => { if (m.TryGetValue("train/kl", out double k) && k > 0) kls.Add(k); return true; })]);
            parameters = (float[])trpo.Policy.Parameters.Values.Clone();
            return kls;
        }
        var strict = Kls(1.0, 1, out var pStrict);
        var tolerant = Kls(1.5, 1, out var pTolerant);
        var subsampled = Kls(1.0, 4, out var pSub);
        Assert.Equal(8, strict.Count); // every update took a step
        Assert.All(strict, k => Assert.True(k <= delta, $"KL {k} > δ with tolerance 1"));
        Assert.All(tolerant, k => Assert.True(k <= 1.5 * delta, $"KL {k} > 1.5·δ"));
        Assert.Contains(tolerant, k => k > delta); // a step the paper's bound would have shrunk
        Assert.All(subsampled, k => Assert.True(k <= delta, $"KL {k} > δ with the subsampled Fisher"));
        Assert.NotEqual(pStrict, pTolerant);
        Assert.NotEqual(pStrict, pSub);
    }

    [Fact]
    public void ValueFitMovesOnlyTheCritic()
    {
        float[] Run(int vfEpochs)
        {
            var o = Small(); o.VfEpochs = vfEpochs;
            using var trpo = Trpo.Create("Pendulum-v1", o);
            trpo.Learn(128); // one rollout: the policy step, then the value fit
            return (float[])trpo.Policy.Parameters.Values.Clone();
        }
        var without = Run(0);
        var with = Run(3);
        using var probe = Trpo.Create("Pendulum-v1", Small());
        int critic = 0;
        foreach (var s in probe.Policy.Parameters.Slices)
            for (int i = s.Offset; i < s.Offset + s.Length; i++)
            {
                if (!s.Name.StartsWith("critic", StringComparison.Ordinal)) Assert.Equal(without[i], with[i]); // actor and log-std
                else if (without[i] != with[i]) critic++;
            }
        Assert.True(critic > 100, $"{critic} critic weights moved");
    }

    [Theory]
    [InlineData("CartPole-v1")]
    [InlineData("Pendulum-v1")]
    public void SameSeedGivesBitIdenticalParameters(string env)
    {
        float[] Run(long seed)
        {
            var o = Small(seed); o.NormalizeObservation = true; o.NormalizeReward = true;
            using var trpo = Trpo.Create(env, o);
            trpo.Learn(512);
            return (float[])trpo.Policy.Parameters.Values.Clone();
        }
        var a = Run(3);
        Assert.Equal(a, Run(3));
        Assert.NotEqual(a, Run(4));
    }

    [Theory]
    [InlineData("CartPole-v1", false)]
    [InlineData("Pendulum-v1", true)]
    public void SaveLoadResumesBitIdenticallyToAnUninterruptedRun(string env, bool normalize)
    {
        var o = Small(); o.NormalizeObservation = normalize; o.NormalizeReward = normalize; o.AnnealLr = true;
        string dir = Directory.CreateTempSubdirectory("proximal-trpo-").FullName;
        try
        {
            using var straight = Trpo.Create(env, o);
            straight.Learn(4 * 128);

            string path = Path.Combine(dir, "half.zip");
            using (var first = Trpo.Create(env, o))
            {
                first.Learn(4 * 128, [new LambdaCallback((a, _) => a.NumTimesteps < 256)]);
                first.Save(path);
            }
            using var resumed = (Trpo)AlgorithmRegistry.Load(path);
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
    public void RegistryConfigsAndBadOptions()
    {
        var spec = AlgorithmRegistry.Get("trpo");
        Assert.Equal(typeof(TrpoOptions), spec.OptionsType);
        using (var a = spec.Create("CartPole-v1", Small())) Assert.IsType<Trpo>(a);
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "configs", "trpo"), "*.yaml");
        Assert.True(files.Length >= 9);
        foreach (var f in files) ConfigBinder.Load<TrpoOptions>(f).Validate();
        var shared = Small(); shared.Policy.SharedTrunk = true;
        var e = Assert.Throws<ConfigException>(() => Trpo.Create("CartPole-v1", shared));
        Assert.Contains("shared_trunk", e.Message);
        var mb = Small(); mb.VfMinibatchSize = 50;
        Assert.Contains("vf_minibatch_size", Assert.Throws<ConfigException>(() => Trpo.Create("CartPole-v1", mb)).Message);
        Assert.Contains("max_kl", Assert.Throws<ConfigException>(() => ConfigBinder.Parse<TrpoOptions>("max_kl: 0")).Message);
    }

    [Fact]
    public void CartPoleReachesEvaluationReturn475WithinItsBudget()
    {
        var o = Config("CartPole-v1");
        Assert.True(o.TotalSteps <= 200_000);
        using var trpo = Trpo.Create("CartPole-v1", o);
        trpo.Learn(o.TotalSteps);
        using var eval = Trpo.BuildEnv("CartPole-v1", o, forEvaluation: true, numEnvs: 4);
        var r = Evaluation.Evaluate(trpo, eval, 20, deterministic: true, seed: 2024);
        Assert.True(r.MeanReturn >= 475, $"mean evaluation return {r.MeanReturn} < 475");
    }
}
