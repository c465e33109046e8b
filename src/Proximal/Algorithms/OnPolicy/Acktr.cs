using System.Diagnostics;
using System.Runtime.CompilerServices;
using Proximal.Algorithms.Policies;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// Actor-Critic using Kronecker-Factored Trust Region (ACKTR; Wu et al., 2017): A2C's rollout and loss, but the step
/// is a natural gradient with the K-FAC approximation of the Fisher (<see cref="Kfac"/>), for the actor AND the critic,
/// scaled to stay inside a trust region. Per N×T rollout:
/// <list type="number">
/// <item>curvature, on the rollout or a random subset of kfac_stats_batch_size rows (whose layer inputs are read from
/// the loss's forward pass of the rollout when actor and critic are separate networks, else from a forward pass of
/// their own); targets SAMPLED from the model's own predictive distributions (actions
/// ã ~ π(·|s), and for the critic, read as a unit-variance Gaussian, V(s) + N(0, 1)); back-propagating their
/// log-likelihoods gives the pre-activation gradients whose second moments, with the layer inputs', update the
/// Kronecker factors A and G of every layer (running averages, decay 0.99); their damped inverses are refreshed
/// every kfac_update_every updates;</item>
/// <item>gradient g of A2C's loss −mean(log π·A) − c2·mean(H) + c1·mean((V − R)²) on the same forward pass, its
/// global norm optionally clipped;</item>
/// <item>natural gradient s = F̂⁻¹g: per layer G_d⁻¹ ∇W̃ A_d⁻¹; the Gaussian log-std, not a layer, by its exact
/// Fisher 2·I (damped like the factors);</item>
/// <item>trust region: η = min(lr, √(2δ / gᵀs)), so the step's predicted KL ½·η²·sᵀF̂s (= ½·η²·gᵀs) is at most δ
/// (the paper's rule); then momentum (Baselines': v ← μ·v + (η/lr)·s, θ ← θ − lr·(1 − μ)·v).</item>
/// </list>
/// Options beyond the paper, from Baselines' continuous ACKTR (acktr_cont): desired_kl adapts the step size to the
/// KL each update really made; critic_fit: adam keeps the critic out of the natural-gradient step (K-FAC and the trust
/// region then cover the actor alone) and fits it by Adam minibatches afterwards.
/// Rollout, GAE, acting, the learn loop and the model file are shared with PPO, A2C and TRPO.
/// </summary>
public sealed class Acktr : OnPolicyAlgorithm
{
    public const string AlgorithmName = "acktr";

    private readonly Kfac _kfac;

    // Whole-batch workspaces and flat vectors, allocated once.
    private readonly float[] _advantages, _gradOutputs, _gradValues, _sampledActions, _ones; // the last four: the sampled-target pass
    private readonly A2cLoss _loss;
    private readonly float[] _g, _s, _velocity, _statsObs, _oldOutputs, _kl;
    /// <summary>The step size adapted to desired_kl (Baselines' stepsize); starts at learning_rate, saved with the model.</summary>
    private double _adaptiveStepSize;
    private readonly int[] _indices;
    // The statistics on rows of the loss's forward pass (separate tanh/ReLU actor and critic, a subset of the rollout):
    // per K-FAC block the gathered layer inputs and the sampled targets' output gradients [m × in], [m × out], and the
    // number of the actor's layers (the critic's follow); null when the statistics run their own forward pass.
    private readonly float[][]? _statsInputs, _statsGradients;
    private readonly float[] _statsOutputs, _statsDx;
    private readonly int _actorLayers;
    private long _statisticsTicks, _inverseTicks, _preconditionTicks;

    private Acktr(VecEnv env, AcktrOptions options, string? envId, bool ownsEnv)
        : this(ValidatedCopy(options), env, envId, ownsEnv) { }

    private Acktr(AcktrOptions options, VecEnv env, string? envId, bool ownsEnv)
        : base(env, options, envId, ownsEnv, createAdam: options.CriticFit == AcktrCriticFit.Adam)
    {
        Options = options;
        _actorLayers = options.Policy.SharedTrunk ? 0 : options.Policy.HiddenSizes.Length + 1;
        // critic_fit: adam — K-FAC (and so the trust region) covers the actor's layers only; the critic has Adam.
        var curvatureLayers = options.CriticFit == AcktrCriticFit.Adam ? Policy.Linears.Take(_actorLayers).ToArray() : Policy.Linears;
        _kfac = new Kfac(curvatureLayers, options.KfacStatsDecay, options.KfacDamping) { Threads = options.TrainThreads };
        int b = Buffer.Count, n = Policy.Parameters.Count;
        _advantages = new float[b];
        _loss = new A2cLoss(b, Policy.OutputSize);
        _gradOutputs = new float[b * Policy.OutputSize];
        _gradValues = new float[b];
        _sampledActions = new float[b * Policy.ActionSize];
        _ones = new float[b];
        Array.Fill(_ones, 1f);
        _g = new float[n];
        _s = new float[n];
        _velocity = new float[n];
        _indices = new int[b];
        _oldOutputs = new float[b * Policy.OutputSize];
        _kl = new float[b];
        _adaptiveStepSize = options.LearningRate;
        int statsRows = options.KfacStatsBatchSize is > 0 and var m && m < b ? m : 0;
        _statsObs = new float[statsRows * env.ObservationSize];
        _statsOutputs = new float[statsRows * Policy.OutputSize];
        _statsDx = [];
        if (statsRows > 0 && !options.Policy.SharedTrunk)
        {
            var blocks = _kfac.Blocks;
            _statsInputs = blocks.Select(k => new float[statsRows * k.Layer.InputSize]).ToArray();
            _statsGradients = blocks.Select(k => new float[statsRows * k.OutputDim]).ToArray();
            _statsDx = new float[statsRows * blocks.Max(k => k.Layer.InputSize)];
        }
    }

    /// <summary>Tests: false makes the statistics run their own forward pass on the subset even where rows of the loss's forward pass would serve.</summary>
    internal bool FuseStatisticsWithTheLossForward { get; set; } = true;

    /// <summary>ACKTR on an environment you built (the caller keeps ownership of <paramref name="env"/>).</summary>
    public Acktr(VecEnv env, AcktrOptions? options = null) : this(env, options ?? new AcktrOptions(), envId: null, ownsEnv: false) { }

    /// <summary>ACKTR on a registered environment id, built with the options' n_envs, normalisation and threading.</summary>
    public static Acktr Create(string envId, AcktrOptions? options = null)
        => CreateOnRegisteredEnv(envId, options ??= new AcktrOptions(), env => new Acktr(env, options, envId, ownsEnv: true));

    /// <summary>Loads a model saved by <see cref="BaseAlgorithm.Save"/> (see <see cref="Ppo.Load"/> for the rules).</summary>
    public static Acktr Load(string path, VecEnv? env = null)
        => LoadModel<Acktr, AcktrOptions>(path, env, AlgorithmName, (e, o, id, owns) => new Acktr(e, o, id, owns));

    public override string Algorithm => AlgorithmName;
    public AcktrOptions Options { get; }
    /// <summary>The K-FAC state (factors, inverses) of the actor's and critic's layers.</summary>
    public Kfac Kfac => _kfac;
    /// <summary>The latest rollout (for tests that recompute the step independently).</summary>
    internal RolloutBuffer RolloutForTests => Buffer;

    /// <summary>
    /// Seconds spent so far in the curvature work of the updates — Statistics: the sampled-target backward pass and the
    /// factor updates; Inverses: the damped inverses; Precondition: applying them to the gradient — out of
    /// <see cref="BaseAlgorithm.Timing"/>.Train.
    /// </summary>
    public (double Statistics, double Inverses, double Precondition) CurvatureTiming =>
        (_statisticsTicks / (double)Stopwatch.Frequency, _inverseTicks / (double)Stopwatch.Frequency, _preconditionTicks / (double)Stopwatch.Frequency);

    protected override void SaveState(ModelStateWriter writer)
    {
        base.SaveState(writer); // the policy
        writer.Add(new ModelArray("optimizer/momentum", _velocity.AsMemory()));
        writer.Add(new ModelArray("optimizer/adaptive_step_size", new[] { _adaptiveStepSize }.AsMemory()));
        writer.Add(new ModelArray("kfac/counts", new[] { _kfac.StatisticsUpdates, _kfac.InverseUpdates }.AsMemory()));
        for (int i = 0; i < _kfac.Blocks.Count; i++)
        {
            var block = _kfac.Blocks[i];
            writer.Add(new ModelArray($"kfac/{i}/a", block.A.AsMemory()));
            writer.Add(new ModelArray($"kfac/{i}/g", block.G.AsMemory()));
            writer.Add(new ModelArray($"kfac/{i}/a_inverse", block.AInverse.AsMemory()));
            writer.Add(new ModelArray($"kfac/{i}/g_inverse", block.GInverse.AsMemory()));
            writer.Add(new ModelArray($"kfac/{i}/pi", new[] { block.Pi }.AsMemory()));
        }
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        base.RestoreState(reader);
        var model = reader.Model;
        var velocity = model.GetFloat32("optimizer/momentum", _velocity.Length).Span;
        RequireFinite(reader, "optimizer/momentum", velocity);
        velocity.CopyTo(_velocity);
        // Files written before desired_kl existed have no adapted step size: it then starts at learning_rate, as new runs do.
        if (reader.Has("optimizer/adaptive_step_size"))
        {
            double step = model.GetFloat64("optimizer/adaptive_step_size", 1).Span[0];
            if (!(step > 0) || !double.IsFinite(step))
                throw new ModelFileException(reader.Path, $"model file {reader.Path}: array 'optimizer/adaptive_step_size' holds {step}; it must be a positive finite number.");
            _adaptiveStepSize = step;
        }
        var counts = model.GetInt64("kfac/counts", 2).Span;
        if (counts[0] < 0 || counts[1] < 0)
            throw new ModelFileException(reader.Path, $"model file {reader.Path}: array 'kfac/counts' holds negative counts; the K-FAC state is corrupt.");
        for (int i = 0; i < _kfac.Blocks.Count; i++)
        {
            var block = _kfac.Blocks[i];
            var a = model.GetFloat64($"kfac/{i}/a", block.A.Length).Span;
            var g = model.GetFloat64($"kfac/{i}/g", block.G.Length).Span;
            var aInv = model.GetFloat32($"kfac/{i}/a_inverse", block.AInverse.Length).Span;
            var gInv = model.GetFloat32($"kfac/{i}/g_inverse", block.GInverse.Length).Span;
            double pi = model.GetFloat64($"kfac/{i}/pi", 1).Span[0];
            foreach (var (name, values) in new[] { ("a", a.ToArray()), ("g", g.ToArray()) })
                foreach (double v in values)
                    if (!double.IsFinite(v)) throw new ModelFileException(reader.Path, $"model file {reader.Path}: array 'kfac/{i}/{name}' holds {v}; the K-FAC factors must be finite.");
            RequireFinite(reader, $"kfac/{i}/a_inverse", aInv);
            RequireFinite(reader, $"kfac/{i}/g_inverse", gInv);
            block.LoadState(a, g, aInv, gInv, pi);
        }
        _kfac.LoadCounts(counts[0], counts[1]);
    }

    private static void RequireFinite(ModelStateReader reader, string name, ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) throw new ModelFileException(reader.Path, $"model file {reader.Path}: array '{name}' holds {v}; ACKTR's optimiser state must be finite.");
    }

    // ---------------------------------------------------------------- update

    // Runs once per rollout: too rarely for tiered JIT to optimise it within a run, so it is compiled optimised at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Train(double scheduleFraction)
    {
        // With desired_kl the cap η_max is the step size adapted to the measured KL (Baselines' acktr_cont), else the
        // (scheduled) learning rate.
        double lr = Options.DesiredKl is null ? ScheduledLearningRate(scheduleFraction) : _adaptiveStepSize;
        int b = Buffer.Count;
        var parameters = Policy.Parameters;
        var head = Policy.Head;
        head.SnapshotOld(); // π_old's log-std, for the measured KL after the step

        // Advantages: GAE(γ, λ) from the rollout (λ = 1: n-step returns), optionally normalised.
        Buffer.Advantages.CopyTo(_advantages, 0);
        if (Options.NormalizeAdvantage) Surrogate.NormalizeAdvantages(_advantages);

        // 1. Curvature, on the whole rollout or a random subset of m rows, and 2. g = ∇ of A2C's loss. On the whole rollout
        // one forward pass serves both backward passes (the layers keep their inputs); on a subset, the statistics
        // back-propagate the subset's rows of the loss's forward pass themselves (FusedSubsetStatistics) where they can,
        // and otherwise run their own forward pass on the subset first.
        long t0 = Stopwatch.GetTimestamp(), t1, t2;
        int m = Options.KfacStatsBatchSize is > 0 and var k && k < b ? k : b, od = Env.ObservationSize;
        ReadOnlySpan<float> outputs, values;
        double norm;
        A2cLoss.Parts parts;
        if (m < b && _statsInputs is not null && FuseStatisticsWithTheLossForward)
        {
            outputs = Policy.Forward(Buffer.Observations, b, out values);
            (parts, norm) = LossGradient(outputs, values);
            t0 = Stopwatch.GetTimestamp();
            FusedSubsetStatistics(outputs, m);
            t1 = Stopwatch.GetTimestamp();
        }
        else
        {
            ReadOnlySpan<float> statsObs = Buffer.Observations;
            if (m < b)
            {
                ShuffleIndices(b);
                Kernels.GatherRows(Buffer.Observations, od, _indices.AsSpan(0, m), _statsObs);
                statsObs = _statsObs.AsSpan(0, m * od);
            }
            var sampleOutputs = Policy.Forward(statsObs, m, out var sampleValues);
            SampledTargetGradients(sampleOutputs, m);
            // Only the layers' output gradients are needed here, not the weight gradients (the loss's gradient is formed
            // afresh below), so the backward pass skips them: a third of its products.
            Policy.Backward(_gradOutputs.AsSpan(0, m * Policy.OutputSize), _gradValues.AsSpan(0, m), parameterGradients: false);
            _kfac.UpdateStatistics();
            t1 = Stopwatch.GetTimestamp();
            outputs = sampleOutputs; values = sampleValues;
            if (m < b) outputs = Policy.Forward(Buffer.Observations, b, out values);
            (parts, norm) = LossGradient(outputs, values);
        }
        _statisticsTicks += t1 - t0;
        // π_old's outputs on the whole rollout (the loss's forward pass), for the KL the step really makes.
        outputs.Slice(0, b * Policy.OutputSize).CopyTo(_oldOutputs);
        t1 = Stopwatch.GetTimestamp();
        if ((_kfac.StatisticsUpdates - 1) % Options.KfacUpdateEvery == 0) _kfac.RefreshInverses();
        t2 = Stopwatch.GetTimestamp();
        _inverseTicks += t2 - t1;

        // 3. s = F̂⁻¹g: K-FAC for every layer; the log-std (Gaussian policies) by its exact Fisher, 2 per component.
        long t3 = Stopwatch.GetTimestamp();
        _kfac.Precondition(_g, _s);
        if (Policy.LogStdSlice is { } logStd)
        {
            var gs = logStd.Of(_g.AsSpan());
            var ss = logStd.Of(_s.AsSpan());
            double inverse = 1 / (2 + Options.KfacDamping);
            for (int j = 0; j < gs.Length; j++) ss[j] = (float)(gs[j] * inverse);
        }
        _preconditionTicks += Stopwatch.GetTimestamp() - t3;

        // 4. Trust region: the largest η ≤ lr whose predicted KL ½·η²·gᵀs stays within δ; then the momentum step.
        double gTs = Dot(_g, _s);
        double eta = lr;
        if (gTs > 0 && 0.5 * lr * lr * gTs > Options.MaxKl) eta = Math.Sqrt(2 * Options.MaxKl / gTs);
        if (!(gTs >= 0) || !double.IsFinite(gTs))
            throw new InvalidOperationException($"ACKTR update diverged: gᵀF̂⁻¹g is {gTs} at step {NumTimesteps} (the K-FAC factors lost positive definiteness).");
        float scale = lr > 0 ? (float)(eta / lr) : 0f, mu = (float)Options.Momentum, stepSize = (float)(lr * (1 - Options.Momentum));
        var theta = parameters.Values;
        for (int i = 0; i < theta.Length; i++)
        {
            _velocity[i] = mu * _velocity[i] + scale * _s[i];
            theta[i] -= stepSize * _velocity[i];
        }

        // 5. The KL the step really made, mean_s KL(π_old ‖ π_new) over the rollout (the trust region bounds only the
        // quadratic model's prediction of it); with desired_kl it steers the next step size, as in Baselines.
        head.Kl(_oldOutputs, Policy.ActorOutputs(Buffer.Observations, b), _kl);
        double measuredKl = 0;
        for (int i = 0; i < b; i++) measuredKl += _kl[i];
        measuredKl /= b;
        if (Options.DesiredKl is { } desiredKl) _adaptiveStepSize = AdaptStepSize(_adaptiveStepSize, measuredKl, desiredKl);

        // 6. critic_fit: adam — the critic, fitted to the returns after the actor's step (as TRPO's).
        if (Options.CriticFit == AcktrCriticFit.Adam)
            parts = parts with { Value = FitValueFunction(Options.VfEpochs, Options.VfMinibatchSize, Options.VfLearningRate) };

        IterationMetrics["train/policy_loss"] = parts.Policy;
        IterationMetrics["train/value_loss"] = parts.Value;
        IterationMetrics["train/entropy"] = parts.Entropy;
        IterationMetrics["train/grad_norm"] = norm;
        IterationMetrics["train/step_size"] = eta;
        IterationMetrics["train/predicted_kl"] = 0.5 * eta * eta * gTs;
        IterationMetrics["train/kl"] = measuredKl;
        if (Options.DesiredKl is not null) IterationMetrics["train/adaptive_step_size"] = _adaptiveStepSize;
        IterationMetrics["train/explained_variance"] = Surrogate.ExplainedVariance(Buffer.Values, Buffer.Returns);
        IterationMetrics["train/learning_rate"] = lr;
        if (Policy.LogStd.Length > 0)
        {
            double s = 0;
            foreach (float x in Policy.LogStd) s += x;
            IterationMetrics["train/std"] = Math.Exp(s / Policy.LogStd.Length);
        }
    }

    /// <summary>
    /// Baselines' acktr_cont step-size rule: ÷1.5 when the measured KL exceeds 2·desired, ×1.5 when it is below
    /// desired/2, unchanged in between; kept within [1e-8, 1].
    /// </summary>
    internal static double AdaptStepSize(double stepSize, double measuredKl, double desiredKl)
    {
        if (measuredKl > 2 * desiredKl) return Math.Max(1e-8, stepSize / 1.5);
        if (measuredKl < desiredKl / 2) return Math.Min(1.0, stepSize * 1.5);
        return stepSize;
    }

    /// <summary>
    /// g = ∇ of A2C's loss at the given forward pass into _g (its global norm optionally clipped); returns the loss's
    /// parts and the norm.
    /// </summary>
    private (A2cLoss.Parts Parts, double Norm) LossGradient(ReadOnlySpan<float> outputs, ReadOnlySpan<float> values)
    {
        var parameters = Policy.Parameters;
        parameters.ZeroGradients();
        // critic_fit: adam — the natural-gradient step is the actor's alone (vf_coef 0 here); the critic is fitted afterwards.
        double vfCoef = Options.CriticFit == AcktrCriticFit.Adam ? 0 : Options.VfCoef;
        var parts = _loss.AddGradient(Policy, outputs, values, Buffer.Actions, _advantages, Buffer.Returns, Options.EntCoef, vfCoef);
        double norm = Options.MaxGradNorm is { } maxNorm ? parameters.ClipGradientNorm(maxNorm) : parameters.GradientNorm();
        if (!double.IsFinite(norm))
            throw new InvalidOperationException($"ACKTR update diverged: the gradient norm is {norm} at step {NumTimesteps}. Lower learning_rate or max_kl, or enable normalisation.");
        parameters.Gradients.CopyTo(_g, 0);
        return (parts, norm);
    }

    /// <summary>_indices[0..m) ← a fresh random subset of the rollout's rows (the first m of a shuffle).</summary>
    private void ShuffleIndices(int b)
    {
        for (int i = 0; i < b; i++) _indices[i] = i;
        TrainRng.Shuffle(_indices.AsSpan(0, b));
    }

    /// <summary>
    /// The sampled targets of m rows with policy outputs <paramref name="outputs"/>: actions ã ~ π(·|s) with their
    /// log-likelihood gradients into _gradOutputs, and the critic's ε ~ N(0, 1) (∂ log N(V + ε | V, 1)/∂V = ε) into _gradValues.
    /// </summary>
    private void SampledTargetGradients(ReadOnlySpan<float> outputs, int m)
    {
        SampledLogLikelihoodGradients(Policy.Head, outputs, TrainRng, _sampledActions.AsSpan(0, m * Policy.ActionSize), _ones.AsSpan(0, m),
            _gradOutputs.AsSpan(0, m * Policy.OutputSize));
        for (int i = 0; i < m; i++) _gradValues[i] = (float)TrainRng.NextGaussian();
    }

    /// <summary>
    /// K-FAC statistics of a random subset of m rows without a forward pass of their own: the rows' layer inputs are
    /// gathered from the forward pass the loss just ran on the whole rollout, and their sampled targets are
    /// back-propagated here, layer by layer (∂/∂x = g·W, then the hidden activation's derivative from its output, as
    /// the networks' own backward pass does). The same random rows, targets and products as a forward and backward
    /// pass of the subset (every GEMM sums each entry in the same order whatever the batch), so the same bits — at
    /// the cost of the backward alone. Needs separate actor and critic networks (<see cref="_statsInputs"/>).
    /// </summary>
    private void FusedSubsetStatistics(ReadOnlySpan<float> outputs, int m)
    {
        int b = Buffer.Count, p = Policy.OutputSize;
        ShuffleIndices(b);
        Kernels.GatherRows(outputs, p, _indices.AsSpan(0, m), _statsOutputs);
        SampledTargetGradients(_statsOutputs.AsSpan(0, m * p), m);
        var gradients = _statsGradients!;
        int layers = _kfac.Blocks.Count;
        _gradOutputs.AsSpan(0, m * p).CopyTo(gradients[_actorLayers - 1]);
        BackPropagateSampledTargets(0, _actorLayers - 1, m);     // the actor's layers
        if (layers > _actorLayers)                                // the critic's (absent with critic_fit: adam)
        {
            _gradValues.AsSpan(0, m).CopyTo(gradients[layers - 1]);
            BackPropagateSampledTargets(_actorLayers, layers - 1, m);
        }
        _kfac.UpdateStatistics(_statsInputs!, gradients, m);
    }

    /// <summary>
    /// For the network whose K-FAC blocks are [bottom, top]: gathers each layer's inputs for the rows _indices[0..m)
    /// into _statsInputs, and from the top layer's output gradients (already in _statsGradients[top]) computes every
    /// lower layer's: ∂/∂x = g·W [m × in], times the derivative of the hidden activation read from its output (the
    /// next layer's input), as the network's backward pass does.
    /// </summary>
    private void BackPropagateSampledTargets(int bottom, int top, int m)
    {
        var blocks = _kfac.Blocks;
        var inputs = _statsInputs!;
        var gradients = _statsGradients!;
        bool tanh = Options.Policy.Activation == ActivationKind.Tanh;
        for (int l = top; l >= bottom; l--)
        {
            var layer = blocks[l].Layer;
            int inSize = layer.InputSize, outSize = layer.OutputSize;
            var x = layer.LastInput;
            Kernels.GatherRows(x, inSize, _indices.AsSpan(0, m), inputs[l]);
            if (l == bottom) break;
            var dx = _statsDx.AsSpan(0, m * inSize);
            Gemm.Multiply(Transpose.No, Transpose.No, m, inSize, outSize, 1f, gradients[l].AsSpan(0, m * outSize), outSize,
                layer.WeightValues, inSize, 0f, dx, inSize, _kfac.Threads);
            var y = inputs[l].AsSpan(0, m * inSize);
            if (tanh) Kernels.TanhDerivativeTimes(y, dx, gradients[l - 1].AsSpan(0, m * inSize));
            else Kernels.ReluDerivativeTimes(y, dx, gradients[l - 1].AsSpan(0, m * inSize));
        }
    }

    /// <summary>
    /// The Fisher's sampled targets: ã_r ~ π(·|s_r) for every row, and gradOutputs[r] = ∂ log π(ã_r|s_r)/∂outputs[r]
    /// (a per-row log-likelihood, weight 1 each: <paramref name="ones"/> is all 1). E[gradOutputs gradOutputsᵀ] is then
    /// the distribution's Fisher in output coordinates (softmax: diag(p) − ppᵀ; Gaussian mean: diag(1/σ²)) — unlike the
    /// empirical Fisher, which would use the rollout's actions.
    /// </summary>
    internal static void SampledLogLikelihoodGradients(ActionHead head, ReadOnlySpan<float> outputs, Rng rng, Span<float> sampledActions,
        ReadOnlySpan<float> ones, Span<float> gradOutputs)
    {
        head.Sample(outputs, rng, sampledActions);
        gradOutputs.Clear();
        head.LogProbBackward(outputs, sampledActions, ones, gradOutputs); // also touches the log-std gradient, zeroed afterwards
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
