namespace Proximal.Nn;

/// <summary>A hyperparameter (learning rate, clip range, …) as a function of training progress.</summary>
public interface ISchedule
{
    /// <summary>Value at <paramref name="progress"/> = fraction of training done, 0 at the start and 1 at the end (clamped to [0, 1]; NaN throws).</summary>
    double ValueAt(double progress);
}

/// <summary>The same value throughout.</summary>
public sealed record ConstantSchedule(double Value) : ISchedule
{
    public double ValueAt(double progress)
    {
        ScheduleChecks.Progress(progress);
        return Value;
    }
}

/// <summary>
/// Moves linearly from <paramref name="Start"/> at progress 0 to <paramref name="End"/> at progress
/// <paramref name="EndFraction"/>, then stays at End (PPO's learning-rate annealing: Start → 0 over the run).
/// </summary>
public sealed record LinearSchedule : ISchedule
{
    public LinearSchedule(double start, double end, double endFraction = 1.0)
    {
        if (!double.IsFinite(start)) throw new ArgumentOutOfRangeException(nameof(start), start, "Linear schedule start must be finite.");
        if (!double.IsFinite(end)) throw new ArgumentOutOfRangeException(nameof(end), end, "Linear schedule end must be finite.");
        if (!(endFraction > 0 && endFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(endFraction), endFraction, "Linear schedule end fraction must be in (0, 1].");
        Start = start;
        End = end;
        EndFraction = endFraction;
    }

    public double Start { get; }
    public double End { get; }
    public double EndFraction { get; }

    public double ValueAt(double progress)
    {
        double p = ScheduleChecks.Progress(progress);
        if (p >= EndFraction) return End;
        return Start + (End - Start) * (p / EndFraction);
    }

    /// <summary>One-off linear interpolation: start + (end − start)·clamp(fraction, 0, 1).</summary>
    public static double Value(double start, double end, double fraction) => new LinearSchedule(start, end).ValueAt(fraction);
}

internal static class ScheduleChecks
{
    public static double Progress(double progress)
    {
        if (double.IsNaN(progress)) throw new ArgumentOutOfRangeException(nameof(progress), progress, "Schedule progress is NaN.");
        return Math.Clamp(progress, 0.0, 1.0);
    }
}
