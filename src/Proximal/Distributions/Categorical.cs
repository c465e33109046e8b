using Proximal.Numerics;

namespace Proximal.Distributions;

/// <summary>
/// A batch of categorical distributions over <see cref="ActionCount"/> actions, parameterised by
/// unnormalised logits [B × n] (row-major). Actions are stored as floats holding the index, as in
/// <see cref="Spaces.Discrete"/>.
/// <para>
/// Masking (optional, every method): <c>actionMask</c> is [B × n], <c>true</c> = the action is allowed.
/// A masked logit acts as −∞: its probability is exactly 0, it never gets sampled, it adds nothing to
/// the entropy or the KL and its gradient is 0. Pass the SAME mask at sampling and in the update.
/// A row with every action masked throws. Pass <c>default</c> (empty) for no masking.
/// </para>
/// <para>
/// Gradients: every <c>…Backward</c> method takes the upstream derivative per row (e.g. dLoss/dlogp_b
/// [B]) and ACCUMULATES (+=) into the gradient span, so that the terms of a loss
/// (−surrogate − c·entropy + β·KL) can be summed into one buffer: zero it once, call each backward.
/// </para>
/// The type holds only n, so one instance can be shared by threads. Nothing allocates.
/// </summary>
public sealed class Categorical
{
    public Categorical(int actionCount)
    {
        if (actionCount <= 0) throw new ArgumentOutOfRangeException(nameof(actionCount), actionCount, "A categorical distribution needs at least one action.");
        ActionCount = actionCount;
    }

    public int ActionCount { get; }

    /// <summary>Batch size B of a logits span [B × n]; throws when the length is not a multiple of n.</summary>
    public int BatchSizeOf(ReadOnlySpan<float> logits) => DistributionChecks.Rows(logits.Length, ActionCount, nameof(logits), "ActionCount");

    private int Prepare(ReadOnlySpan<float> logits, ReadOnlySpan<bool> actionMask)
    {
        int rows = BatchSizeOf(logits);
        DistributionChecks.Mask(actionMask.Length, logits.Length);
        return rows;
    }

    private static ReadOnlySpan<bool> MaskRow(ReadOnlySpan<bool> mask, int offset, int n) => mask.IsEmpty ? default : mask.Slice(offset, n);

    /// <summary>Draws one action per row (one uniform from <paramref name="rng"/> per row); actions [B].</summary>
    public void Sample(ReadOnlySpan<float> logits, Rng rng, Span<float> actions, ReadOnlySpan<bool> actionMask = default)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int rows = Prepare(logits, actionMask), n = ActionCount;
        DistributionChecks.Length(actions.Length, rows, nameof(actions), "[B]");
        for (int b = 0; b < rows; b++)
        {
            var z = logits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            float lse = CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, -1);
            actions[b] = CategoricalRow.Sample(z, m, lse, rng.NextDouble());
        }
    }

    /// <summary>Most probable allowed action per row (first one on ties); actions [B].</summary>
    public void Mode(ReadOnlySpan<float> logits, Span<float> actions, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), n = ActionCount;
        DistributionChecks.Length(actions.Length, rows, nameof(actions), "[B]");
        for (int b = 0; b < rows; b++)
        {
            var z = logits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, -1);
            actions[b] = CategoricalRow.Mode(z, m);
        }
    }

    /// <summary>Softmax probabilities [B × n] (masked entries exactly 0).</summary>
    public void Probabilities(ReadOnlySpan<float> logits, Span<float> probabilities, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), n = ActionCount;
        DistributionChecks.Length(probabilities.Length, logits.Length, nameof(probabilities), "[B × n], like the logits");
        for (int b = 0; b < rows; b++)
        {
            var z = logits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            var p = probabilities.Slice(b * n, n);
            float lse = CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, -1);
            for (int i = 0; i < n; i++) p[i] = CategoricalRow.Allowed(m, i) ? MathF.Exp(z[i] - lse) : 0f;
        }
    }

    /// <summary>log π(a_b) per row; actions [B], logProb [B]. A masked action throws.</summary>
    public void LogProb(ReadOnlySpan<float> logits, ReadOnlySpan<float> actions, Span<float> logProb, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), n = ActionCount;
        DistributionChecks.Length(actions.Length, rows, nameof(actions), "[B]");
        DistributionChecks.Length(logProb.Length, rows, nameof(logProb), "[B]");
        for (int b = 0; b < rows; b++)
        {
            var z = logits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            int a = ReadAction(actions[b], m, b);
            logProb[b] = z[a] - CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, -1);
        }
    }

    /// <summary>Entropy −Σ p log p per row; entropy [B].</summary>
    public void Entropy(ReadOnlySpan<float> logits, Span<float> entropy, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), n = ActionCount;
        DistributionChecks.Length(entropy.Length, rows, nameof(entropy), "[B]");
        for (int b = 0; b < rows; b++)
        {
            var z = logits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            entropy[b] = CategoricalRow.EntropyAndLogSumExp(z, m, out _, nameof(logits), b, -1);
        }
    }

    /// <summary>KL(π_old ‖ π_new) per row, analytic; kl [B]. The mask applies to both.</summary>
    public void Kl(ReadOnlySpan<float> oldLogits, ReadOnlySpan<float> newLogits, Span<float> kl, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(oldLogits, actionMask), n = ActionCount;
        DistributionChecks.Length(newLogits.Length, oldLogits.Length, nameof(newLogits), "[B × n], like oldLogits");
        DistributionChecks.Length(kl.Length, rows, nameof(kl), "[B]");
        for (int b = 0; b < rows; b++)
        {
            var zo = oldLogits.Slice(b * n, n);
            var zn = newLogits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            float ln = CategoricalRow.CheckedLogSumExp(zn, m, nameof(newLogits), b, -1);
            kl[b] = CategoricalRow.Kl(zo, zn, ln, m, nameof(oldLogits), b, -1);
        }
    }

    /// <summary>
    /// gradLogits[b, i] += gradLogProb[b] · (1[i = a_b] − p_bi): back-propagates Σ_b w_b·log π(a_b) in one call.
    /// gradLogits [B × n] is accumulated, not overwritten.
    /// </summary>
    public void LogProbBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> actions, ReadOnlySpan<float> gradLogProb, Span<float> gradLogits, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), n = ActionCount;
        DistributionChecks.Length(actions.Length, rows, nameof(actions), "[B]");
        DistributionChecks.Length(gradLogProb.Length, rows, nameof(gradLogProb), "[B]");
        DistributionChecks.Length(gradLogits.Length, logits.Length, nameof(gradLogits), "[B × n], like the logits");
        for (int b = 0; b < rows; b++)
        {
            var z = logits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            int a = ReadAction(actions[b], m, b);
            float lse = CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, -1);
            CategoricalRow.LogProbBackward(z, m, lse, a, gradLogProb[b], gradLogits.Slice(b * n, n));
        }
    }

    /// <summary>gradLogits[b, i] += gradEntropy[b] · (−p_bi (log p_bi + H_b)). Accumulates.</summary>
    public void EntropyBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> gradEntropy, Span<float> gradLogits, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), n = ActionCount;
        DistributionChecks.Length(gradEntropy.Length, rows, nameof(gradEntropy), "[B]");
        DistributionChecks.Length(gradLogits.Length, logits.Length, nameof(gradLogits), "[B × n], like the logits");
        for (int b = 0; b < rows; b++)
        {
            var z = logits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            float h = CategoricalRow.EntropyAndLogSumExp(z, m, out float lse, nameof(logits), b, -1);
            CategoricalRow.EntropyBackward(z, m, lse, h, gradEntropy[b], gradLogits.Slice(b * n, n));
        }
    }

    /// <summary>Derivative of KL(old ‖ new) w.r.t. the NEW logits: gradNewLogits[b, i] += gradKl[b] · (p_new,bi − p_old,bi). Accumulates.</summary>
    public void KlBackward(ReadOnlySpan<float> oldLogits, ReadOnlySpan<float> newLogits, ReadOnlySpan<float> gradKl, Span<float> gradNewLogits, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(oldLogits, actionMask), n = ActionCount;
        DistributionChecks.Length(newLogits.Length, oldLogits.Length, nameof(newLogits), "[B × n], like oldLogits");
        DistributionChecks.Length(gradKl.Length, rows, nameof(gradKl), "[B]");
        DistributionChecks.Length(gradNewLogits.Length, oldLogits.Length, nameof(gradNewLogits), "[B × n], like the logits");
        for (int b = 0; b < rows; b++)
        {
            var zo = oldLogits.Slice(b * n, n);
            var zn = newLogits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            float lo = CategoricalRow.CheckedLogSumExp(zo, m, nameof(oldLogits), b, -1);
            float ln = CategoricalRow.CheckedLogSumExp(zn, m, nameof(newLogits), b, -1);
            CategoricalRow.KlBackward(zo, lo, zn, ln, m, gradKl[b], gradNewLogits.Slice(b * n, n));
        }
    }

    /// <summary>
    /// Fisher information of each row in logit space times a tangent: result[b] += (diag(p_b) − p_b p_bᵀ) v[b].
    /// This is the Hessian of KL(π ‖ π_new) at π_new = π, which TRPO's conjugate gradient needs
    /// (compose with the network's Jacobian: Jᵀ F J v). v and result are [B × n]; result is accumulated.
    /// </summary>
    public void FisherVectorProduct(ReadOnlySpan<float> logits, ReadOnlySpan<float> v, Span<float> result, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), n = ActionCount;
        DistributionChecks.Length(v.Length, logits.Length, nameof(v), "[B × n], like the logits");
        DistributionChecks.Length(result.Length, logits.Length, nameof(result), "[B × n], like the logits");
        for (int b = 0; b < rows; b++)
        {
            var z = logits.Slice(b * n, n);
            var m = MaskRow(actionMask, b * n, n);
            float lse = CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, -1);
            CategoricalRow.FisherVectorProduct(z, m, lse, v.Slice(b * n, n), result.Slice(b * n, n));
        }
    }

    private int ReadAction(float value, ReadOnlySpan<bool> maskRow, int row)
    {
        int a = DistributionChecks.Action(value, ActionCount, row, -1, "actions");
        if (!CategoricalRow.Allowed(maskRow, a))
            throw new ArgumentException($"actions[row {row}] = {a} is masked out by actionMask; the update must use the mask the action was sampled with.", "actions");
        return a;
    }
}
