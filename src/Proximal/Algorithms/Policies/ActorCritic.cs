using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Algorithms.Policies;

/// <summary>
/// MLP actor-critic for on-policy learners: either two networks (the PPO paper's MuJoCo setting,
/// 64-64 tanh each) or one shared trunk with a policy head and a value head. All weights, and the
/// Gaussian log-std, live in ONE <see cref="Parameters"/> buffer so one Adam, one gradient clip and
/// one flat vector serve the whole model. Orthogonal init: √2 hidden, 0.01 policy output, 1 value output.
/// </summary>
public sealed class ActorCritic
{
    private readonly Mlp? _actor, _critic;                 // separate networks
    private readonly Mlp? _trunk, _policyHead, _valueHead; // shared trunk
    private readonly ActivationLayer? _trunkActivation;
    private float[] _featureGradient = [];
    private readonly ParameterSlice? _logStd;

    public ActorCritic(Space observationSpace, Space actionSpace, PolicyOptions options, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(observationSpace);
        ArgumentNullException.ThrowIfNull(actionSpace);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rng);
        if (options.Recurrent) // recurrent policies are RecurrentActorCritic; only (recurrent) PPO trains them
            throw new NotSupportedException($"policy.lstm_hidden_size = {options.LstmHiddenSize} asks for a recurrent policy, which only ppo (recurrent PPO) trains; remove it for this algorithm.");
        if (observationSpace is not Box)
            throw new NotSupportedException($"MLP policies need a Box observation space; got {observationSpace}. Wrap the env to produce a flat float vector.");
        ObservationSpace = observationSpace;
        ActionSpace = actionSpace;
        Options = options;
        ObservationSize = observationSpace.FlatSize;
        Parameters = new Parameters();
        int outputs = ActionHead.OutputSizeFor(actionSpace);
        var act = options.Activation == ActivationKind.Tanh ? Activation.Tanh : Activation.Relu;
        int[] hidden = options.HiddenSizes;
        if (!options.SharedTrunk)
        {
            _actor = new Mlp(Parameters, [ObservationSize, .. hidden, outputs], act, rng, outputGain: 0.01, name: "actor");
            _critic = new Mlp(Parameters, [ObservationSize, .. hidden, 1], act, rng, outputGain: 1.0, name: "critic");
        }
        else
        {
            if (hidden.Length == 0) throw new ArgumentException("A shared trunk needs at least one hidden layer.", nameof(options));
            _trunk = new Mlp(Parameters, [ObservationSize, .. hidden], act, rng, outputGain: Mlp.DefaultHiddenGain, name: "trunk");
            _trunkActivation = ActivationLayer.For(act, hidden[^1], "trunk.out");
            _policyHead = new Mlp(Parameters, [hidden[^1], outputs], act, rng, outputGain: 0.01, name: "policy_head") { SparseInputs = false }; // fed the trunk's activations
            _valueHead = new Mlp(Parameters, [hidden[^1], 1], act, rng, outputGain: 1.0, name: "value_head") { SparseInputs = false };
        }
        Head = ActionHead.ForPolicy(Parameters, actionSpace, options.LogStdInit, out _logStd);
    }

    public Space ObservationSpace { get; }
    public Space ActionSpace { get; }
    public PolicyOptions Options { get; }
    public Parameters Parameters { get; }
    public ActionHead Head { get; }
    public int ObservationSize { get; }
    public int ActionSize => Head.ActionSize;
    /// <summary>Actor outputs per row: logits, or the Gaussian mean.</summary>
    public int OutputSize => Head.OutputSize;

    /// <summary>Threads for the large matrix products of the update (bit-identical results for any count).</summary>
    public int Threads
    {
        set
        {
            foreach (var m in new[] { _actor, _critic, _trunk, _policyHead, _valueHead })
                if (m is not null) m.Threads = value;
        }
    }

    /// <summary>
    /// Whether the observations are scanned for the sparse path of the first layers (on; see
    /// <see cref="Linear.SparseInputDensity"/>). The results are the same bits either way; off measures the dense path
    /// (<c>bench selfplay --compare-dense</c>) and lets tests compare the two. Frozen copies of the actor follow it.
    /// </summary>
    public bool SparseInputs
    {
        get => (_actor ?? _trunk)!.SparseInputs;
        set
        {
            foreach (var m in new[] { _actor, _critic, _trunk })
                if (m is not null) m.SparseInputs = value;
        }
    }

    /// <summary>
    /// Actor outputs [batch × OutputSize] and values [batch] for observations [batch × ObservationSize].
    /// The spans point into network workspaces, valid until the next forward call.
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> observations, int batch, out ReadOnlySpan<float> values)
    {
        if (_actor is not null)
        {
            var outputs = _actor.Forward(observations, batch);
            values = _critic!.Forward(observations, batch);
            return outputs;
        }
        var features = Features(observations, batch);
        var o = _policyHead!.Forward(features, batch);
        values = _valueHead!.Forward(features, batch);
        return o;
    }

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int, out ReadOnlySpan{float})"/> into caller-owned destinations
    /// (<paramref name="outputs"/> [batch × OutputSize], <paramref name="values"/> [batch]), which stay valid across later calls.
    /// </summary>
    public void Forward(ReadOnlySpan<float> observations, int batch, Span<float> outputs, Span<float> values)
    {
        var o = Forward(observations, batch, out var v);
        o.CopyTo(outputs);
        v.CopyTo(values);
    }

    /// <summary>V(s) [batch] into a caller-owned destination.</summary>
    public void Values(ReadOnlySpan<float> observations, int batch, Span<float> values) => Values(observations, batch).CopyTo(values);

    /// <summary>Actor outputs [batch × OutputSize] into a caller-owned destination.</summary>
    public void ActorOutputs(ReadOnlySpan<float> observations, int batch, Span<float> outputs) => ActorOutputs(observations, batch).CopyTo(outputs);

    /// <summary>V(s) only [batch]; cheaper than <see cref="Forward"/> with separate networks.</summary>
    public ReadOnlySpan<float> Values(ReadOnlySpan<float> observations, int batch)
        => _critic is not null ? _critic.Forward(observations, batch) : _valueHead!.Forward(Features(observations, batch), batch);

    /// <summary>Actor outputs only [batch × OutputSize].</summary>
    public ReadOnlySpan<float> ActorOutputs(ReadOnlySpan<float> observations, int batch)
        => _actor is not null ? _actor.Forward(observations, batch) : _policyHead!.Forward(Features(observations, batch), batch);

    private ReadOnlySpan<float> Features(ReadOnlySpan<float> observations, int batch)
        => _trunkActivation!.Forward(_trunk!.Forward(observations, batch), batch);

    /// <summary>
    /// Back-propagates d loss/d actor outputs and d loss/d values of the LAST <see cref="Forward"/>,
    /// adding into <see cref="Parameters"/>' gradients.
    /// </summary>
    public void Backward(ReadOnlySpan<float> gradOutputs, ReadOnlySpan<float> gradValues) => Backward(gradOutputs, gradValues, parameterGradients: true);

    /// <summary>
    /// <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float})"/>; with <paramref name="parameterGradients"/> false
    /// the weight gradients are not formed, only every layer's output gradient (K-FAC's statistics pass).
    /// </summary>
    public void Backward(ReadOnlySpan<float> gradOutputs, ReadOnlySpan<float> gradValues, bool parameterGradients)
    {
        if (_actor is not null)
        {
            _actor.Backward(gradOutputs, computeInputGradient: false, parameterGradients);
            _critic!.Backward(gradValues, computeInputGradient: false, parameterGradients);
            return;
        }
        int n = _trunkActivation!.Batch * _trunkActivation.Size;
        if (_featureGradient.Length < n) _featureGradient = new float[n];
        var fg = _featureGradient.AsSpan(0, n);
        _policyHead!.Backward(gradOutputs, computeInputGradient: true, parameterGradients).CopyTo(fg);
        System.Numerics.Tensors.TensorPrimitives.Add(fg, _valueHead!.Backward(gradValues, computeInputGradient: true, parameterGradients), fg);
        _trunk!.Backward(_trunkActivation.Backward(fg), computeInputGradient: false, parameterGradients);
    }

    /// <summary>True for separate actor and critic networks (the default); false for a shared trunk.</summary>
    public bool SeparateNetworks => _actor is not null;

    /// <summary>
    /// Actor-only backward of the last actor forward (<see cref="ActorOutputs(ReadOnlySpan{float}, int)"/> or
    /// <see cref="Forward(ReadOnlySpan{float}, int, out ReadOnlySpan{float})"/>): adds d loss/d actor weights into the
    /// gradients and touches no critic weight. Separate networks only (TRPO, ACKTR).
    /// </summary>
    public void BackwardActor(ReadOnlySpan<float> gradOutputs) => RequireSeparate(nameof(BackwardActor))._actor!.Backward(gradOutputs, computeInputGradient: false);

    /// <summary>Critic-only backward of the last critic forward (<see cref="Values(ReadOnlySpan{float}, int)"/> or Forward). Separate networks only.</summary>
    public void BackwardCritic(ReadOnlySpan<float> gradValues) => RequireSeparate(nameof(BackwardCritic))._critic!.Backward(gradValues, computeInputGradient: false);

    /// <summary>
    /// Forward-mode derivative of the actor outputs [batch × OutputSize] at the last actor forward, for a tangent of
    /// ALL parameters (only the actor's slices are read; the log-std does not enter the outputs). Separate networks only.
    /// </summary>
    public ReadOnlySpan<float> ActorJvp(ReadOnlySpan<float> parameterTangent) => RequireSeparate(nameof(ActorJvp))._actor!.Jvp(parameterTangent);

    private ActorCritic RequireSeparate(string what) => _actor is not null ? this
        : throw new InvalidOperationException($"{what} needs separate actor and critic networks (policy.shared_trunk: false).");

    /// <summary>
    /// An inference-only copy of the actor at the current parameters (<see cref="FrozenActor"/>): what a self-play
    /// snapshot plays with.
    /// </summary>
    public FrozenActor FreezeActor() => FreezeActor(Parameters.Values);

    /// <summary><see cref="FreezeActor()"/> with the actor's weights taken from <paramref name="parameters"/>, a flat vector of this policy's layout.</summary>
    public FrozenActor FreezeActor(ReadOnlySpan<float> parameters) => _actor is not null
        ? new FrozenActor(new FrozenMlp(_actor, parameters), null, null)
        : new FrozenActor(new FrozenMlp(_trunk!, parameters),
            ActivationLayer.For(_trunk!.HiddenActivation, _trunkActivation!.Size, "trunk.out.frozen"), // the trunk's own kind
            new FrozenMlp(_policyHead!, parameters));

    /// <summary>Every Linear layer of the networks (actor then critic, or trunk then heads): the layers K-FAC preconditions.</summary>
    public IReadOnlyList<Linear> Linears => (_actor is not null ? [_actor, _critic!] : new[] { _trunk!, _policyHead!, _valueHead! })
        .SelectMany(m => m.Linears).ToArray();

    /// <summary>The Gaussian log-std (empty for discrete action spaces).</summary>
    public ReadOnlySpan<float> LogStd => _logStd is { } s ? Parameters.ValuesOf(s) : default;

    /// <summary>Where the Gaussian log-std sits in the flat parameters (null for discrete action spaces).</summary>
    public ParameterSlice? LogStdSlice => _logStd;
}
