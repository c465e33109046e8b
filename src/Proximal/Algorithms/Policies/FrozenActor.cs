using Proximal.Nn;

namespace Proximal.Algorithms.Policies;

/// <summary>
/// An inference-only copy of an <see cref="ActorCritic"/>'s actor (its actor network, or its shared trunk and policy
/// head) at one moment, built by <see cref="ActorCritic.FreezeActor"/>: a past self-play opponent. <see cref="Forward"/>
/// equals <see cref="ActorCritic.ActorOutputs(ReadOnlySpan{float}, int)"/> of a network holding the same parameters, bit
/// for bit, and is cheaper for a few rows (<see cref="FrozenMlp"/> says why). <see cref="Load"/> swaps in another
/// parameter vector of the same layout (a snapshot replaced, or restored from a model file).
/// </summary>
public sealed class FrozenActor
{
    private readonly FrozenMlp _first;                 // the actor, or the shared trunk
    private readonly ActivationLayer? _trunkActivation; // shared trunk: its output activation
    private readonly FrozenMlp? _policyHead;           // shared trunk: the policy head

    internal FrozenActor(FrozenMlp first, ActivationLayer? trunkActivation, FrozenMlp? policyHead)
    {
        _first = first;
        _trunkActivation = trunkActivation;
        _policyHead = policyHead;
    }

    /// <summary>
    /// Takes the actor's weights from a flat parameter vector of the source <see cref="ActorCritic"/>'s layout (its
    /// networks share the policy's one parameter buffer, so each part checks the whole vector's length).
    /// </summary>
    public void Load(ReadOnlySpan<float> parameters)
    {
        _first.Load(parameters);
        _policyHead?.Load(parameters);
    }

    /// <summary>Actor outputs [batch × OutputSize] (logits or Gaussian means), valid until the next forward.</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> observations, int batch)
    {
        var y = _first.Forward(observations, batch);
        if (_policyHead is null) return y;
        return _policyHead.Forward(_trunkActivation!.Forward(y, batch), batch);
    }
}
