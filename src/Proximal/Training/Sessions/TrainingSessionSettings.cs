using Proximal.Algorithms;

namespace Proximal.Training.Sessions;

/// <summary>
/// What one training session runs. Either a fresh run (<see cref="EnvId"/> and <see cref="Options"/>, already bound
/// from config files and overrides) or a continuation (<see cref="ResumeFrom"/>: the model's own env id and
/// options are used, <see cref="EnvId"/> may repeat the id as a check and <see cref="Options"/> must be null).
/// </summary>
public sealed record TrainingSessionSettings
{
    /// <summary>Algorithm registry name (e.g. <c>ppo</c>). When resuming, null means "whatever the model holds"; a name must match it.</summary>
    public string? Algorithm { get; init; } = "ppo";
    public string? EnvId { get; init; }
    /// <summary>The run's options, of the algorithm's own options type (e.g. <c>PpoOptions</c>).</summary>
    public AlgorithmOptions? Options { get; init; }
    /// <summary>
    /// When resuming: <c>key=value</c> changes to the stored options, limited to <see cref="TrainingSession.ResumableKeys"/>.
    /// Changing learning_rate or anneal_lr starts a new schedule over this session's steps.
    /// </summary>
    public IReadOnlyList<string> ResumeOverrides { get; init; } = [];
    /// <summary>Model file to continue training from (counters, optimizer, normalisation and env state are restored).</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// Environment steps this session trains for (rounded up to whole rollouts). Default: total_steps for a fresh
    /// run; the steps left to total_steps when resuming.
    /// </summary>
    public long? Steps { get; init; }

    /// <summary>
    /// Evaluate every this many env steps during training. Null: ten times over the session (at least one rollout apart);
    /// 0: only the final evaluation.
    /// </summary>
    public long? EvalEvery { get; init; }
    /// <summary>Episodes of each evaluation (deterministic actions, frozen normalisation, fixed seed).</summary>
    public int EvalEpisodes { get; init; } = 10;
    /// <summary>Evaluate once more at the end (skipped when cancelled, so Ctrl-C returns quickly). Default on.</summary>
    public bool FinalEvaluation { get; init; } = true;
    /// <summary>
    /// Save checkpoints/model_&lt;step&gt;.zip every this many env steps. Null: four times over the session (at least one
    /// rollout apart); 0: no checkpoints.
    /// </summary>
    public long? CheckpointEvery { get; init; }
    /// <summary>
    /// Write a progress.csv/TensorBoard row at most every this many env steps (rows with an evaluation, and the last
    /// one, are always written). Null: every iteration for on-policy algorithms (an iteration is a whole rollout) and
    /// every 100 steps for off-policy ones, whose iteration is one env step — writing and flushing a row per step cost
    /// them about a fifth of their speed (CleanRL logs every 100 steps too).
    /// </summary>
    public long? LogEverySteps { get; init; }
    /// <summary>Command line (or other provenance) written as a comment at the top of config.yaml.</summary>
    public string? CommandLine { get; init; }
}
