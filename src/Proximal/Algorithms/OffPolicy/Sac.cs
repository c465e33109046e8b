using Proximal.Algorithms.Policies;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// Soft Actor-Critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"): a squashed-Gaussian actor
/// with state-dependent log-std (<see cref="SquashedGaussianActor"/>), twin Q critics on (obs ‖ action) with target
/// copies kept by Polyak averaging, the soft Bellman target r + γ(1 − terminated)(min_k Q′_k(s′, a′) − α log π(a′|s′))
/// with a′ ~ π(·|s′), and the temperature α tuned automatically toward the target entropy −|A| by optimising log α.
/// The loop, the replay buffer and the model file are shared (<see cref="OffPolicyAlgorithm"/>); this file is SAC's update,
/// top to bottom, in the order of the paper's Algorithm 1: critics, actor, temperature, targets.
/// <para>
/// Actions: the actor's tanh output lies in (−1, 1)^|A|; the env receives it scaled affinely to the Box bounds, and the
/// replay buffer stores (and the critics see) actions in the (−1, 1) coordinates, warm-up actions included.
/// </para>
/// <para>Usage: <c>using var sac = Sac.Create("Pendulum-v1", options); sac.Learn(15_000); sac.Save("m.zip");</c></para>
/// </summary>
public sealed class Sac : OffPolicyAlgorithm
{
    public const string AlgorithmName = "sac";
    private const int Twin = 2;

    private readonly ActionScale _scale;                    // env action = center + halfRange · a, a ∈ (−1, 1)
    private readonly Adam _actorOptimizer, _criticOptimizer, _temperatureOptimizer;
    private readonly float[] _stored;                       // the N taken actions in (−1, 1) coordinates

    // Acting workspaces [N × |A|], [N].
    private readonly float[] _actMean, _actLogStd, _actNoise, _actRaw, _actLogProb;
    private float[] _pMean = [], _pLogStd = [], _pNoise = [], _pRaw = [], _pLogProb = [];

    // Update workspaces (B = batch_size): every network output that must outlive the next call is caller-owned here.
    internal readonly float[] NextActions, NextLogProb, NextNoise, NextMean, NextLogStd; // a′ ~ π(·|s′)
    internal readonly float[] NextQ, Targets;                                               // Q′_k(s′, a′) [2 × B], y [B]
    internal readonly float[] Q, GradQ;                                                     // Q_k(s, a) [2 × B]
    internal readonly float[] PiActions, PiLogProb, PiNoise, PiMean, PiLogStd;              // ã ~ π(·|s)
    internal readonly float[] PiQ, GradPiQ, GradPiActions, GradPiLogProb;

    private Sac(VecEnv env, SacOptions options, string? envId, bool ownsEnv) : this(ValidatedCopy(options), env, envId, ownsEnv) { }

    private Sac(SacOptions options, VecEnv env, string? envId, bool ownsEnv) : base(env, options, envId, ownsEnv)
    {
        Options = options;
        if (env.SingleObservationSpace is not Box)
            throw new NotSupportedException($"SAC needs a Box observation space; got {env.SingleObservationSpace}.");
        if (env.SingleActionSpace is not Box box)
            throw new NotSupportedException($"SAC needs a bounded Box action space (it squashes actions with tanh); got {env.SingleActionSpace}.");
        _scale = new ActionScale(box, "SAC");
        int od = env.ObservationSize, ad = env.ActionSize, n = options.NEnvs, b = options.BatchSize;

        Actor = new SquashedGaussianActor(od, ad, options.HiddenSizes, InitRng, init: options.NetInit);
        Critics = new ContinuousCritics(od, ad, Twin, options.HiddenSizes, InitRng, init: options.NetInit);
        // The target copy: same layout (its own init is overwritten at once, from a generator of its own).
        CriticTargets = new ContinuousCritics(od, ad, Twin, options.HiddenSizes, new Numerics.Rng(0));
        Critics.Parameters.Values.CopyTo(CriticTargets.Parameters.Values);
        Temperature = new Parameters();
        Temperature.Allocate(1, "log_ent_coef");
        Temperature.Values[0] = (float)Math.Log(options.EntCoef);
        Actor.Threads = options.TrainThreads;
        Critics.Threads = options.TrainThreads;
        CriticTargets.Threads = options.TrainThreads;

        // ε = 1e-8: the Adam paper's value (PPO's 1e-5 is an implementation habit of that family).
        _actorOptimizer = new Adam(Actor.Parameters, options.LearningRate, epsilon: 1e-8) { Threads = options.TrainThreads };
        _criticOptimizer = new Adam(Critics.Parameters, options.LearningRate, epsilon: 1e-8) { Threads = options.TrainThreads };
        _temperatureOptimizer = new Adam(Temperature, options.LearningRate, epsilon: 1e-8);
        TargetEntropy = options.TargetEntropy ?? -ad;

        _stored = new float[n * ad];
        _actMean = new float[n * ad]; _actLogStd = new float[n * ad]; _actNoise = new float[n * ad]; _actRaw = new float[n * ad]; _actLogProb = new float[n];
        NextActions = new float[b * ad]; NextLogProb = new float[b]; NextNoise = new float[b * ad]; NextMean = new float[b * ad]; NextLogStd = new float[b * ad];
        NextQ = new float[Twin * b]; Targets = new float[b];
        Q = new float[Twin * b]; GradQ = new float[Twin * b];
        PiActions = new float[b * ad]; PiLogProb = new float[b]; PiNoise = new float[b * ad]; PiMean = new float[b * ad]; PiLogStd = new float[b * ad];
        PiQ = new float[Twin * b]; GradPiQ = new float[Twin * b]; GradPiActions = new float[b * ad]; GradPiLogProb = new float[b];
    }


    /// <summary>SAC on an environment you built (the caller keeps ownership of <paramref name="env"/>).</summary>
    public Sac(VecEnv env, SacOptions? options = null) : this(env, options ?? new SacOptions(), envId: null, ownsEnv: false) { }

    /// <summary>SAC on a registered environment id, built with the options' n_envs, normalisation and threading.</summary>
    public static Sac Create(string envId, SacOptions? options = null)
        => CreateOnRegisteredEnv(envId, options ??= new SacOptions(), env => new Sac(env, options, envId, ownsEnv: true));

    /// <summary>Loads a model saved by <see cref="BaseAlgorithm.Save"/> (see <c>Ppo.Load</c> for the env rules).</summary>
    public static Sac Load(string path, VecEnv? env = null)
        => LoadModel<Sac, SacOptions>(path, env, AlgorithmName, (e, o, id, owns) => new Sac(e, o, id, owns));

    public override string Algorithm => AlgorithmName;
    public SacOptions Options { get; }
    public SquashedGaussianActor Actor { get; }
    public ContinuousCritics Critics { get; }
    public ContinuousCritics CriticTargets { get; }
    /// <summary>The one parameter log α of the temperature.</summary>
    public Parameters Temperature { get; }
    /// <summary>The temperature α = exp(log α).</summary>
    public double Alpha => Math.Exp(Temperature.Values[0]);
    /// <summary>H̄ of the automatic temperature.</summary>
    public double TargetEntropy { get; }

    // ---------------------------------------------------------------- acting

    protected override void ExploreActions(ReadOnlySpan<float> observations, int count, Span<float> actions)
    {
        Actor.Sample(observations, count, TrainRng, _actRaw, _actLogProb, _actNoise, _actMean, _actLogStd);
        ToBounds(_actRaw, actions);
    }

    protected override void PredictPolicy(ReadOnlySpan<float> observations, int batch, Span<float> actions, bool deterministic)
    {
        int n = batch * Env.ActionSize;
        if (_pRaw.Length < n)
        {
            _pMean = new float[n]; _pLogStd = new float[n]; _pNoise = new float[n]; _pRaw = new float[n]; _pLogProb = new float[batch];
        }
        var raw = _pRaw.AsSpan(0, n);
        if (deterministic) Actor.Mode(observations, batch, raw, _pMean.AsSpan(0, n), _pLogStd.AsSpan(0, n));
        else Actor.Sample(observations, batch, PredictRng, raw, _pLogProb.AsSpan(0, batch), _pNoise.AsSpan(0, n), _pMean.AsSpan(0, n), _pLogStd.AsSpan(0, n));
        ToBounds(raw, actions);
    }

    private void ToBounds(ReadOnlySpan<float> squashed, Span<float> actions) => _scale.ToBounds(squashed, actions);

    /// <summary>The Box → (−1, 1), what the buffer stores and the critics see.</summary>
    protected override ReadOnlySpan<float> StoredActions(ReadOnlySpan<float> actions)
    {
        var stored = _stored.AsSpan(0, actions.Length);
        _scale.ToSquashed(actions, stored);
        return stored;
    }

    // ---------------------------------------------------------------- update

    /// <summary>One gradient step on the sampled minibatch: critics, actor, temperature, then (every target_update_interval) targets.</summary>
    protected override void TrainStep(double scheduleFraction)
    {
        double lr = Options.AnnealLr ? Options.LearningRate * scheduleFraction : Options.LearningRate;
        double alpha = Alpha;

        SoftTargets(alpha);
        double criticLoss = CriticLossAndGradient();
        if (!double.IsFinite(criticLoss))
            throw new InvalidOperationException($"SAC diverged: the critic loss is {criticLoss} at step {NumTimesteps}. Lower learning_rate, or normalise observations/rewards.");
        _criticOptimizer.Step(lr);

        double actorLoss = ActorLossAndGradient(alpha);
        _actorOptimizer.Step(lr);

        double temperatureLoss = double.NaN;
        if (Options.AutoEntCoef)
        {
            temperatureLoss = TemperatureLossAndGradient();
            _temperatureOptimizer.Step(lr);
        }

        if ((GradientStepsTaken + 1) % Options.TargetUpdateInterval == 0)
            Polyak.Update(Critics.Parameters, CriticTargets.Parameters, Options.Tau, Options.TrainThreads);

        IterationMetrics["train/critic_loss"] = criticLoss;
        IterationMetrics["train/actor_loss"] = actorLoss;
        IterationMetrics["train/ent_coef"] = alpha;
        if (Options.AutoEntCoef) IterationMetrics["train/ent_coef_loss"] = temperatureLoss;
        IterationMetrics["train/entropy"] = -Reductions.MeanInDouble(PiLogProb);
        IterationMetrics["train/learning_rate"] = lr;
    }

    /// <summary>
    /// y = r + γ(1 − terminated)(min_k Q′_k(s′, a′) − α log π(a′|s′)) into <see cref="Targets"/>, a′ ~ π(·|s′) drawn now.
    /// Only termination cuts the bootstrap: s′ of a truncated episode is its final observation and is bootstrapped.
    /// </summary>
    internal void SoftTargets(double alpha)
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        Actor.Sample(batch.NextObservations, b, TrainRng, NextActions, NextLogProb, NextNoise, NextMean, NextLogStd);
        CriticTargets.Forward(batch.NextObservations, NextActions, b, NextQ);
        float gamma = (float)Options.Gamma, a = (float)alpha;
        for (int i = 0; i < b; i++)
        {
            float minQ = MathF.Min(NextQ[i], NextQ[b + i]);
            float soft = minQ - a * NextLogProb[i];
            Targets[i] = batch.Rewards[i] + (batch.Terminated[i] ? 0f : gamma * soft);
        }
    }

    /// <summary>J_Q = ½ Σ_k mean_b (Q_k(s, a) − y)², y fixed; fills the critics' gradients (zeroed first). Returns J_Q.</summary>
    internal double CriticLossAndGradient()
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        Critics.Parameters.ZeroGradients();
        Critics.Forward(batch.Observations, batch.Actions, b, Q);
        double loss = 0;
        float inv = 1f / b;
        for (int k = 0; k < Twin; k++)
            for (int i = 0; i < b; i++)
            {
                float d = Q[k * b + i] - Targets[i];
                loss += 0.5 * d * d / b;
                GradQ[k * b + i] = d * inv;
            }
        Critics.Backward(GradQ, default);
        return loss;
    }

    /// <summary>
    /// J_π = mean_b (α log π(ã|s) − min_k Q_k(s, ã)), ã = tanh(μ + σε) reparameterised with fresh ε; fills the actor's
    /// gradients (zeroed first; the critics' gradients are not touched: only d Q/d a is back-propagated). Returns J_π.
    /// </summary>
    internal double ActorLossAndGradient(double alpha)
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        Actor.Parameters.ZeroGradients();
        Actor.Sample(batch.Observations, b, TrainRng, PiActions, PiLogProb, PiNoise, PiMean, PiLogStd);
        Critics.Forward(batch.Observations, PiActions, b, PiQ);
        double loss = 0;
        float inv = 1f / b, a = (float)alpha;
        Array.Clear(GradPiQ);
        for (int i = 0; i < b; i++)
        {
            int k = PiQ[b + i] < PiQ[i] ? 1 : 0; // the critic the min takes (the first on a tie)
            loss += (a * PiLogProb[i] - PiQ[k * b + i]) / b;
            GradPiQ[k * b + i] = -inv;
            GradPiLogProb[i] = a * inv;
        }
        Critics.ActionGradient(GradPiQ, GradPiActions); // d Q/d a only: the critics' weight gradients would be discarded
        Actor.Backward(PiMean, PiLogStd, PiNoise, GradPiLogProb, GradPiActions);
        return loss;
    }

    /// <summary>
    /// J(α) = mean_b (−α (log π(ã|s) + H̄)) at α = exp(log α) (or −log α·(…) with ent_coef_loss log_alpha), with the
    /// log-probabilities of the actor step held fixed; d J / d log α into the temperature's gradient. Returns J(α).
    /// </summary>
    internal double TemperatureLossAndGradient()
    {
        double loss = TemperatureLoss.Compute(Options.EntCoefLoss, Temperature.Values[0], Reductions.MeanInDouble(PiLogProb) + TargetEntropy, out float grad);
        Temperature.Gradients[0] = grad;
        return loss;
    }

    /// <summary>Test access: puts a minibatch in place of a sampled one.</summary>
    internal void SetBatch(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<float> nextObservations, ReadOnlySpan<bool> terminated)
    {
        observations.CopyTo(Batch.Observations); actions.CopyTo(Batch.Actions); rewards.CopyTo(Batch.Rewards);
        nextObservations.CopyTo(Batch.NextObservations); terminated.CopyTo(Batch.Terminated);
    }

    // ---------------------------------------------------------------- model file

    protected override void SaveState(ModelStateWriter writer)
    {
        base.SaveState(writer);
        writer.AddParameters("actor", Actor.Parameters);
        writer.AddParameters("critic", Critics.Parameters);
        writer.AddParameters("critic_target", CriticTargets.Parameters);
        writer.AddParameters("temperature", Temperature);
        writer.AddAdam("actor_optimizer", _actorOptimizer);
        writer.AddAdam("critic_optimizer", _criticOptimizer);
        writer.AddAdam("temperature_optimizer", _temperatureOptimizer);
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        base.RestoreState(reader);
        reader.RestoreParameters("actor", Actor.Parameters);
        reader.RestoreParameters("critic", Critics.Parameters);
        reader.RestoreParameters("critic_target", CriticTargets.Parameters);
        reader.RestoreParameters("temperature", Temperature);
        reader.RestoreAdam("actor_optimizer", _actorOptimizer);
        reader.RestoreAdam("critic_optimizer", _criticOptimizer);
        reader.RestoreAdam("temperature_optimizer", _temperatureOptimizer);
    }
}
