namespace Proximal.Algorithms.OnPolicy;

/// <summary>The policy objectives of the PPO paper (Schulman et al., 2017), §3–§4 and Table 1.</summary>
public enum SurrogateKind
{
    /// <summary>L^CLIP = E[min(r·A, clip(r, 1−ε, 1+ε)·A)].</summary>
    Clip,
    /// <summary>L^KLPEN = E[r·A − β·KL(π_old‖π)], β adapted after each update toward d_targ.</summary>
    AdaptiveKl,
    /// <summary>L^KLPEN with a constant β.</summary>
    FixedKl,
    /// <summary>L^CPI = E[r·A], no clipping and no penalty (the paper's baseline).</summary>
    None,
}

/// <summary>Diagnostics of one policy-loss evaluation (means over the minibatch).</summary>
public readonly record struct PolicyLossStats(double Loss, double ClipFraction, double ApproxKlNaive, double ApproxKl);

/// <summary>
/// The surrogate part of PPO's policy loss, as a function of the new log-probabilities only:
/// loss = −mean(surrogate), and its gradient with respect to each sample's new log-probability.
/// The KL penalty (which needs the distributions) is added by the caller through the distribution's
/// analytic KL and its gradient; <see cref="AdaptBeta"/> implements the paper's β rule.
/// </summary>
public static class Surrogate
{
    /// <param name="gradNewLogProb">Output: d loss / d newLogProb_b (already divided by the batch size).</param>
    public static PolicyLossStats PolicyLoss(SurrogateKind kind, double clipEpsilon,
        ReadOnlySpan<float> newLogProb, ReadOnlySpan<float> oldLogProb, ReadOnlySpan<float> advantages, Span<float> gradNewLogProb)
    {
        int b = newLogProb.Length;
        if (b == 0) throw new ArgumentException("PolicyLoss needs a non-empty batch.", nameof(newLogProb));
        Gae.RequireLength(nameof(oldLogProb), oldLogProb.Length, b);
        Gae.RequireLength(nameof(advantages), advantages.Length, b);
        Gae.RequireLength(nameof(gradNewLogProb), gradNewLogProb.Length, b);
        if (kind == SurrogateKind.Clip && !(clipEpsilon > 0)) throw new ArgumentOutOfRangeException(nameof(clipEpsilon), clipEpsilon, "clip epsilon must be > 0.");

        double inv = 1.0 / b, sum = 0, clipped = 0, kl1 = 0, kl2 = 0;
        double lo = 1 - clipEpsilon, hi = 1 + clipEpsilon;
        for (int i = 0; i < b; i++)
        {
            double logRatio = (double)newLogProb[i] - oldLogProb[i];
            double r = Math.Exp(logRatio);
            double a = advantages[i];
            kl1 += -logRatio;
            kl2 += (r - 1) - logRatio;
            double objective, grad; // grad = d objective / d newLogProb = d objective / d r · r
            if (kind == SurrogateKind.Clip)
            {
                bool outside = r < lo || r > hi;
                if (outside) clipped++;
                double clippedObjective = Math.Clamp(r, lo, hi) * a;
                double plain = r * a;
                // The min takes the clipped term, whose gradient is zero, exactly when the ratio has moved
                // past the clip boundary in the direction the advantage favours (paper Fig. 1).
                if (clippedObjective < plain) { objective = clippedObjective; grad = 0; }
                else { objective = plain; grad = plain; }
            }
            else
            {
                objective = r * a;
                grad = r * a;
            }
            sum += objective;
            gradNewLogProb[i] = (float)(-grad * inv);
        }
        return new PolicyLossStats(-sum * inv, clipped * inv, kl1 * inv, kl2 * inv);
    }

    /// <summary>The paper's adaptive-KL rule (§4): d &lt; d_targ/1.5 → β/2; d &gt; 1.5·d_targ → 2β; else unchanged.</summary>
    public static double AdaptBeta(double beta, double meanKl, double targetKl)
    {
        if (!(targetKl > 0)) throw new ArgumentOutOfRangeException(nameof(targetKl), targetKl, "target KL must be > 0.");
        if (double.IsNaN(meanKl)) throw new ArgumentException("mean KL is NaN: the policy update diverged.", nameof(meanKl));
        if (meanKl < targetKl / 1.5) return beta / 2;
        if (meanKl > targetKl * 1.5) return beta * 2;
        return beta;
    }

    /// <summary>
    /// Value loss 0.5·mean((V − R)²), or with clipping 0.5·mean(max((V − R)², (V_old + clip(V − V_old, ±ε) − R)²)).
    /// Writes d loss / d V into <paramref name="gradValue"/>. Pass clipEpsilon = null for no clipping.
    /// </summary>
    public static double ValueLoss(ReadOnlySpan<float> value, ReadOnlySpan<float> oldValue, ReadOnlySpan<float> returns, double? clipEpsilon, Span<float> gradValue)
    {
        int b = value.Length;
        if (b == 0) throw new ArgumentException("ValueLoss needs a non-empty batch.", nameof(value));
        Gae.RequireLength(nameof(oldValue), oldValue.Length, b);
        Gae.RequireLength(nameof(returns), returns.Length, b);
        Gae.RequireLength(nameof(gradValue), gradValue.Length, b);
        double inv = 1.0 / b, sum = 0;
        for (int i = 0; i < b; i++)
        {
            double v = value[i], err = v - returns[i];
            double loss = err * err, grad = err;
            if (clipEpsilon is { } eps)
            {
                double delta = v - oldValue[i];
                bool inside = delta >= -eps && delta <= eps;
                double vc = oldValue[i] + Math.Clamp(delta, -eps, eps);
                double errC = vc - returns[i];
                // max picks the clipped branch only when it is larger; outside the band its gradient is 0.
                if (errC * errC > loss) { loss = errC * errC; grad = inside ? errC : 0; }
            }
            sum += loss;
            gradValue[i] = (float)(grad * inv);
        }
        return 0.5 * sum * inv;
    }

    /// <summary>Normalises advantages to mean 0, std 1 (sample std + 1e-8, as CleanRL and SB3 do with torch.std), in place.</summary>
    public static void NormalizeAdvantages(Span<float> advantages)
    {
        int b = advantages.Length;
        if (b == 0) return;
        double mean = 0;
        foreach (float a in advantages) mean += a;
        mean /= b;
        double var = 0;
        foreach (float a in advantages) var += (a - mean) * (a - mean);
        double std = b > 1 ? Math.Sqrt(var / (b - 1)) : 0;
        double inv = 1.0 / (std + 1e-8);
        for (int i = 0; i < b; i++) advantages[i] = (float)((advantages[i] - mean) * inv);
    }

    /// <summary>
    /// [distributed] <see cref="NormalizeAdvantages(Span{float})"/> over the union of every rank's rows: each rank's count,
    /// sum and M2 about its own mean go into ONE all-reduce; the pooled M2 = Σ (M2_r + n_r·μ_r²) − n·μ².
    /// </summary>
    public static void NormalizeAdvantages(Span<float> advantages, Numerics.IAllReduce ranks)
    {
        int b = advantages.Length;
        double mean = 0;
        foreach (float a in advantages) mean += a;
        mean = b > 0 ? mean / b : 0;
        double m2 = 0;
        foreach (float a in advantages) m2 += (a - mean) * (a - mean);
        Span<double> r = [b, b * mean, m2 + b * mean * mean];
        ranks.Sum(r);
        NormalizeAdvantages(advantages, r);
    }

    /// <summary>Normalises with statistics already reduced over all ranks: [count, Σa, Σ (M2_r + n_r·μ_r²)].</summary>
    public static void NormalizeAdvantages(Span<float> advantages, ReadOnlySpan<double> r)
    {
        int b = advantages.Length;
        double n = r[0];
        if (n == 0) return;
        double globalMean = r[1] / n;
        double var = Math.Max(r[2] - n * globalMean * globalMean, 0);
        double std = n > 1 ? Math.Sqrt(var / (n - 1)) : 0;
        double inv = 1.0 / (std + 1e-8);
        for (int i = 0; i < b; i++) advantages[i] = (float)((advantages[i] - globalMean) * inv);
    }

    /// <summary>1 − Var(returns − values)/Var(returns); NaN when the returns have no variance.</summary>
    public static double ExplainedVariance(ReadOnlySpan<float> values, ReadOnlySpan<float> returns)
    {
        Gae.RequireLength(nameof(returns), returns.Length, values.Length);
        int n = values.Length;
        if (n == 0) return double.NaN;
        double my = 0, md = 0;
        for (int i = 0; i < n; i++) { my += returns[i]; md += returns[i] - values[i]; }
        my /= n; md /= n;
        double vy = 0, vd = 0;
        for (int i = 0; i < n; i++)
        {
            double y = returns[i] - my, d = returns[i] - values[i] - md;
            vy += y * y; vd += d * d;
        }
        return vy == 0 ? double.NaN : 1 - vd / vy;
    }
}
