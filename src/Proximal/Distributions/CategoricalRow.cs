using System.Runtime.CompilerServices;

namespace Proximal.Distributions;

/// <summary>
/// Kernels over ONE row of logits, shared by <see cref="Categorical"/> and <see cref="MultiCategorical"/>.
/// A masked entry (mask present and false) behaves as a logit of −∞: probability exactly 0, no part in
/// any sum, zero gradient. Entries with probability 0 are skipped explicitly so that 0·(−∞) never
/// produces NaN. Nothing here allocates.
/// </summary>
internal static class CategoricalRow
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Allowed(ReadOnlySpan<bool> mask, int i) => mask.IsEmpty || mask[i];

    /// <summary>
    /// log Σ exp(z_i) over the allowed entries, shifted by the maximum so nothing overflows.
    /// Returns −∞ when nothing is allowed (or every allowed logit is −∞) and NaN when an allowed logit is
    /// NaN or +∞; <see cref="CheckedLogSumExp"/> turns those into exceptions.
    /// </summary>
    public static float LogSumExp(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask)
    {
        float max = float.NegativeInfinity;
        if (mask.IsEmpty)
        {
            for (int i = 0; i < z.Length; i++) if (z[i] > max) max = z[i];
        }
        else
        {
            for (int i = 0; i < z.Length; i++) if (mask[i] && z[i] > max) max = z[i];
        }
        if (float.IsNegativeInfinity(max))
        {
            // Either nothing is allowed or every allowed logit is −∞ / NaN: probe for NaN so it is reported as such.
            for (int i = 0; i < z.Length; i++) if (Allowed(mask, i) && float.IsNaN(z[i])) return float.NaN;
            return float.NegativeInfinity;
        }
        float sum = 0f;
        // NaN logits propagate through the sum (they fail every comparison above), and +∞ gives ∞ − ∞ = NaN.
        if (mask.IsEmpty)
        {
            for (int i = 0; i < z.Length; i++) sum += MathF.Exp(z[i] - max);
        }
        else
        {
            for (int i = 0; i < z.Length; i++) if (mask[i]) sum += MathF.Exp(z[i] - max);
        }
        return max + MathF.Log(sum);
    }

    /// <summary><see cref="LogSumExp"/> that throws a message naming the row and the cause when it is not finite.</summary>
    public static float CheckedLogSumExp(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, string name, int row, int component)
    {
        float lse = LogSumExp(z, mask);
        if (float.IsFinite(lse)) return lse;
        string where = component < 0 ? $"row {row}" : $"row {row}, component {component}";
        bool anyAllowed = false;
        for (int i = 0; i < z.Length; i++) anyAllowed |= Allowed(mask, i);
        if (!anyAllowed)
            throw new ArgumentException($"actionMask masks every action in {where}; at least one action must be allowed.", "actionMask");
        for (int i = 0; i < z.Length; i++)
            if (Allowed(mask, i) && (float.IsNaN(z[i]) || float.IsPositiveInfinity(z[i])))
                throw new ArgumentException($"{name}[{where}, action {i}] = {z[i]}; logits must be finite (or −∞).", name);
        throw new ArgumentException($"{name}[{where}]: every allowed logit is −∞, so no action has positive probability.", name);
    }

    public static float Entropy(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, float lse)
    {
        // H = −Σ p_i log p_i with log p_i = z_i − lse.
        float h = 0f;
        for (int i = 0; i < z.Length; i++)
        {
            if (!Allowed(mask, i)) continue;
            float logP = z[i] - lse;
            float p = MathF.Exp(logP);
            if (p > 0f) h -= p * logP;
        }
        return h;
    }

    /// <summary>KL(old ‖ new) = Σ p_old (log p_old − log p_new).</summary>
    public static float Kl(ReadOnlySpan<float> zOld, float lseOld, ReadOnlySpan<float> zNew, float lseNew, ReadOnlySpan<bool> mask)
    {
        float kl = 0f;
        for (int i = 0; i < zOld.Length; i++)
        {
            if (!Allowed(mask, i)) continue;
            float logPOld = zOld[i] - lseOld;
            float pOld = MathF.Exp(logPOld);
            if (pOld > 0f) kl += pOld * (logPOld - (zNew[i] - lseNew));
        }
        // Rounding can leave a tiny negative value when the two distributions are equal; KL is never negative.
        return MathF.Max(kl, 0f);
    }

    /// <summary>grad_i += g · (δ_{i,a} − p_i).</summary>
    public static void LogProbBackward(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, float lse, int action, float g, Span<float> grad)
    {
        for (int i = 0; i < z.Length; i++)
            if (Allowed(mask, i)) grad[i] -= g * MathF.Exp(z[i] - lse);
        grad[action] += g;
    }

    /// <summary>dH/dz_i = −p_i (log p_i + H); grad_i += g · that.</summary>
    public static void EntropyBackward(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, float lse, float g, Span<float> grad)
    {
        float h = Entropy(z, mask, lse);
        for (int i = 0; i < z.Length; i++)
        {
            if (!Allowed(mask, i)) continue;
            float logP = z[i] - lse;
            float p = MathF.Exp(logP);
            if (p > 0f) grad[i] -= g * p * (logP + h);
        }
    }

    /// <summary>dKL(old‖new)/dz_new_i = p_new_i − p_old_i; grad_i += g · that.</summary>
    public static void KlBackward(ReadOnlySpan<float> zOld, float lseOld, ReadOnlySpan<float> zNew, float lseNew, ReadOnlySpan<bool> mask, float g, Span<float> grad)
    {
        for (int i = 0; i < zOld.Length; i++)
            if (Allowed(mask, i)) grad[i] += g * (MathF.Exp(zNew[i] - lseNew) - MathF.Exp(zOld[i] - lseOld));
    }

    /// <summary>Fisher of the softmax in logit space, (diag(p) − p pᵀ) v; result_i += p_i (v_i − Σ_j p_j v_j).</summary>
    public static void FisherVectorProduct(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, float lse, ReadOnlySpan<float> v, Span<float> result)
    {
        float pv = 0f;
        for (int i = 0; i < z.Length; i++)
            if (Allowed(mask, i)) pv += MathF.Exp(z[i] - lse) * v[i];
        for (int i = 0; i < z.Length; i++)
            if (Allowed(mask, i)) result[i] += MathF.Exp(z[i] - lse) * (v[i] - pv);
    }

    /// <summary>Inverse-CDF draw from one uniform; never returns a masked or zero-probability action.</summary>
    public static int Sample(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, float lse, double u)
    {
        double target = u; // probabilities sum to 1 up to rounding; the fallback below absorbs the rest
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < z.Length; i++)
        {
            if (!Allowed(mask, i)) continue;
            float p = MathF.Exp(z[i] - lse);
            if (p <= 0f) continue;
            cumulative += p;
            lastPositive = i;
            if (cumulative > target) return i;
        }
        return lastPositive;
    }

    public static int Mode(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask)
    {
        int best = -1;
        float bestZ = float.NegativeInfinity;
        for (int i = 0; i < z.Length; i++)
        {
            if (!Allowed(mask, i)) continue;
            if (best < 0 || z[i] > bestZ) { best = i; bestZ = z[i]; }
        }
        return best;
    }
}
