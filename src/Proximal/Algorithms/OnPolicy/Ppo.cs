using Proximal.Algorithms.Policies;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Numerics;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// Proximal Policy Optimization (Schulman et al., 2017), "PPO, actor-critic style": N actors each run
/// the policy for T steps, advantages come from GAE(γ, λ), then K epochs of minibatch Adam optimise the
/// surrogate — clipped, adaptive-KL, fixed-KL, or the unclipped baseline (<see cref="SurrogateKind"/>).
/// The rollout, GAE, acting, the learn loop and the model file are shared (<see cref="OnPolicyAlgorithm"/>,
/// <see cref="BaseAlgorithm"/>); this file is PPO's update, top to bottom. The implementation details that make
/// published results reproducible (docs/ppo-details.md) are marked with their checklist number, e.g. [5].
/// <para>Usage: <c>using var ppo = Ppo.Create("CartPole-v1", options); ppo.Learn(100_000); ppo.Save("m.zip");</c></para>
/// </summary>
public sealed class Ppo : OnPolicyAlgorithm
{
    public const string AlgorithmName = "ppo";

    private readonly float[] _oldOutputs; // actor outputs at collection time, for the KL surrogates [T×N×P]

    // Minibatch workspaces, allocated once.
    private readonly int[] _indices;
    private readonly float[] _mbObs, _mbActions, _mbOldLogProb, _mbOldValues, _mbAdvantages, _mbReturns, _mbOldOutputs;
    private readonly bool[] _mbMasks; // [action masks] [m × P], empty without masks
    private readonly float[] _newLogProb, _entropy, _kl, _gradLogProb, _gradEntropy, _gradKl, _gradOutputs, _gradValues;

    private Ppo(VecEnv env, PpoOptions options, string? envId, bool ownsEnv)
        : this(ValidatedCopy(options), env, envId, ownsEnv) { }

    private Ppo(PpoOptions options, VecEnv env, string? envId, bool ownsEnv) : base(env, options, envId, ownsEnv)
    {
        Options = options;
        KlBeta = Options.KlBeta;
        int n = Options.NEnvs, t = Options.NSteps, od = env.ObservationSize, ad = env.ActionSize, p = Policy.OutputSize;
        _oldOutputs = UsesKl ? new float[t * n * p] : [];
        int m = Options.MinibatchSize;
        _indices = new int[n * t];
        _mbObs = new float[m * od];
        _mbActions = new float[m * ad];
        _mbOldLogProb = new float[m];
        _mbOldValues = new float[m];
        _mbAdvantages = new float[m];
        _mbReturns = new float[m];
        _mbOldOutputs = new float[m * p];
        _newLogProb = new float[m];
        _entropy = new float[m];
        _kl = new float[m];
        _gradLogProb = new float[m];
        _gradEntropy = new float[m];
        _gradKl = new float[m];
        _gradOutputs = new float[m * p];
        _gradValues = new float[m];
        _mbMasks = Buffer.MaskSize == 0 ? [] : new bool[m * Buffer.MaskSize]; // [action masks]
    }

    /// <summary>[action masks] PPO's update applies the rollout's masks (sampling, log-probs, entropy, KL and their gradients).</summary>
    protected override bool SupportsActionMasks => true;


    /// <summary>PPO on an environment you built (the caller keeps ownership of <paramref name="env"/>).</summary>
    public Ppo(VecEnv env, PpoOptions? options = null) : this(env, options ?? new PpoOptions(), envId: null, ownsEnv: false) { }

    /// <summary>PPO on a registered environment id, built with the options' n_envs, normalisation and threading.</summary>
    public static Ppo Create(string envId, PpoOptions? options = null)
        => CreateOnRegisteredEnv(envId, options ??= new PpoOptions(), env => new Ppo(env, options, envId, ownsEnv: true));

    /// <summary>
    /// Loads a model saved by <see cref="BaseAlgorithm.Save"/>. Without <paramref name="env"/>, the env is rebuilt from the
    /// stored id and options; with one, its spaces and copies must match the stored ones. The file is validated field
    /// by field; nothing in it is executed. Continue an interrupted run with <c>Learn(steps, …, ScheduleMode.Continue)</c>.
    /// </summary>
    public static Ppo Load(string path, VecEnv? env = null)
        => LoadModel<Ppo, PpoOptions>(path, env, AlgorithmName, (e, o, id, owns) => new Ppo(e, o, id, owns));

    public override string Algorithm => AlgorithmName;
    /// <summary>[distributed] Its update reduces its gradients and statistics across ranks (ReduceGradients and co.).</summary>
    protected override bool SupportsDataParallel => true;
    public PpoOptions Options { get; }
    /// <summary>β of the KL-penalty surrogates (adapted after each update for <see cref="SurrogateKind.AdaptiveKl"/>).</summary>
    public double KlBeta { get; private set; }
    /// <summary>True when the latest update ended early on target_kl.</summary>
    public bool EarlyStopped { get; private set; }

    /// <summary>Surrogate statistics of the first minibatch of the latest update (ratio is exactly 1 there).</summary>
    internal PolicyLossStats FirstMinibatchStats { get; private set; }

    private bool UsesKl => Options.Surrogate is SurrogateKind.AdaptiveKl or SurrogateKind.FixedKl;

    protected override void OnRolloutStep(int t, ReadOnlySpan<float> actorOutputs)
    {
        if (UsesKl) actorOutputs.CopyTo(_oldOutputs.AsSpan(t * actorOutputs.Length, actorOutputs.Length));
    }

    protected override void SaveState(ModelStateWriter writer)
    {
        base.SaveState(writer);
        writer.Metadata["kl_beta"] = KlBeta;
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        base.RestoreState(reader);
        KlBeta = reader.Metadata["kl_beta"] is null ? Options.KlBeta : reader.GetDouble("kl_beta");
    }

    // ---------------------------------------------------------------- update

    /// <summary>
    /// One PPO update from the filled rollout: K epochs over shuffled minibatches of the surrogate loss
    /// L = −surrogate + c1·value loss − c2·entropy (+ β·KL for the KL variants), each minibatch one Adam step.
    /// </summary>
    protected override void Train(double scheduleFraction)
    {
        double lr = ScheduledLearningRate(scheduleFraction);                                                  // [4]
        double clip = Options.AnnealClipRange ? Options.ClipRange * scheduleFraction : Options.ClipRange;
        int batch = Buffer.Count, m = Options.MinibatchSize, p = Policy.OutputSize;
        var head = Policy.Head;
        var parameters = Policy.Parameters;
        head.SnapshotOld(); // parameters have not moved since the rollout: this is π_old's log-std
        for (int i = 0; i < batch; i++) _indices[i] = i;

        double sumPolicy = 0, sumValue = 0, sumEntropy = 0, sumKl1 = 0, sumKl2 = 0, sumClip = 0, sumKlAnalytic = 0, sumNorm = 0;
        int updates = 0, epochsRun = 0;
        bool stop = false;
        EarlyStopped = false;
        for (int epoch = 0; epoch < Options.NEpochs && !stop; epoch++)
        {
            TrainRng.Shuffle(_indices.AsSpan()); // [6] shuffle the whole batch, cut into minibatches
            if (Options.NormalizeAdvantage) PrepareMinibatchAdvantages(_indices, m); // [distributed] one all-reduce per epoch; no-op in one process
            for (int start = 0; start < batch; start += m)
            {
                var idx = _indices.AsSpan(start, m);
                Buffer.Gather(idx, _mbObs, _mbActions, _mbOldLogProb, _mbOldValues, _mbAdvantages, _mbReturns);
                if (_mbMasks.Length > 0) Buffer.GatherMasks(idx, _mbMasks); // [action masks]
                if (UsesKl) Nn.Kernels.GatherRows(_oldOutputs, p, idx, _mbOldOutputs);
                if (Options.NormalizeAdvantage) NormalizeAdvantages(_mbAdvantages); // [7] (over all ranks when distributed)

                var loss = LossAndGradient(m, clip); // [8]–[10], [21]: fills the parameters' gradients

                // Early stop as SB3's target_kl: this minibatch's approx-KL above 1.5 × target_kl ends the update
                // before its optimiser step (the KL is of the parameters as they stand, before this step).
                if (Options.TargetKl is { } targetKl && MeanAcrossRanks(loss.Policy.ApproxKl) > 1.5 * targetKl) // [distributed] all ranks agree
                {
                    stop = true;
                    EarlyStopped = true;
                    break;
                }

                ReduceGradients(); // [distributed] one all-reduce of the flat gradient; no-op in one process
                double norm = Options.MaxGradNorm is { } maxNorm ? parameters.ClipGradientNorm(maxNorm) : parameters.GradientNorm(); // [11]
                if (!double.IsFinite(norm))
                    throw new InvalidOperationException($"PPO update diverged: the gradient norm is {norm} at step {NumTimesteps} (epoch {epoch}). Lower learning_rate or enable max_grad_norm / normalisation.");
                Optimizer.Step(lr);

                var stats = loss.Policy;
                if (updates == 0) FirstMinibatchStats = stats;
                sumPolicy += stats.Loss; sumValue += loss.Value; sumEntropy += loss.Entropy;
                sumKl1 += stats.ApproxKlNaive; sumKl2 += stats.ApproxKl; sumClip += stats.ClipFraction;
                sumKlAnalytic += loss.Kl; sumNorm += norm;
                updates++;
            }
            if (!stop) epochsRun++;
        }

        // [22] adaptive β from the mean KL of the whole batch after the update
        double klAfter = double.NaN;
        if (UsesKl)
        {
            klAfter = BatchKl();
            if (Options.Surrogate == SurrogateKind.AdaptiveKl) KlBeta = Surrogate.AdaptBeta(KlBeta, klAfter, Options.AdaptiveKlTarget);
        }

        // [12] diagnostics
        double inv = 1.0 / Math.Max(updates, 1); // an early stop before the first step leaves zeros
        IterationMetrics["train/policy_loss"] = sumPolicy * inv;
        IterationMetrics["train/value_loss"] = sumValue * inv;
        IterationMetrics["train/entropy"] = sumEntropy * inv;
        IterationMetrics["train/approx_kl_naive"] = sumKl1 * inv;
        IterationMetrics["train/approx_kl"] = sumKl2 * inv;
        IterationMetrics["train/clip_fraction"] = sumClip * inv;
        IterationMetrics["train/grad_norm"] = sumNorm * inv;
        IterationMetrics["train/explained_variance"] = Surrogate.ExplainedVariance(Buffer.Values, Buffer.Returns);
        IterationMetrics["train/learning_rate"] = lr;
        IterationMetrics["train/clip_range"] = clip;
        IterationMetrics["train/epochs"] = epochsRun;
        if (Options.TargetKl is not null) IterationMetrics["train/early_stopped"] = EarlyStopped ? 1 : 0;
        if (UsesKl)
        {
            IterationMetrics["train/kl_mean"] = sumKlAnalytic * inv;
            IterationMetrics["train/kl_after_update"] = klAfter;
            IterationMetrics["train/kl_beta"] = KlBeta;
        }
        if (Policy.LogStd.Length > 0) IterationMetrics["train/std"] = Math.Exp(Reductions.MeanInDouble(Policy.LogStd));
    }

    /// <summary>One minibatch's loss terms (means over the minibatch) as the update weighs them.</summary>
    internal readonly record struct MinibatchLoss(PolicyLossStats Policy, double Value, double Entropy, double Kl, double Total);

    /// <summary>
    /// The loss of the minibatch in the _mb* workspaces and its gradient, added into the zeroed parameter gradients:
    /// L = policy loss [8] + vf_coef · value loss [9] − ent_coef · mean entropy [10] + β · mean KL(π_old‖π) [21].
    /// </summary>
    private MinibatchLoss LossAndGradient(int m, double clip)
    {
        var head = Policy.Head;
        var parameters = Policy.Parameters;
        parameters.ZeroGradients();
        var outputs = Policy.Forward(_mbObs, m, out var values);
        ReadOnlySpan<bool> mask = _mbMasks; // [action masks] empty without masks: the unmasked methods run
        head.LogProb(outputs, _mbActions, _newLogProb, mask);

        // [8] surrogate and its gradient w.r.t. each new log-probability
        var stats = Surrogate.PolicyLoss(Options.Surrogate, clip, _newLogProb, _mbOldLogProb, _mbAdvantages, _gradLogProb);
        Array.Clear(_gradOutputs);
        head.LogProbBackward(outputs, _mbActions, _gradLogProb, _gradOutputs, mask);

        // [10] entropy bonus: loss −= c2·mean(H)
        head.Entropy(outputs, _entropy, mask);
        double entropy = Reductions.MeanInDouble(_entropy);
        if (Options.EntCoef > 0)
        {
            Array.Fill(_gradEntropy, (float)(-Options.EntCoef / m));
            head.EntropyBackward(outputs, _gradEntropy, _gradOutputs, mask);
        }

        // [21] KL penalty: loss += β·mean(KL(π_old‖π)), analytic per state
        double klAnalytic = 0;
        if (UsesKl)
        {
            head.Kl(_mbOldOutputs, outputs, _kl, mask);
            klAnalytic = Reductions.MeanInDouble(_kl);
            Array.Fill(_gradKl, (float)(KlBeta / m));
            head.KlBackward(_mbOldOutputs, outputs, _gradKl, _gradOutputs, mask);
        }

        // [9] value loss (optionally clipped), weighted by c1
        double valueLoss = Surrogate.ValueLoss(values, _mbOldValues, _mbReturns, Options.ClipRangeVf, _gradValues);
        if (Options.VfCoef != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(_gradValues, (float)Options.VfCoef, _gradValues);

        Policy.Backward(_gradOutputs, _gradValues);
        double total = stats.Loss + Options.VfCoef * valueLoss - Options.EntCoef * entropy + (UsesKl ? KlBeta * klAnalytic : 0);
        return new MinibatchLoss(stats, valueLoss, entropy, klAnalytic, total);
    }

    /// <summary>
    /// Test access to <see cref="LossAndGradient"/> on a given minibatch (advantages as given: no normalisation).
    /// Parameter gradients hold d L / d θ afterwards. Call <c>Policy.Head.SnapshotOld()</c> first for the KL terms.
    /// </summary>
    internal MinibatchLoss LossAndGradientOf(ReadOnlySpan<float> obs, ReadOnlySpan<float> actions, ReadOnlySpan<float> oldLogProb,
        ReadOnlySpan<float> oldValues, ReadOnlySpan<float> advantages, ReadOnlySpan<float> returns, ReadOnlySpan<float> oldOutputs, double clip,
        ReadOnlySpan<bool> masks = default)
    {
        int m = Options.MinibatchSize;
        if (!masks.IsEmpty) masks.CopyTo(_mbMasks); // [action masks]
        obs.CopyTo(_mbObs); actions.CopyTo(_mbActions); oldLogProb.CopyTo(_mbOldLogProb); oldValues.CopyTo(_mbOldValues);
        advantages.CopyTo(_mbAdvantages); returns.CopyTo(_mbReturns);
        if (UsesKl) oldOutputs.CopyTo(_mbOldOutputs);
        return LossAndGradient(m, clip);
    }

    /// <summary>Mean analytic KL(π_old‖π) over the whole rollout, in minibatch-sized chunks.</summary>
    private double BatchKl()
    {
        int batch = Buffer.Count, m = Options.MinibatchSize, od = Env.ObservationSize, p = Policy.OutputSize;
        double sum = 0;
        for (int start = 0; start < batch; start += m)
        {
            int rows = Math.Min(m, batch - start);
            var outputs = Policy.ActorOutputs(Buffer.Observations.AsSpan(start * od, rows * od), rows);
            var kl = _kl.AsSpan(0, rows);
            int s = Buffer.MaskSize; // [action masks] empty span without masks
            Policy.Head.Kl(_oldOutputs.AsSpan(start * p, rows * p), outputs, kl, Buffer.ActionMasks.AsSpan(start * s, rows * s));
            foreach (float v in kl) sum += v;
        }
        return sum / batch;
    }


}
