using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Nn;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// Advantage Actor-Critic, the synchronous variant of A3C (Mnih et al., 2016): N actors run the policy for
/// T steps (T = 5 by default), GAE(γ, λ) gives the advantages (λ = 1: the n-step returns of the paper), then ONE
/// gradient step on the whole N×T batch of L = −mean(log π(a|s)·A) − c2·mean(H[π(·|s)]) + c1·mean((V(s) − R)²),
/// with the global gradient norm clipped and RMSprop (or Adam). The rollout, GAE, acting, the learn loop and the
/// model file are shared (<see cref="OnPolicyAlgorithm"/>, <see cref="BaseAlgorithm"/>); this file is A2C's update.
/// <para>Usage: <c>using var a2c = A2c.Create("CartPole-v1", options); a2c.Learn(100_000); a2c.Save("m.zip");</c></para>
/// </summary>
public sealed class A2c : OnPolicyAlgorithm
{
    public const string AlgorithmName = "a2c";

    private readonly Rmsprop? _rmsprop; // null: the shared Adam (use_rms_prop: false)

    // Whole-batch workspaces, allocated once.
    private readonly float[] _advantages;
    private readonly A2cLoss _loss;

    private A2c(VecEnv env, A2cOptions options, string? envId, bool ownsEnv)
        : this(ValidatedCopy(options), env, envId, ownsEnv) { }

    private A2c(A2cOptions options, VecEnv env, string? envId, bool ownsEnv)
        : base(env, options, envId, ownsEnv, createAdam: !options.UseRmsProp)
    {
        Options = options;
        if (options.UseRmsProp)
            _rmsprop = new Rmsprop(Policy.Parameters, options.LearningRate, options.RmsPropAlpha, options.RmsPropEps, options.RmsPropStyle);
        int b = Buffer.Count;
        _advantages = new float[b];
        _loss = new A2cLoss(b, Policy.OutputSize);
    }


    /// <summary>A2C on an environment you built (the caller keeps ownership of <paramref name="env"/>).</summary>
    public A2c(VecEnv env, A2cOptions? options = null) : this(env, options ?? new A2cOptions(), envId: null, ownsEnv: false) { }

    /// <summary>A2C on a registered environment id, built with the options' n_envs, normalisation and threading.</summary>
    public static A2c Create(string envId, A2cOptions? options = null)
        => CreateOnRegisteredEnv(envId, options ??= new A2cOptions(), env => new A2c(env, options, envId, ownsEnv: true));

    /// <summary>Loads a model saved by <see cref="BaseAlgorithm.Save"/> (see <see cref="Ppo.Load"/> for the rules).</summary>
    public static A2c Load(string path, VecEnv? env = null)
        => LoadModel<A2c, A2cOptions>(path, env, AlgorithmName, (e, o, id, owns) => new A2c(e, o, id, owns));

    public override string Algorithm => AlgorithmName;
    /// <summary>[distributed] Its update reduces its gradients and statistics across ranks (ReduceGradients and co.).</summary>
    protected override bool SupportsDataParallel => true;
    public A2cOptions Options { get; }
    /// <summary>The latest rollout (for tests that recompute the loss independently).</summary>
    internal RolloutBuffer Rollout => Buffer;

    protected override void SaveState(ModelStateWriter writer)
    {
        base.SaveState(writer); // the policy (and Adam when used)
        if (_rmsprop is not null) writer.AddRmsprop("optimizer", _rmsprop);
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        base.RestoreState(reader);
        if (_rmsprop is not null) reader.RestoreRmsprop("optimizer", _rmsprop);
    }

    // ---------------------------------------------------------------- update

    /// <summary>One A2C update: the loss's gradient on the whole rollout, clipped, one optimiser step.</summary>
    protected override void Train(double scheduleFraction)
    {
        double lr = ScheduledLearningRate(scheduleFraction);
        var parts = LossAndGradient();
        ReduceGradients(); // [distributed] one all-reduce of the flat gradient; no-op in one process
        var parameters = Policy.Parameters;
        double norm = Options.MaxGradNorm is { } maxNorm ? parameters.ClipGradientNorm(maxNorm) : parameters.GradientNorm();
        if (!double.IsFinite(norm))
            throw new InvalidOperationException($"A2C update diverged: the gradient norm is {norm} at step {NumTimesteps}. Lower learning_rate or enable max_grad_norm / normalisation.");
        if (_rmsprop is not null) _rmsprop.Step(lr);
        else Optimizer.Step(lr);

        IterationMetrics["train/policy_loss"] = parts.Policy;
        IterationMetrics["train/value_loss"] = parts.Value;
        IterationMetrics["train/entropy"] = parts.Entropy;
        IterationMetrics["train/grad_norm"] = norm;
        IterationMetrics["train/explained_variance"] = Surrogate.ExplainedVariance(Buffer.Values, Buffer.Returns);
        IterationMetrics["train/learning_rate"] = lr;
        if (Policy.LogStd.Length > 0)
        {
            double s = 0;
            foreach (float x in Policy.LogStd) s += x;
            IterationMetrics["train/std"] = Math.Exp(s / Policy.LogStd.Length);
        }
    }

    /// <summary>The three terms of A2C's loss on the current rollout (the total is Policy − c2·Entropy + c1·Value).</summary>
    internal readonly record struct LossParts(double Policy, double Value, double Entropy, double Total);

    /// <summary>
    /// Evaluates the loss on the whole rollout at the current parameters and writes its gradient into the
    /// policy's gradient buffer (zeroed first). Unclipped; no optimiser step.
    /// </summary>
    internal LossParts LossAndGradient()
    {
        int b = Buffer.Count;
        var parameters = Policy.Parameters;

        // Advantages: GAE(γ, λ) from the rollout, optionally normalised over the whole batch (SB3's option; off by default).
        Buffer.Advantages.CopyTo(_advantages, 0);
        if (Options.NormalizeAdvantage) NormalizeAdvantages(_advantages); // over all ranks when distributed

        parameters.ZeroGradients();
        var outputs = Policy.Forward(Buffer.Observations, b, out var values);
        var (policyLoss, valueLoss, entropy) = _loss.AddGradient(Policy, outputs, values, Buffer.Actions, _advantages, Buffer.Returns, Options.EntCoef, Options.VfCoef);
        return new LossParts(policyLoss, valueLoss, entropy, policyLoss - Options.EntCoef * entropy + Options.VfCoef * valueLoss);
    }
}
