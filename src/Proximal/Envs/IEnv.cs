using Proximal.Spaces;

namespace Proximal.Envs;

/// <summary>What one step returns besides the observation. Terminated (the MDP ended: no bootstrap)
/// and truncated (cut short, e.g. by a time limit: bootstrap from V(final observation)) stay distinct.</summary>
public readonly record struct StepResult(double Reward, bool Terminated, bool Truncated)
{
    public bool Done => Terminated || Truncated;
}

/// <summary>
/// A single environment with Gymnasium's contract, shaped for zero allocation: the caller owns the
/// observation buffer (length <c>ObservationSpace.FlatSize</c>) and the action buffer
/// (length <c>ActionSpace.FlatSize</c>; a Discrete action is one float holding the index).
/// <c>Reset(obs, seed)</c> reseeds the env's generator when a seed is given, else continues it.
/// </summary>
public interface IEnv : IDisposable
{
    Space ObservationSpace { get; }
    Space ActionSpace { get; }

    void Reset(Span<float> observation, ulong? seed = null);

    StepResult Step(ReadOnlySpan<float> action, Span<float> observation);
}
