using Proximal.Common.Callbacks;

namespace Proximal.Training.Sessions;

/// <summary>
/// Where a training session stands, reported after every update (and once more at the end).
/// <see cref="RecentMeanReturn"/> is the mean undiscounted return of the last 100 finished training episodes
/// (NaN before the first one ends); <see cref="LastEvaluation"/> the latest deterministic evaluation, if any.
/// </summary>
public sealed record TrainingProgress(
    long Steps,
    long StartSteps,
    long TargetSteps,
    long Iteration,
    double StepsPerSecond,
    TimeSpan Elapsed,
    double RecentMeanReturn,
    EvaluationResult? LastEvaluation,
    long? LastEvaluationStep,
    bool EvaluatedThisIteration)
{
    /// <summary>Share of this session's steps done, 0..1.</summary>
    public double Fraction => TargetSteps <= StartSteps ? 1 : Math.Clamp((double)(Steps - StartSteps) / (TargetSteps - StartSteps), 0, 1);

    /// <summary>Time left at the current speed; null before the speed is known.</summary>
    public TimeSpan? Eta => StepsPerSecond > 0 && double.IsFinite(StepsPerSecond)
        ? TimeSpan.FromSeconds(Math.Max(0, TargetSteps - Steps) / StepsPerSecond)
        : null;
}

/// <summary>What a finished (or cancelled) session left behind.</summary>
public sealed record TrainingResult(
    string RunDirectory,
    string ModelPath,
    string ConfigPath,
    string ProgressCsvPath,
    string TensorBoardDirectory,
    string? CurvePath,
    string? CurveNote,
    IReadOnlyList<string> Checkpoints,
    long Steps,
    long StepsThisSession,
    bool Cancelled,
    TimeSpan Elapsed,
    EvaluationResult? FinalEvaluation,
    long? FinalEvaluationStep)
{
    /// <summary>Environment steps per second over this session (evaluations included).</summary>
    public double StepsPerSecond => Elapsed.TotalSeconds > 0 ? StepsThisSession / Elapsed.TotalSeconds : double.NaN;
}
