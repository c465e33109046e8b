namespace Proximal.Algorithms;

/// <summary>How a training call's linear schedules (learning rate, PPO's ε) relate to earlier calls.</summary>
public enum ScheduleMode
{
    /// <summary>The schedule spans exactly this call's steps, starting from the full values (SB3 and CleanRL do this).</summary>
    New,
    /// <summary>
    /// Continue the schedule of the previous call (or of the loaded model) where it stands. If this call runs past
    /// its planned end, the remaining fraction is spread linearly over the longer span instead of reaching 0 early;
    /// if the stored schedule is already finished (fraction 0), a new one starts — never a run at learning rate 0.
    /// </summary>
    Continue,
}

/// <summary>
/// A linear decay of a fraction from <see cref="StartFraction"/> at env step <see cref="StartStep"/> to 0 at
/// <see cref="EndStep"/>; values are multiplied by it (lr = learning_rate × fraction when annealing).
/// Saved with the model so a resumed run continues exactly where it was.
/// </summary>
public readonly record struct Schedule(long StartStep, double StartFraction, long EndStep)
{
    /// <summary>A fresh schedule over <paramref name="steps"/> steps from <paramref name="now"/>.</summary>
    public static Schedule Fresh(long now, long steps) => new(now, 1.0, now + steps);

    /// <summary>Fraction of the full value at env step <paramref name="step"/> (never below 0).</summary>
    public double FractionAt(long step)
    {
        if (EndStep <= StartStep) return StartFraction;
        double progress = Math.Clamp((double)(step - StartStep) / (EndStep - StartStep), 0, 1);
        return StartFraction * (1 - progress);
    }

    public bool IsFinished(long step) => step >= EndStep || FractionAt(step) <= 0;

    /// <summary>The schedule a call of <paramref name="steps"/> steps at <paramref name="now"/> runs under.</summary>
    public Schedule For(ScheduleMode mode, long now, long steps)
    {
        if (mode == ScheduleMode.New || IsFinished(now)) return Fresh(now, steps);
        long end = now + steps;
        return end <= EndStep ? this : new Schedule(now, FractionAt(now), end);
    }
}
