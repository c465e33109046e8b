namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// One on-policy rollout of T steps × N envs, preallocated once and stored time-major (row t·N + i),
/// plus the minibatch gather used by every epoch. Nothing here allocates after construction.
/// </summary>
public sealed class RolloutBuffer
{
    public RolloutBuffer(int steps, int envs, int observationSize, int actionSize) : this(steps, envs, observationSize, actionSize, maskSize: 0) { }

    /// <param name="maskSize">[action masks] Legal-action mask entries per row (the Discrete n), or 0 for no masks.</param>
    public RolloutBuffer(int steps, int envs, int observationSize, int actionSize, int maskSize)
    {
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "rollout steps must be > 0.");
        if (envs <= 0) throw new ArgumentOutOfRangeException(nameof(envs), envs, "number of envs must be > 0.");
        if (observationSize <= 0) throw new ArgumentOutOfRangeException(nameof(observationSize), observationSize, "observation size must be > 0.");
        if (actionSize <= 0) throw new ArgumentOutOfRangeException(nameof(actionSize), actionSize, "action size must be > 0.");
        Steps = steps; Envs = envs; ObservationSize = observationSize; ActionSize = actionSize;
        int n = checked(steps * envs);
        Observations = new float[checked(n * observationSize)];
        Actions = new float[checked(n * actionSize)];
        LogProbs = new float[n];
        Values = new float[n];
        Rewards = new float[n];
        TruncationValues = new float[n];
        Advantages = new float[n];
        Returns = new float[n];
        Terminated = new bool[n];
        Truncated = new bool[n];
        if (maskSize < 0) throw new ArgumentOutOfRangeException(nameof(maskSize), maskSize, "mask size must be ≥ 0.");
        MaskSize = maskSize;
        ActionMasks = maskSize == 0 ? [] : new bool[checked(n * maskSize)];
    }

    // [action masks] the legal actions each action was sampled under, so the update uses the same distribution.
    /// <summary>Mask entries per row; 0 when the env has no action masks.</summary>
    public int MaskSize { get; }
    /// <summary>[T·N × MaskSize], true = allowed; empty without masks.</summary>
    public bool[] ActionMasks { get; }
    public Span<bool> MaskRow(int t) => ActionMasks.AsSpan(t * Envs * MaskSize, Envs * MaskSize);

    /// <summary>Copies the masks of the rows named by <paramref name="indices"/> into <paramref name="masks"/> [B × MaskSize].</summary>
    public void GatherMasks(ReadOnlySpan<int> indices, Span<bool> masks)
    {
        int s = MaskSize;
        for (int j = 0; j < indices.Length; j++) ActionMasks.AsSpan(indices[j] * s, s).CopyTo(masks.Slice(j * s, s));
    }

    public int Steps { get; }
    public int Envs { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int Count => Steps * Envs;

    public float[] Observations { get; }
    /// <summary>The unclipped actions the policy sampled (clipping happens only on the way to the env).</summary>
    public float[] Actions { get; }
    public float[] LogProbs { get; }
    public float[] Values { get; }
    public float[] Rewards { get; }
    /// <summary>V(final observation) for steps whose episode was truncated; 0 elsewhere.</summary>
    public float[] TruncationValues { get; }
    public float[] Advantages { get; }
    public float[] Returns { get; }
    public bool[] Terminated { get; }
    public bool[] Truncated { get; }

    public Span<float> ObservationRow(int t) => Observations.AsSpan(t * Envs * ObservationSize, Envs * ObservationSize);
    public Span<float> ActionRow(int t) => Actions.AsSpan(t * Envs * ActionSize, Envs * ActionSize);
    public Span<float> Row(float[] perStep, int t) => perStep.AsSpan(t * Envs, Envs);
    public Span<bool> Row(bool[] perStep, int t) => perStep.AsSpan(t * Envs, Envs);

    /// <summary>Clears the truncation values (they are written only where an episode was truncated).</summary>
    public void BeginRollout() => Array.Clear(TruncationValues);

    public void ComputeAdvantages(double gamma, double lambda, ReadOnlySpan<float> lastValues)
        => Gae.Compute(Steps, Envs, gamma, lambda, Rewards, Values, Terminated, Truncated, TruncationValues, lastValues, Advantages, Returns);

    /// <summary>Copies the rows named by <paramref name="indices"/> into contiguous minibatch arrays.</summary>
    public void Gather(ReadOnlySpan<int> indices, Span<float> observations, Span<float> actions, Span<float> logProbs,
        Span<float> values, Span<float> advantages, Span<float> returns)
    {
        int b = indices.Length, od = ObservationSize, ad = ActionSize;
        for (int j = 0; j < b; j++)
        {
            int k = indices[j];
            Observations.AsSpan(k * od, od).CopyTo(observations.Slice(j * od, od));
            Actions.AsSpan(k * ad, ad).CopyTo(actions.Slice(j * ad, ad));
            logProbs[j] = LogProbs[k];
            values[j] = Values[k];
            advantages[j] = Advantages[k];
            returns[j] = Returns[k];
        }
    }
}
