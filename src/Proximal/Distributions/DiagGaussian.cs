using Proximal.Numerics;

namespace Proximal.Distributions;

/// <summary>
/// A batch of diagonal Gaussians over R^d: mean [B × d] and log-std either state-independent [d]
/// (PPO's default: one parameter vector broadcast over the batch) or per row [B × d]. The layout is
/// taken from the log-std length (with B = 1 the two coincide). Everything is row-major float32.
/// <para>
/// Gradients: every <c>…Backward</c> method takes the upstream derivative per row (e.g. dLoss/dlogp_b,
/// [B]) and ACCUMULATES (+=) into gradMean / gradLogStd. A gradLogStd span has the layout of the
/// log-std it belongs to: for a state-independent [d] log-std it receives the SUM over the batch
/// (exactly the gradient of that shared parameter); for [B × d] it receives one row per sample.
/// </para>
/// The type holds only d; one instance can be shared by threads. Nothing allocates.
/// </summary>
public sealed class DiagGaussian
{
    /// <summary>½ log(2π).</summary>
    internal const float HalfLog2Pi = 0.918938533204672742f;

    public DiagGaussian(int actionDim)
    {
        if (actionDim <= 0) throw new ArgumentOutOfRangeException(nameof(actionDim), actionDim, "A Gaussian needs at least one dimension.");
        ActionDim = actionDim;
    }

    public int ActionDim { get; }

    public int BatchSizeOf(ReadOnlySpan<float> mean) => DistributionChecks.Rows(mean.Length, ActionDim, nameof(mean), "ActionDim");

    private bool LogStdPerRow(ReadOnlySpan<float> logStd, int rows, string name = "logStd") =>
        DistributionChecks.LogStdPerRow(logStd.Length, rows, ActionDim, name);

    private void CheckRows(int length, int rows, string name) =>
        DistributionChecks.Matrix(length, rows, ActionDim, name);

    /// <summary>actions = mean + exp(logStd) · ε with ε ~ N(0, 1) from <paramref name="rng"/>, drawn row by row.</summary>
    public void Sample(ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, Rng rng, Span<float> actions)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int rows = BatchSizeOf(mean), d = ActionDim;
        bool perRow = LogStdPerRow(logStd, rows);
        CheckRows(actions.Length, rows, nameof(actions));
        if (!perRow && d <= MaxSharedDims)
        {
            Span<float> std = stackalloc float[d];
            SharedExp(logStd, 1f, std);
            for (int b = 0, i = 0; b < rows; b++)
                for (int j = 0; j < d; j++, i++)
                    actions[i] = mean[i] + std[j] * (float)rng.NextGaussian();
            return;
        }
        for (int b = 0; b < rows; b++)
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j;
                float ls = logStd[perRow ? i : j];
                CheckLogStd(ls, b, j);
                actions[i] = mean[i] + MathF.Exp(ls) * (float)rng.NextGaussian();
            }
    }

    /// <summary>
    /// Largest action dimension whose shared (state-independent) exp(±log σ) is computed once per call on the stack
    /// instead of once per element: the same values (MathF.Exp of the same argument), a d-th of the calls — sampling and
    /// the log-likelihood's gradient of 500 rows spent most of their time in them.
    /// </summary>
    private const int MaxSharedDims = 64;

    /// <summary>result[j] = exp(sign · logStd[j]) for a log-std shared by all rows, each checked finite once.</summary>
    private static void SharedExp(ReadOnlySpan<float> logStd, float sign, Span<float> result)
    {
        for (int j = 0; j < result.Length; j++)
        {
            CheckLogStd(logStd[j], 0, j);
            result[j] = MathF.Exp(sign * logStd[j]);
        }
    }

    /// <summary>The most likely action: the mean (copied into actions [B × d]).</summary>
    public void Mode(ReadOnlySpan<float> mean, Span<float> actions)
    {
        int rows = BatchSizeOf(mean);
        CheckRows(actions.Length, rows, nameof(actions));
        mean.CopyTo(actions);
    }

    /// <summary>log N(a; μ, σ²) summed over the d dimensions; logProb [B].</summary>
    public void LogProb(ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, ReadOnlySpan<float> actions, Span<float> logProb)
    {
        int rows = BatchSizeOf(mean), d = ActionDim;
        bool perRow = LogStdPerRow(logStd, rows);
        CheckRows(actions.Length, rows, nameof(actions));
        DistributionChecks.Length(logProb.Length, rows, nameof(logProb), "[B]");
        Span<float> shared = !perRow && d <= MaxSharedDims ? stackalloc float[d] : default;
        if (!shared.IsEmpty) SharedExp(logStd, -1f, shared);
        for (int b = 0; b < rows; b++)
        {
            float sum = 0f;
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j;
                float ls = logStd[perRow ? i : j];
                if (shared.IsEmpty) CheckLogStd(ls, b, j);
                float z = (actions[i] - mean[i]) * (shared.IsEmpty ? MathF.Exp(-ls) : shared[j]);
                sum += -0.5f * z * z - ls - HalfLog2Pi;
            }
            if (float.IsNaN(sum)) ThrowNaN(b, mean, actions, nameof(actions));
            logProb[b] = sum;
        }
    }

    /// <summary>Entropy Σ_j (log σ_j + ½(1 + log 2π)) per row; entropy [B] (B taken from its length).</summary>
    public void Entropy(ReadOnlySpan<float> logStd, Span<float> entropy)
    {
        int rows = entropy.Length, d = ActionDim;
        bool perRow = LogStdPerRow(logStd, rows);
        for (int b = 0; b < rows; b++)
        {
            float sum = 0f;
            for (int j = 0; j < d; j++)
            {
                float ls = logStd[perRow ? b * d + j : j];
                CheckLogStd(ls, b, j);
                sum += ls + 0.5f + HalfLog2Pi;
            }
            entropy[b] = sum;
        }
    }

    /// <summary>
    /// KL(N_old ‖ N_new) summed over dimensions, analytic:
    /// Σ_j [log σn − log σo + (σo² + (μo − μn)²) / (2σn²) − ½]; kl [B]. Old and new log-std may use different layouts.
    /// </summary>
    public void Kl(ReadOnlySpan<float> oldMean, ReadOnlySpan<float> oldLogStd, ReadOnlySpan<float> newMean, ReadOnlySpan<float> newLogStd, Span<float> kl)
    {
        int rows = DistributionChecks.Rows(oldMean.Length, ActionDim, nameof(oldMean), "ActionDim"), d = ActionDim;
        CheckRows(newMean.Length, rows, nameof(newMean));
        bool oldPerRow = LogStdPerRow(oldLogStd, rows, nameof(oldLogStd));
        bool newPerRow = LogStdPerRow(newLogStd, rows, nameof(newLogStd));
        DistributionChecks.Length(kl.Length, rows, nameof(kl), "[B]");
        for (int b = 0; b < rows; b++)
        {
            float sum = 0f;
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j;
                float lo = oldLogStd[oldPerRow ? i : j], ln = newLogStd[newPerRow ? i : j];
                CheckLogStd(lo, b, j, nameof(oldLogStd));
                CheckLogStd(ln, b, j, nameof(newLogStd));
                float dm = oldMean[i] - newMean[i];
                // σo²/σn² as exp(2(lo − ln)) keeps the ratio exact when both are tiny or huge.
                float invVarNew = MathF.Exp(-2f * ln);
                sum += ln - lo + 0.5f * (MathF.Exp(2f * (lo - ln)) + dm * dm * invVarNew) - 0.5f;
            }
            if (float.IsNaN(sum)) ThrowNaN(b, oldMean, newMean, nameof(newMean), nameof(oldMean));
            kl[b] = sum; // not clamped: rounding may give about −1e-7 when old == new
        }
    }

    /// <summary>
    /// Back-propagates Σ_b gradLogProb[b] · log π(a_b): gradMean[b,j] += g_b (a − μ)/σ²,
    /// gradLogStd += g_b ((a − μ)²/σ² − 1) (summed over b for a state-independent log-std). Accumulates.
    /// </summary>
    public void LogProbBackward(ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, ReadOnlySpan<float> actions,
        ReadOnlySpan<float> gradLogProb, Span<float> gradMean, Span<float> gradLogStd)
    {
        int rows = BatchSizeOf(mean), d = ActionDim;
        bool perRow = LogStdPerRow(logStd, rows);
        CheckRows(actions.Length, rows, nameof(actions));
        DistributionChecks.Length(gradLogProb.Length, rows, nameof(gradLogProb), "[B]");
        CheckRows(gradMean.Length, rows, nameof(gradMean));
        DistributionChecks.Length(gradLogStd.Length, logStd.Length, nameof(gradLogStd), "the layout of logStd");
        Span<float> shared = !perRow && d <= MaxSharedDims ? stackalloc float[d] : default;
        if (!shared.IsEmpty) SharedExp(logStd, -1f, shared);
        for (int b = 0; b < rows; b++)
        {
            float g = gradLogProb[b];
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j, s = perRow ? i : j;
                float ls = logStd[s];
                if (shared.IsEmpty) CheckLogStd(ls, b, j);
                float invStd = shared.IsEmpty ? MathF.Exp(-ls) : shared[j];
                float z = (actions[i] - mean[i]) * invStd;
                gradMean[i] += g * z * invStd;
                gradLogStd[s] += g * (z * z - 1f);
            }
        }
    }

    /// <summary>dH/dlog σ_j = 1: gradLogStd += gradEntropy[b] per row (summed over b when state-independent). Accumulates.</summary>
    public void EntropyBackward(ReadOnlySpan<float> logStd, ReadOnlySpan<float> gradEntropy, Span<float> gradLogStd)
    {
        int rows = gradEntropy.Length, d = ActionDim;
        bool perRow = LogStdPerRow(logStd, rows);
        DistributionChecks.Length(gradLogStd.Length, logStd.Length, nameof(gradLogStd), "the layout of logStd");
        for (int b = 0; b < rows; b++)
        {
            float g = gradEntropy[b];
            for (int j = 0; j < d; j++) gradLogStd[perRow ? b * d + j : j] += g;
        }
    }

    /// <summary>
    /// Derivative of KL(old ‖ new) w.r.t. the NEW parameters: gradNewMean += g_b (μn − μo)/σn²,
    /// gradNewLogStd += g_b (1 − (σo² + (μo − μn)²)/σn²) (summed over b when state-independent). Accumulates.
    /// </summary>
    public void KlBackward(ReadOnlySpan<float> oldMean, ReadOnlySpan<float> oldLogStd, ReadOnlySpan<float> newMean, ReadOnlySpan<float> newLogStd,
        ReadOnlySpan<float> gradKl, Span<float> gradNewMean, Span<float> gradNewLogStd)
    {
        int rows = DistributionChecks.Rows(oldMean.Length, ActionDim, nameof(oldMean), "ActionDim"), d = ActionDim;
        CheckRows(newMean.Length, rows, nameof(newMean));
        bool oldPerRow = LogStdPerRow(oldLogStd, rows, nameof(oldLogStd));
        bool newPerRow = LogStdPerRow(newLogStd, rows, nameof(newLogStd));
        DistributionChecks.Length(gradKl.Length, rows, nameof(gradKl), "[B]");
        CheckRows(gradNewMean.Length, rows, nameof(gradNewMean));
        DistributionChecks.Length(gradNewLogStd.Length, newLogStd.Length, nameof(gradNewLogStd), "the layout of newLogStd");
        for (int b = 0; b < rows; b++)
        {
            float g = gradKl[b];
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j, s = newPerRow ? i : j;
                float lo = oldLogStd[oldPerRow ? i : j], ln = newLogStd[s];
                CheckLogStd(lo, b, j, nameof(oldLogStd));
                CheckLogStd(ln, b, j, nameof(newLogStd));
                float invVarNew = MathF.Exp(-2f * ln);
                float dm = newMean[i] - oldMean[i];
                gradNewMean[i] += g * dm * invVarNew;
                gradNewLogStd[s] += g * (1f - MathF.Exp(2f * (lo - ln)) - dm * dm * invVarNew);
            }
        }
    }

    /// <summary>
    /// Fisher information in (mean, log-std) coordinates times a tangent (the Hessian of KL at old = new, for TRPO):
    /// resultMean[b,j] += vMean[b,j] / σ², resultLogStd += 2 vLogStd. vLogStd and resultLogStd have the
    /// log-std layout; for a state-independent log-std the tangent is shared by every row, so
    /// resultLogStd[j] += 2·B·vLogStd[j] (the Fisher of the SUM over the batch, like every gradient here). Accumulates.
    /// </summary>
    public void FisherVectorProduct(ReadOnlySpan<float> logStd, ReadOnlySpan<float> vMean, ReadOnlySpan<float> vLogStd,
        Span<float> resultMean, Span<float> resultLogStd)
    {
        int rows = DistributionChecks.Rows(vMean.Length, ActionDim, nameof(vMean), "ActionDim"), d = ActionDim;
        bool perRow = LogStdPerRow(logStd, rows);
        CheckRows(resultMean.Length, rows, nameof(resultMean));
        DistributionChecks.Length(vLogStd.Length, logStd.Length, nameof(vLogStd), "the layout of logStd");
        DistributionChecks.Length(resultLogStd.Length, logStd.Length, nameof(resultLogStd), "the layout of logStd");
        for (int b = 0; b < rows; b++)
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j, s = perRow ? i : j;
                float ls = logStd[s];
                CheckLogStd(ls, b, j);
                resultMean[i] += vMean[i] * MathF.Exp(-2f * ls);
                resultLogStd[s] += 2f * vLogStd[s];
            }
    }

    internal static void CheckLogStd(float ls, int row, int dim, string name = "logStd")
    {
        if (!float.IsFinite(ls))
            throw new ArgumentException($"{name}[row {row}, dim {dim}] = {ls}; log-std must be finite.", name);
    }

    internal void ThrowNaN(int row, ReadOnlySpan<float> first, ReadOnlySpan<float> second, string secondName, string firstName = "mean")
    {
        int d = ActionDim;
        for (int j = 0; j < d; j++)
        {
            if (float.IsNaN(first[row * d + j])) throw new ArgumentException($"{firstName}[row {row}, dim {j}] is NaN.", firstName);
            if (float.IsNaN(second[row * d + j])) throw new ArgumentException($"{secondName}[row {row}, dim {j}] is NaN.", secondName);
        }
        throw new ArgumentException($"row {row}: the result is NaN (infinite {firstName} or {secondName} values).", secondName);
    }
}
