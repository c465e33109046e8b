using Proximal.Spaces;

namespace Proximal.Envs.Vector;

/// <summary>
/// N copies of an env stepped as one batch over contiguous arrays: observations [N × obsDim], actions
/// [N × actDim], rewards and flags [N]. The caller owns every buffer, so a step allocates nothing.
/// <para>Auto-reset on the same step: when env i ends an episode (terminated or truncated), row i of the
/// returned observations already holds the FIRST observation of its next episode, the flags say how the old
/// one ended, and row i of <see cref="FinalObservations"/> holds the old episode's LAST observation (with
/// <see cref="HasFinalObservation"/>[i] true) so a learner can bootstrap V(final obs) through truncation.</para>
/// <para>Seeding: <c>Reset(obs, seed)</c> resets env i with seed + i; <c>Reset(obs)</c> continues each env's generator.</para>
/// <para>NaN or ±infinity in any observation or reward throws <see cref="NonFiniteValueException"/> naming the
/// env index and step; an env's own exception is rethrown inside <see cref="EnvStepException"/>.</para>
/// </summary>
public abstract class VecEnv : IDisposable
{
    public abstract int NumEnvs { get; }
    public abstract Space SingleObservationSpace { get; }
    public abstract Space SingleActionSpace { get; }
    public int ObservationSize => SingleObservationSpace.FlatSize;
    public int ActionSize => SingleActionSpace.FlatSize;

    /// <summary>Resets every env and writes the [N × obsDim] first observations.</summary>
    public abstract void Reset(Span<float> observations, ulong? seed = null);

    /// <summary>Steps every env with its row of <paramref name="actions"/>; see the class remarks for auto-reset.</summary>
    public abstract void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated);

    /// <summary>[N × obsDim]; row i is the last observation of the episode env i finished in the latest Step (valid where <see cref="HasFinalObservation"/>[i]).</summary>
    public abstract ReadOnlySpan<float> FinalObservations { get; }

    /// <summary>[N]; true for the envs whose episode ended in the latest Step (terminated or truncated).</summary>
    public abstract ReadOnlySpan<bool> HasFinalObservation { get; }

    /// <summary>Finished episodes recorded by the outermost <see cref="VecEpisodeStatistics"/> in the chain, or null without one.</summary>
    public virtual EpisodeLog? Episodes => null;

    /// <summary>Number of Step calls since construction.</summary>
    public abstract long StepCount { get; }

    // [action masks] (self-play) — additive: envs without masks return empty and nothing else changes.
    /// <summary>
    /// Legal actions of the current observations, [N × n] for a Discrete(n) action space (true = allowed), refreshed by
    /// every Reset and Step; empty when the env has no masks. Learners pass it to the categorical distribution so a
    /// masked action is never sampled and gets no probability or gradient.
    /// </summary>
    public virtual ReadOnlySpan<bool> ActionMasks => default;

    public abstract void Dispose();

    /// <summary>
    /// Adds everything needed to continue stepping bit-exactly (env simulations and generators, wrapper
    /// statistics, counters) to <paramref name="snapshot"/>; false when some env or wrapper cannot be captured.
    /// Used to pause and resume training exactly.
    /// </summary>
    public virtual bool TrySaveSnapshot(IDictionary<string, double[]> snapshot) => false;

    /// <summary>Restores what <see cref="TrySaveSnapshot"/> captured; afterwards Step continues without a Reset.</summary>
    public virtual void LoadSnapshot(IReadOnlyDictionary<string, double[]> snapshot)
        => throw new NotSupportedException($"{GetType().Name} cannot restore a snapshot.");

    /// <summary>The snapshot entry <paramref name="key"/>, checked for presence and length.</summary>
    protected static double[] SnapshotEntry(IReadOnlyDictionary<string, double[]> snapshot, string key, int length)
    {
        if (!snapshot.TryGetValue(key, out var v)) throw new ArgumentException($"Env snapshot has no entry '{key}'.", nameof(snapshot));
        if (length >= 0 && v.Length != length) throw new ArgumentException($"Env snapshot entry '{key}' has {v.Length} values, expected {length}.", nameof(snapshot));
        return v;
    }

    /// <summary>Throws naming the buffer whose length is wrong.</summary>
    protected void CheckStepBuffers(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        int n = NumEnvs;
        if (actions.Length != n * ActionSize) throw new ArgumentException($"actions has {actions.Length} values, expected {n} envs × {ActionSize} = {n * ActionSize}.", nameof(actions));
        CheckObservations(observations);
        if (rewards.Length != n) throw new ArgumentException($"rewards has {rewards.Length} values, expected {n} (one per env).", nameof(rewards));
        if (terminated.Length != n) throw new ArgumentException($"terminated has {terminated.Length} values, expected {n} (one per env).", nameof(terminated));
        if (truncated.Length != n) throw new ArgumentException($"truncated has {truncated.Length} values, expected {n} (one per env).", nameof(truncated));
    }

    protected void CheckObservations(Span<float> observations)
    {
        int n = NumEnvs;
        if (observations.Length != n * ObservationSize)
            throw new ArgumentException($"observations has {observations.Length} values, expected {n} envs × {ObservationSize} = {n * ObservationSize}.", nameof(observations));
    }
}

/// <summary>Base of the vector wrappers: forwards everything to <see cref="Inner"/>. Disposing disposes the inner VecEnv.</summary>
public abstract class VecEnvWrapper(VecEnv inner) : VecEnv
{
    public VecEnv Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    public override int NumEnvs => Inner.NumEnvs;
    public override Space SingleObservationSpace => Inner.SingleObservationSpace;
    public override Space SingleActionSpace => Inner.SingleActionSpace;
    public override ReadOnlySpan<float> FinalObservations => Inner.FinalObservations;
    public override ReadOnlySpan<bool> HasFinalObservation => Inner.HasFinalObservation;
    public override EpisodeLog? Episodes => Inner.Episodes;
    public override long StepCount => Inner.StepCount;
    public override ReadOnlySpan<bool> ActionMasks => Inner.ActionMasks; // [action masks]

    public override void Reset(Span<float> observations, ulong? seed = null) => Inner.Reset(observations, seed);

    public override void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
        => Inner.Step(actions, observations, rewards, terminated, truncated);

    public override bool TrySaveSnapshot(IDictionary<string, double[]> snapshot) => Inner.TrySaveSnapshot(snapshot);
    public override void LoadSnapshot(IReadOnlyDictionary<string, double[]> snapshot) => Inner.LoadSnapshot(snapshot);

    public override void Dispose()
    {
        Inner.Dispose();
        GC.SuppressFinalize(this);
    }

    public override string ToString() => $"{GetType().Name}<{Inner}>";
}
