using System.Runtime.CompilerServices;
using Proximal.Numerics;

namespace Proximal.Distributions;

/// <summary>
/// tanh-squashed diagonal Gaussian (SAC's policy): u = μ + σ·ε with ε ~ N(0, 1), a = tanh(u) ∈ (−1, 1)^d.
/// Shapes and log-std layouts are those of <see cref="DiagGaussian"/>: mean [B × d], log-std [d] or
/// [B × d]. Scaling a to the action bounds, and clamping the log-std, are the policy's job.
/// <para>
/// log π(a) = Σ_j [log N(u_j; μ_j, σ_j²) − log(1 − tanh² u_j)], with the correction computed as
/// 2(log 2 − u − softplus(−2u)) so that it stays finite where tanh² u rounds to 1.
/// There is no closed-form entropy; SAC uses −log π of the sample.
/// </para>
/// <see cref="RSampleBackward"/> differentiates through the reparameterised sample (ε held fixed) and
/// ACCUMULATES into gradMean / gradLogStd (summed over the batch for a state-independent log-std).
/// Stateless apart from d; nothing allocates.
/// </summary>
public sealed class SquashedGaussian
{
    private const float Log2 = 0.693147180559945309f;

    public SquashedGaussian(int actionDim)
    {
        if (actionDim <= 0) throw new ArgumentOutOfRangeException(nameof(actionDim), actionDim, "A Gaussian needs at least one dimension.");
        ActionDim = actionDim;
    }

    public int ActionDim { get; }

    public int BatchSizeOf(ReadOnlySpan<float> mean) => DistributionChecks.Rows(mean.Length, ActionDim, nameof(mean), "ActionDim");

    private void CheckRows(int length, int rows, string name) =>
        DistributionChecks.Matrix(length, rows, ActionDim, name);

    /// <summary>softplus(x) = log(1 + eˣ) without overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Softplus(float x) => MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));

    /// <summary>log(1 − tanh² u) = 2(log 2 − u − softplus(−2u)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float LogOneMinusTanhSquared(float u) => 2f * (Log2 - u - Softplus(-2f * u));

    /// <summary>1 − tanh² u = sech² u = 4e/(1 + e)² with e = exp(−2|u|): no cancellation for large |u|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float SechSquared(float u)
    {
        float e = MathF.Exp(-2f * MathF.Abs(u));
        float q = 1f + e;
        return 4f * e / (q * q);
    }

    /// <summary>
    /// Reparameterised sample: noise ε [B × d] drawn from <paramref name="rng"/>, actions = tanh(μ + σε) [B × d],
    /// logProb [B] = log π(actions). Keep <paramref name="noise"/> for <see cref="RSampleBackward"/>.
    /// </summary>
    public void RSample(ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, Rng rng, Span<float> actions, Span<float> noise, Span<float> logProb)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int rows = BatchSizeOf(mean), d = ActionDim;
        bool perRow = DistributionChecks.LogStdPerRow(logStd.Length, rows, d, nameof(logStd));
        CheckRows(actions.Length, rows, nameof(actions));
        CheckRows(noise.Length, rows, nameof(noise));
        DistributionChecks.Length(logProb.Length, rows, nameof(logProb), "[B]");
        for (int b = 0; b < rows; b++)
        {
            float sum = 0f;
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j;
                float ls = logStd[perRow ? i : j];
                DiagGaussian.CheckLogStd(ls, b, j);
                float eps = (float)rng.NextGaussian();
                float u = mean[i] + MathF.Exp(ls) * eps;
                noise[i] = eps;
                actions[i] = MathF.Tanh(u);
                sum += -0.5f * eps * eps - ls - DiagGaussian.HalfLog2Pi - LogOneMinusTanhSquared(u);
            }
            if (float.IsNaN(sum)) throw new ArgumentException($"mean[row {b}] contains NaN.", nameof(mean));
            logProb[b] = sum;
        }
    }

    /// <summary>log π(tanh u) for given PRE-tanh values u [B × d] (avoids atanh of a saturated action); logProb [B].</summary>
    public void LogProb(ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, ReadOnlySpan<float> preTanh, Span<float> logProb)
    {
        int rows = BatchSizeOf(mean), d = ActionDim;
        bool perRow = DistributionChecks.LogStdPerRow(logStd.Length, rows, d, nameof(logStd));
        CheckRows(preTanh.Length, rows, nameof(preTanh));
        DistributionChecks.Length(logProb.Length, rows, nameof(logProb), "[B]");
        for (int b = 0; b < rows; b++)
        {
            float sum = 0f;
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j;
                float ls = logStd[perRow ? i : j];
                DiagGaussian.CheckLogStd(ls, b, j);
                float u = preTanh[i];
                float z = (u - mean[i]) * MathF.Exp(-ls);
                sum += -0.5f * z * z - ls - DiagGaussian.HalfLog2Pi - LogOneMinusTanhSquared(u);
            }
            if (float.IsNaN(sum)) throw new ArgumentException($"row {b}: mean or preTanh contains NaN or infinite values.", nameof(preTanh));
            logProb[b] = sum;
        }
    }

    /// <summary>Deterministic action tanh(μ) [B × d].</summary>
    public void Mode(ReadOnlySpan<float> mean, Span<float> actions)
    {
        int rows = BatchSizeOf(mean);
        CheckRows(actions.Length, rows, nameof(actions));
        for (int i = 0; i < mean.Length; i++) actions[i] = MathF.Tanh(mean[i]);
    }

    /// <summary>
    /// Back-propagates L = Σ_b gradLogProb[b]·log π(a_b) + Σ_{b,j} gradActions[b,j]·a_bj through the
    /// reparameterised sample a = tanh(μ + σε), ε fixed (the <paramref name="noise"/> from <see cref="RSample"/>).
    /// With u = μ + σε, t = tanh u: d log π/dμ = 2t, d log π/d log σ = 2tσε − 1, da/dμ = 1 − t², da/d log σ = (1 − t²)σε.
    /// gradActions may be empty (log-prob term only), e.g. when dQ/da is not wanted. Accumulates.
    /// </summary>
    public void RSampleBackward(ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, ReadOnlySpan<float> noise,
        ReadOnlySpan<float> gradLogProb, ReadOnlySpan<float> gradActions, Span<float> gradMean, Span<float> gradLogStd)
    {
        int rows = BatchSizeOf(mean), d = ActionDim;
        bool perRow = DistributionChecks.LogStdPerRow(logStd.Length, rows, d, nameof(logStd));
        CheckRows(noise.Length, rows, nameof(noise));
        DistributionChecks.Length(gradLogProb.Length, rows, nameof(gradLogProb), "[B]");
        if (!gradActions.IsEmpty) CheckRows(gradActions.Length, rows, nameof(gradActions));
        CheckRows(gradMean.Length, rows, nameof(gradMean));
        DistributionChecks.Length(gradLogStd.Length, logStd.Length, nameof(gradLogStd), "the layout of logStd");
        bool withActions = !gradActions.IsEmpty;
        for (int b = 0; b < rows; b++)
        {
            float g = gradLogProb[b];
            for (int j = 0; j < d; j++)
            {
                int i = b * d + j, s = perRow ? i : j;
                float ls = logStd[s];
                DiagGaussian.CheckLogStd(ls, b, j);
                float sigmaEps = MathF.Exp(ls) * noise[i];
                float u = mean[i] + sigmaEps;
                float t = MathF.Tanh(u);
                float dU = 2f * g * t;                      // through log π's tanh correction
                if (withActions) dU += gradActions[i] * SechSquared(u); // through the action itself
                gradMean[i] += dU;
                gradLogStd[s] += dU * sigmaEps - g;         // u depends on log σ via σε; log N adds −log σ
            }
        }
    }
}
