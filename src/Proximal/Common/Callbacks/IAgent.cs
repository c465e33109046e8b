using Proximal.Envs.Vector;
using Proximal.Spaces;

namespace Proximal.Common.Callbacks;

/// <summary>What callbacks and evaluation need from a learner, whatever its algorithm.</summary>
public interface IAgent
{
    /// <summary>Short algorithm name, e.g. "ppo".</summary>
    string Algorithm { get; }

    /// <summary>Environment steps taken so far (summed over the parallel envs).</summary>
    long NumTimesteps { get; }

    /// <summary>The training environment (its observation normalisation is what the policy expects).</summary>
    VecEnv Env { get; }

    Space ObservationSpace { get; }
    Space ActionSpace { get; }

    /// <summary>
    /// Actions for a batch of observations ([B × obsDim] → [B × actDim]). Observations are raw, as the task gives
    /// them, and the model's stored observation normalisation is applied; with <paramref name="normalized"/> = true
    /// they are taken as already normalised (as a normalising env produces them). Box actions are clipped to the bounds.
    /// </summary>
    void Predict(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic = true, bool normalized = false);

    /// <summary>Writes the model file (atomic: a crash never leaves a half-written file in its place).</summary>
    void Save(string path);
}

/// <summary>
/// An agent that can act under legal-action masks ([B × n], true = allowed), as envs with
/// <see cref="Envs.Vector.VecEnv.ActionMasks"/> need (e.g. Connect Four). Evaluation uses it when the env has masks.
/// </summary>
public interface IMaskedAgent
{
    void Predict(ReadOnlySpan<float> observations, ReadOnlySpan<bool> actionMasks, Span<float> actions, bool deterministic = true, bool normalized = false);
}
