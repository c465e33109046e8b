namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// Which loss the automatic temperature of SAC and TQC descends in log α. Both have the same fixed point
/// (mean log π = −H̄); they differ in the gradient's scale, which Adam only partly normalises away while α moves.
/// </summary>
public enum EntCoefLoss
{
    /// <summary>J = −α·(log π + H̄), as the SAC paper writes it and CleanRL codes it: d J/d log α = −α·(log π + H̄).</summary>
    Alpha,

    /// <summary>J = −log α·(log π + H̄), as the SAC authors' own code and SB3 / SB3-contrib do: d J/d log α = −(log π + H̄).</summary>
    LogAlpha,
}

/// <summary>The temperature loss of <see cref="EntCoefLoss"/> on one minibatch.</summary>
public static class TemperatureLoss
{
    /// <summary>
    /// J and d J/d log α at α = exp(<paramref name="logAlpha"/>), for m = mean_b(log π(ã|s)) + H̄ with the actor's
    /// samples held fixed. Returns J; the gradient goes to <paramref name="gradLogAlpha"/>.
    /// </summary>
    public static double Compute(EntCoefLoss form, double logAlpha, double meanLogProbPlusTarget, out float gradLogAlpha)
    {
        double m = meanLogProbPlusTarget;
        if (form == EntCoefLoss.LogAlpha)
        {
            gradLogAlpha = (float)-m;
            return -logAlpha * m;
        }
        double alpha = Math.Exp(logAlpha);
        gradLogAlpha = (float)(-alpha * m);
        return -alpha * m;
    }
}
