using Proximal.Numerics;

namespace Proximal.Distributions;

/// <summary>
/// Independent categoricals for a <see cref="Spaces.MultiDiscrete"/>(nvec) action: logits are the
/// components' logits concatenated per row, [B × Σn]; actions are [B × k] (k = nvec.Length), one float
/// index per component. Log-probs, entropies and KLs are summed over the components ([B] each).
/// Masking, gradient accumulation and thread-safety are as in <see cref="Categorical"/>; the mask has the
/// shape of the logits, and every component of every row must keep at least one allowed action.
/// </summary>
public sealed class MultiCategorical
{
    private readonly int[] _nvec;
    private readonly int[] _offsets;

    public MultiCategorical(params int[] nvec)
    {
        ArgumentNullException.ThrowIfNull(nvec);
        if (nvec.Length == 0) throw new ArgumentException("MultiCategorical needs at least one component.", nameof(nvec));
        _nvec = (int[])nvec.Clone();
        _offsets = new int[nvec.Length];
        int total = 0;
        for (int c = 0; c < nvec.Length; c++)
        {
            if (nvec[c] <= 0) throw new ArgumentException($"nvec[{c}] = {nvec[c]}; every component needs at least one action.", nameof(nvec));
            _offsets[c] = total;
            total = checked(total + nvec[c]);
        }
        LogitsPerRow = total;
    }

    public MultiCategorical(Spaces.MultiDiscrete space) : this((space ?? throw new ArgumentNullException(nameof(space))).Nvec.ToArray()) { }

    public ReadOnlySpan<int> Nvec => _nvec;
    /// <summary>k, the number of components (action values per row).</summary>
    public int ComponentCount => _nvec.Length;
    /// <summary>Σ nvec, the logits per row.</summary>
    public int LogitsPerRow { get; }

    public int BatchSizeOf(ReadOnlySpan<float> logits) => DistributionChecks.Rows(logits.Length, LogitsPerRow, nameof(logits), "Σ nvec");

    private int Prepare(ReadOnlySpan<float> logits, ReadOnlySpan<bool> actionMask)
    {
        int rows = BatchSizeOf(logits);
        DistributionChecks.Mask(actionMask.Length, logits.Length);
        return rows;
    }

    private void CheckActions(int length, int rows, string name) =>
        DistributionChecks.Matrix(length, rows, ComponentCount, name);

    private static ReadOnlySpan<bool> Sub(ReadOnlySpan<bool> mask, int offset, int n) => mask.IsEmpty ? default : mask.Slice(offset, n);

    private int ReadAction(float value, ReadOnlySpan<bool> maskRow, int row, int c)
    {
        int a = DistributionChecks.Action(value, _nvec[c], row, c, "actions");
        if (!CategoricalRow.Allowed(maskRow, a))
            throw new ArgumentException($"actions[row {row}, component {c}] = {a} is masked out by actionMask; the update must use the mask the action was sampled with.", "actions");
        return a;
    }

    /// <summary>Draws every component of every row (one uniform per component); actions [B × k].</summary>
    public void Sample(ReadOnlySpan<float> logits, Rng rng, Span<float> actions, ReadOnlySpan<bool> actionMask = default)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int rows = Prepare(logits, actionMask), w = LogitsPerRow, k = ComponentCount;
        CheckActions(actions.Length, rows, nameof(actions));
        for (int b = 0; b < rows; b++)
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var z = logits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                float lse = CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, c);
                actions[b * k + c] = CategoricalRow.Sample(z, m, lse, rng.NextDouble());
            }
    }

    /// <summary>Argmax of each component; actions [B × k].</summary>
    public void Mode(ReadOnlySpan<float> logits, Span<float> actions, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), w = LogitsPerRow, k = ComponentCount;
        CheckActions(actions.Length, rows, nameof(actions));
        for (int b = 0; b < rows; b++)
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var z = logits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, c);
                actions[b * k + c] = CategoricalRow.Mode(z, m);
            }
    }

    /// <summary>Σ_c log π_c(a_bc); actions [B × k], logProb [B].</summary>
    public void LogProb(ReadOnlySpan<float> logits, ReadOnlySpan<float> actions, Span<float> logProb, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), w = LogitsPerRow, k = ComponentCount;
        CheckActions(actions.Length, rows, nameof(actions));
        DistributionChecks.Length(logProb.Length, rows, nameof(logProb), "[B]");
        for (int b = 0; b < rows; b++)
        {
            float sum = 0f;
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var z = logits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                int a = ReadAction(actions[b * k + c], m, b, c);
                sum += z[a] - CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, c);
            }
            logProb[b] = sum;
        }
    }

    /// <summary>Σ_c H(π_c); entropy [B].</summary>
    public void Entropy(ReadOnlySpan<float> logits, Span<float> entropy, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), w = LogitsPerRow, k = ComponentCount;
        DistributionChecks.Length(entropy.Length, rows, nameof(entropy), "[B]");
        for (int b = 0; b < rows; b++)
        {
            float sum = 0f;
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var z = logits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                sum += CategoricalRow.EntropyAndLogSumExp(z, m, out _, nameof(logits), b, c);
            }
            entropy[b] = sum;
        }
    }

    /// <summary>Σ_c KL(π_old,c ‖ π_new,c); kl [B].</summary>
    public void Kl(ReadOnlySpan<float> oldLogits, ReadOnlySpan<float> newLogits, Span<float> kl, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(oldLogits, actionMask), w = LogitsPerRow, k = ComponentCount;
        DistributionChecks.Length(newLogits.Length, oldLogits.Length, nameof(newLogits), "[B × Σn], like oldLogits");
        DistributionChecks.Length(kl.Length, rows, nameof(kl), "[B]");
        for (int b = 0; b < rows; b++)
        {
            float sum = 0f;
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var zo = oldLogits.Slice(o, n);
                var zn = newLogits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                float ln = CategoricalRow.CheckedLogSumExp(zn, m, nameof(newLogits), b, c);
                sum += CategoricalRow.Kl(zo, zn, ln, m, nameof(oldLogits), b, c);
            }
            kl[b] = sum;
        }
    }

    /// <summary>Back-propagates Σ_b gradLogProb[b]·logπ(a_b) into gradLogits [B × Σn] (accumulates).</summary>
    public void LogProbBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> actions, ReadOnlySpan<float> gradLogProb, Span<float> gradLogits, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), w = LogitsPerRow, k = ComponentCount;
        CheckActions(actions.Length, rows, nameof(actions));
        DistributionChecks.Length(gradLogProb.Length, rows, nameof(gradLogProb), "[B]");
        DistributionChecks.Length(gradLogits.Length, logits.Length, nameof(gradLogits), "[B × Σn], like the logits");
        for (int b = 0; b < rows; b++)
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var z = logits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                int a = ReadAction(actions[b * k + c], m, b, c);
                float lse = CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, c);
                CategoricalRow.LogProbBackward(z, m, lse, a, gradLogProb[b], gradLogits.Slice(o, n));
            }
    }

    /// <summary>Back-propagates Σ_b gradEntropy[b]·H_b into gradLogits [B × Σn] (accumulates).</summary>
    public void EntropyBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> gradEntropy, Span<float> gradLogits, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), w = LogitsPerRow, k = ComponentCount;
        DistributionChecks.Length(gradEntropy.Length, rows, nameof(gradEntropy), "[B]");
        DistributionChecks.Length(gradLogits.Length, logits.Length, nameof(gradLogits), "[B × Σn], like the logits");
        for (int b = 0; b < rows; b++)
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var z = logits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                float h = CategoricalRow.EntropyAndLogSumExp(z, m, out float lse, nameof(logits), b, c);
                CategoricalRow.EntropyBackward(z, m, lse, h, gradEntropy[b], gradLogits.Slice(o, n));
            }
    }

    /// <summary>Back-propagates Σ_b gradKl[b]·KL_b(old ‖ new) into the NEW logits' gradient [B × Σn] (accumulates).</summary>
    public void KlBackward(ReadOnlySpan<float> oldLogits, ReadOnlySpan<float> newLogits, ReadOnlySpan<float> gradKl, Span<float> gradNewLogits, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(oldLogits, actionMask), w = LogitsPerRow, k = ComponentCount;
        DistributionChecks.Length(newLogits.Length, oldLogits.Length, nameof(newLogits), "[B × Σn], like oldLogits");
        DistributionChecks.Length(gradKl.Length, rows, nameof(gradKl), "[B]");
        DistributionChecks.Length(gradNewLogits.Length, oldLogits.Length, nameof(gradNewLogits), "[B × Σn], like the logits");
        for (int b = 0; b < rows; b++)
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var zo = oldLogits.Slice(o, n);
                var zn = newLogits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                float lo = CategoricalRow.CheckedLogSumExp(zo, m, nameof(oldLogits), b, c);
                float ln = CategoricalRow.CheckedLogSumExp(zn, m, nameof(newLogits), b, c);
                CategoricalRow.KlBackward(zo, lo, zn, ln, m, gradKl[b], gradNewLogits.Slice(o, n));
            }
    }

    /// <summary>Block-diagonal Fisher (one softmax block per component) times v; v and result [B × Σn]; accumulates.</summary>
    public void FisherVectorProduct(ReadOnlySpan<float> logits, ReadOnlySpan<float> v, Span<float> result, ReadOnlySpan<bool> actionMask = default)
    {
        int rows = Prepare(logits, actionMask), w = LogitsPerRow, k = ComponentCount;
        DistributionChecks.Length(v.Length, logits.Length, nameof(v), "[B × Σn], like the logits");
        DistributionChecks.Length(result.Length, logits.Length, nameof(result), "[B × Σn], like the logits");
        for (int b = 0; b < rows; b++)
            for (int c = 0; c < k; c++)
            {
                int o = b * w + _offsets[c], n = _nvec[c];
                var z = logits.Slice(o, n);
                var m = Sub(actionMask, o, n);
                float lse = CategoricalRow.CheckedLogSumExp(z, m, nameof(logits), b, c);
                CategoricalRow.FisherVectorProduct(z, m, lse, v.Slice(o, n), result.Slice(o, n));
            }
    }
}
