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

    /// <summary>
    /// One exp pass for both log Σ exp(z) and the entropy: with m = max, e_i = exp(z_i − m), s = Σ e_i,
    /// t = Σ e_i (z_i − m): lse = m + log s and H = log s − t/s. Throws like <see cref="CheckedLogSumExp"/>.
    /// </summary>
    public static float EntropyAndLogSumExp(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, out float lse, string name, int row, int component)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < z.Length; i++) if (Allowed(mask, i) && z[i] > max) max = z[i];
        float s = 0f, t = 0f;
        if (float.IsFinite(max))
        {
            for (int i = 0; i < z.Length; i++)
            {
                if (!Allowed(mask, i)) continue;
                float d = z[i] - max;
                float e = MathF.Exp(d);
                s += e;
                if (e > 0f) t += e * d; // a −∞ logit has e = 0 and must not add 0·(−∞)
            }
        }
        float logS = MathF.Log(s);
        lse = max + logS;
        if (!float.IsFinite(lse)) lse = CheckedLogSumExp(z, mask, name, row, component); // throws with the cause
        return logS - t / s;
    }

    /// <summary>
    /// KL(old ‖ new) = Σ p_old (log p_old − log p_new) in one exp pass over the old logits, given the new
    /// row's log Σ exp. With m = max(old), e_i = exp(zo_i − m), s = Σ e_i: KL = Σ e_i (zo_i − m − log p_new,i) / s − log s.
    /// Not clamped at 0: rounding can leave about −1e-7 when old == new, and a clamp would hide real errors.
    /// </summary>
    public static float Kl(ReadOnlySpan<float> zOld, ReadOnlySpan<float> zNew, float lseNew, ReadOnlySpan<bool> mask, string name, int row, int component)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < zOld.Length; i++) if (Allowed(mask, i) && zOld[i] > max) max = zOld[i];
        float s = 0f, t = 0f;
        if (float.IsFinite(max))
        {
            for (int i = 0; i < zOld.Length; i++)
            {
                if (!Allowed(mask, i)) continue;
                float d = zOld[i] - max;
                float e = MathF.Exp(d);
                s += e;
                if (e > 0f) t += e * (d - (zNew[i] - lseNew));
            }
        }
        float logS = MathF.Log(s);
        if (!float.IsFinite(max + logS)) CheckedLogSumExp(zOld, mask, name, row, component); // throws with the cause
        return t / s - logS;
    }

    /// <summary>grad_i += g · (δ_{i,a} − p_i).</summary>
    public static void LogProbBackward(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, float lse, int action, float g, Span<float> grad)
    {
        for (int i = 0; i < z.Length; i++)
            if (Allowed(mask, i)) grad[i] -= g * MathF.Exp(z[i] - lse);
        grad[action] += g;
    }

    /// <summary>dH/dz_i = −p_i (log p_i + H); grad_i += g · that.</summary>
    public static void EntropyBackward(ReadOnlySpan<float> z, ReadOnlySpan<bool> mask, float lse, float h, float g, Span<float> grad)
    {
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
