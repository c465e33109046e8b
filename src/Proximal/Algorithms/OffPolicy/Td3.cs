using Proximal.Algorithms.Policies;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// Twin Delayed DDPG (Fujimoto et al. 2018, "Addressing Function Approximation Error in Actor-Critic Methods"):
/// a deterministic tanh actor, twin critics on (obs ‖ action), the clipped double-Q target
/// y = r + γ(1 − terminated) min_k Q′_k(s′, ã′) with target policy smoothing ã′ = clip(π′(s′) + clip(σ̃ε, −c, c), −1, 1),
/// and the actor (−mean Q_1(s, π(s))) and all target networks (Polyak) updated every d-th critic update. Exploration:
/// clip(π(s) + σε, −1, 1). The loop, the buffer and the model file are shared (<see cref="OffPolicyAlgorithm"/>);
/// this file is TD3's update, in the order of the paper's Algorithm 1.
/// <para>
/// Actions, noises and clips live in the actor's (−1, 1) coordinates (the Box scaled affinely), which is how the paper's
/// max_action = 1 tasks read; the replay buffer stores those coordinates, warm-up actions included.
/// </para>
/// </summary>
public sealed class Td3 : OffPolicyAlgorithm
{
    public const string AlgorithmName = "td3";
    private const int Twin = 2;

    private readonly ActionScale _scale;
    private readonly Adam _actorOptimizer, _criticOptimizer;
    private readonly float[] _stored, _actRaw;
    private float[] _pRaw = [];

    // Update workspaces (B = batch_size), caller-owned so every network output lives as long as it is needed.
    internal readonly float[] NextNoise, NextActions, NextQ, Targets;   // ε [B × |A|] (raw N(0, 1)), ã′, Q′_k(s′, ã′) [2 × B], y [B]
    internal readonly float[] Q, GradQ;                                 // Q_k(s, a) [2 × B]
    internal readonly float[] PiActions, PiQ, GradPiQ, GradPiActions;   // π(s), Q_1(s, π(s)) in the first b entries

    private Td3(VecEnv env, Td3Options options, string? envId, bool ownsEnv) : this(ValidatedCopy(options), env, envId, ownsEnv) { }

    private Td3(Td3Options options, VecEnv env, string? envId, bool ownsEnv) : base(env, options, envId, ownsEnv)
    {
        Options = options;
        if (env.SingleObservationSpace is not Box)
            throw new NotSupportedException($"TD3 needs a Box observation space; got {env.SingleObservationSpace}.");
        if (env.SingleActionSpace is not Box box)
            throw new NotSupportedException($"TD3 needs a bounded Box action space; got {env.SingleActionSpace}.");
        _scale = new ActionScale(box, "TD3");
        int od = env.ObservationSize, ad = env.ActionSize, n = options.NEnvs, b = options.BatchSize;

        Actor = new DeterministicActor(od, ad, options.HiddenSizes, InitRng, init: options.NetInit);
        Critics = new ContinuousCritics(od, ad, Twin, options.HiddenSizes, InitRng, init: options.NetInit);
        // Target copies: same layouts, values copied at once (their own init, from a generator of their own, is discarded).
        ActorTarget = new DeterministicActor(od, ad, options.HiddenSizes, new Rng(0));
        CriticTargets = new ContinuousCritics(od, ad, Twin, options.HiddenSizes, new Rng(0));
        Actor.Parameters.Values.CopyTo(ActorTarget.Parameters.Values);
        Critics.Parameters.Values.CopyTo(CriticTargets.Parameters.Values);
        Actor.Threads = ActorTarget.Threads = options.TrainThreads;
        Critics.Threads = CriticTargets.Threads = options.TrainThreads;
        // ε = 1e-8: the Adam paper's value.
        _actorOptimizer = new Adam(Actor.Parameters, options.LearningRate, epsilon: 1e-8) { Threads = options.TrainThreads };
        _criticOptimizer = new Adam(Critics.Parameters, options.LearningRate, epsilon: 1e-8) { Threads = options.TrainThreads };

        _stored = new float[n * ad];
        _actRaw = new float[n * ad];
        NextNoise = new float[b * ad]; NextActions = new float[b * ad]; NextQ = new float[Twin * b]; Targets = new float[b];
        Q = new float[Twin * b]; GradQ = new float[Twin * b];
        PiActions = new float[b * ad]; PiQ = new float[Twin * b]; GradPiQ = new float[Twin * b]; GradPiActions = new float[b * ad];
    }


    /// <summary>TD3 on an environment you built (the caller keeps ownership of <paramref name="env"/>).</summary>
    public Td3(VecEnv env, Td3Options? options = null) : this(env, options ?? new Td3Options(), envId: null, ownsEnv: false) { }

    /// <summary>TD3 on a registered environment id, built with the options' n_envs, normalisation and threading.</summary>
    public static Td3 Create(string envId, Td3Options? options = null)
        => CreateOnRegisteredEnv(envId, options ??= new Td3Options(), env => new Td3(env, options, envId, ownsEnv: true));

    /// <summary>Loads a model saved by <see cref="BaseAlgorithm.Save"/> (see <c>Ppo.Load</c> for the env rules).</summary>
    public static Td3 Load(string path, VecEnv? env = null)
        => LoadModel<Td3, Td3Options>(path, env, AlgorithmName, (e, o, id, owns) => new Td3(e, o, id, owns));

    public override string Algorithm => AlgorithmName;
    public Td3Options Options { get; }
    public DeterministicActor Actor { get; }
    public DeterministicActor ActorTarget { get; }
    public ContinuousCritics Critics { get; }
    public ContinuousCritics CriticTargets { get; }

    // ---------------------------------------------------------------- acting

    protected override void ExploreActions(ReadOnlySpan<float> observations, int count, Span<float> actions)
    {
        Actor.Forward(observations, count, _actRaw);
        float sigma = (float)Options.ExplorationNoise;
        for (int i = 0; i < _actRaw.Length; i++) _actRaw[i] = Math.Clamp(_actRaw[i] + sigma * (float)TrainRng.NextGaussian(), -1f, 1f);
        _scale.ToBounds(_actRaw, actions);
    }

    protected override void PredictPolicy(ReadOnlySpan<float> observations, int batch, Span<float> actions, bool deterministic)
    {
        // The policy is deterministic; a "stochastic" prediction adds the exploration noise, drawn from the predict generator.
        int n = batch * Env.ActionSize;
        if (_pRaw.Length < n) _pRaw = new float[n];
        var raw = _pRaw.AsSpan(0, n);
        Actor.Forward(observations, batch, raw);
        if (!deterministic)
        {
            float sigma = (float)Options.ExplorationNoise;
            for (int i = 0; i < n; i++) raw[i] = Math.Clamp(raw[i] + sigma * (float)PredictRng.NextGaussian(), -1f, 1f);
        }
        _scale.ToBounds(raw, actions);
    }

    protected override ReadOnlySpan<float> StoredActions(ReadOnlySpan<float> actions)
    {
        var stored = _stored.AsSpan(0, actions.Length);
        _scale.ToSquashed(actions, stored);
        return stored;
    }

    // ---------------------------------------------------------------- update

    /// <summary>Whether gradient step <paramref name="k"/> (1-based, over the run) updates the actor and the targets.</summary>
    internal bool IsPolicyStep(long k) => k % Options.PolicyDelay == 0;

    /// <summary>One critic update; every policy_delay-th also the actor and the targets.</summary>
    protected override void TrainStep(double scheduleFraction)
    {
        double lr = Options.AnnealLr ? Options.LearningRate * scheduleFraction : Options.LearningRate;
        ClippedDoubleQTargets();
        double criticLoss = CriticLossAndGradient();
        if (!double.IsFinite(criticLoss))
            throw new InvalidOperationException($"TD3 diverged: the critic loss is {criticLoss} at step {NumTimesteps}. Lower learning_rate, or normalise observations/rewards.");
        _criticOptimizer.Step(lr);
        IterationMetrics["train/critic_loss"] = criticLoss;
        IterationMetrics["train/learning_rate"] = lr;

        if (!IsPolicyStep(GradientStepsTaken + 1)) return;
        IterationMetrics["train/actor_loss"] = ActorLossAndGradient();
        _actorOptimizer.Step(lr);
        Polyak.Update(Critics.Parameters, CriticTargets.Parameters, Options.Tau, Options.TrainThreads);
        Polyak.Update(Actor.Parameters, ActorTarget.Parameters, Options.Tau, Options.TrainThreads);
    }

    /// <summary>
    /// y = r + γ(1 − terminated) min_k Q′_k(s′, ã′), ã′ = clip(π′(s′) + clip(σ̃ε, −c, c), −1, 1), ε ~ N(0, 1) drawn now
    /// (kept raw in <see cref="NextNoise"/>). Only termination cuts the bootstrap.
    /// </summary>
    internal void ClippedDoubleQTargets()
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        ActorTarget.Forward(batch.NextObservations, b, NextActions);
        float sigma = (float)Options.TargetPolicyNoise, c = (float)Options.TargetNoiseClip;
        for (int i = 0; i < NextActions.Length; i++)
        {
            float eps = (float)TrainRng.NextGaussian();
            NextNoise[i] = eps;
            NextActions[i] = Math.Clamp(NextActions[i] + Math.Clamp(sigma * eps, -c, c), -1f, 1f);
        }
        CriticTargets.Forward(batch.NextObservations, NextActions, b, NextQ);
        float gamma = (float)Options.Gamma;
        for (int i = 0; i < b; i++)
            Targets[i] = batch.Rewards[i] + (batch.Terminated[i] ? 0f : gamma * MathF.Min(NextQ[i], NextQ[b + i]));
    }

    /// <summary>Σ_k mean_b (Q_k(s, a) − y)², y fixed; fills the critics' gradients (zeroed first). Returns the loss.</summary>
    internal double CriticLossAndGradient()
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        Critics.Parameters.ZeroGradients();
        Critics.Forward(batch.Observations, batch.Actions, b, Q);
        double loss = 0;
        float twoOverB = 2f / b;
        for (int k = 0; k < Twin; k++)
            for (int i = 0; i < b; i++)
            {
                float d = Q[k * b + i] - Targets[i];
                loss += (double)d * d / b;
                GradQ[k * b + i] = d * twoOverB;
            }
        Critics.Backward(GradQ, default);
        return loss;
    }

    /// <summary>
    /// J = −mean_b Q_1(s, π(s)) (the first critic, as the paper); fills the actor's gradients (zeroed first; the critics'
    /// gradients are not touched: only d Q_1/d a is back-propagated). Returns J.
    /// </summary>
    internal double ActorLossAndGradient()
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        Actor.Parameters.ZeroGradients();
        Actor.Forward(batch.Observations, b, PiActions);
        // Only Q_1 enters J: the second critic is neither evaluated nor differentiated here, and only d Q_1/d a is
        // computed (the critics' weight gradients would be discarded).
        Critics.Forward(batch.Observations, PiActions, b, PiQ.AsSpan(0, b), critics: 1);
        double loss = 0;
        for (int i = 0; i < b; i++)
        {
            loss -= PiQ[i] / (double)b;
            GradPiQ[i] = -1f / b;
        }
        Critics.ActionGradient(GradPiQ.AsSpan(0, b), GradPiActions);
        Actor.Backward(PiActions, GradPiActions);
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
        writer.AddParameters("actor_target", ActorTarget.Parameters);
        writer.AddParameters("critic", Critics.Parameters);
        writer.AddParameters("critic_target", CriticTargets.Parameters);
        writer.AddAdam("actor_optimizer", _actorOptimizer);
        writer.AddAdam("critic_optimizer", _criticOptimizer);
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        base.RestoreState(reader);
        reader.RestoreParameters("actor", Actor.Parameters);
        reader.RestoreParameters("actor_target", ActorTarget.Parameters);
        reader.RestoreParameters("critic", Critics.Parameters);
        reader.RestoreParameters("critic_target", CriticTargets.Parameters);
        reader.RestoreAdam("actor_optimizer", _actorOptimizer);
        reader.RestoreAdam("critic_optimizer", _criticOptimizer);
    }
}
