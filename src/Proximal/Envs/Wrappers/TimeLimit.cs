namespace Proximal.Envs.Wrappers;

/// <summary>
/// Truncates an episode after <see cref="MaxEpisodeSteps"/> steps (Gymnasium's TimeLimit): the step that reaches
/// the limit returns truncated = true, also when it terminates too (learners give terminated priority).
/// </summary>
public sealed class TimeLimit : EnvWrapper
{
    public TimeLimit(IEnv inner, int maxEpisodeSteps) : base(inner)
    {
        if (maxEpisodeSteps <= 0) throw new ArgumentOutOfRangeException(nameof(maxEpisodeSteps), maxEpisodeSteps, "TimeLimit needs maxEpisodeSteps > 0.");
        MaxEpisodeSteps = maxEpisodeSteps;
    }

    public int MaxEpisodeSteps { get; }
    public int ElapsedSteps { get; internal set; }

    public override void Reset(Span<float> observation, ulong? seed = null)
    {
        base.Reset(observation, seed);
        ElapsedSteps = 0;
    }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var r = base.Step(action, observation);
        ElapsedSteps++;
        return ElapsedSteps >= MaxEpisodeSteps ? r with { Truncated = true } : r;
    }
}
