using Proximal.Distributions;
using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Algorithms.Policies;

/// <summary>
/// SAC's actor (Haarnoja et al. 2018): an MLP from the observation to a mean μ(s) and a state-dependent log-std
/// log σ(s) per action dimension (one output layer of 2·|A| units: columns [0, |A|) are μ, [|A|, 2|A|) log σ), the
/// log-std clamped to [<see cref="LogStdMin"/>, <see cref="LogStdMax"/>], and the <see cref="SquashedGaussian"/>
/// a = tanh(μ + σ·ε) in (−1, 1)^|A| (the algorithm scales it to the action bounds).
/// <para>
/// The clamp is hard (no gradient to the raw log-std outside it). Why [−5, 2] rather than the [−20, 2] of the SAC
/// authors' code: above 2, σ > 7.4 is already far wider than tanh's (−1, 1) range can show. Below, in float32 the noise
/// σε vanishes from u = μ + σε once σ nears the rounding step of μ (1.2e−7 at |μ| ≈ 1, so log σ ≈ −16): the sample is
/// then deterministic while log π still counts −log σ as if it were not, so log π and its gradient stop describing the
/// action taken. At −5 (σ ≥ 0.0067) σε stays far above float32 resolution for any plausible μ, and each dimension's
/// −log σ term of log π is bounded by 5, which bounds the entropy term of the targets while the critics are still poor.
/// </para>
/// All outputs go to caller-owned arrays. <see cref="Backward"/> differentiates the LAST <see cref="Sample"/> /
/// <see cref="Distribution"/> call of this instance. Orthogonal init: √2 hidden, 0.01 output (μ ≈ 0, σ ≈ 1 at the start).
/// </summary>
public sealed class SquashedGaussianActor
{
    public const float LogStdMin = -5f, LogStdMax = 2f;

    private readonly Mlp _net;
    private readonly SquashedGaussian _dist;
    private float[] _outGrad = [], _rows = [];
    private float[] _raw = []; // the network's raw outputs of the last forward [B × 2|A|] (for the clamp's mask)
    private int _batch;

    public SquashedGaussianActor(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, Rng rng, Activation activation = Activation.Relu,
        WeightInit init = WeightInit.Orthogonal)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        ArgumentNullException.ThrowIfNull(rng);
        ObservationSize = observationSize;
        ActionSize = actionSize;
        Parameters = new Parameters();
        _net = new Mlp(Parameters, [observationSize, .. hiddenSizes, 2 * actionSize], activation, rng, outputGain: 0.01, name: "actor", init: init);
        _dist = new SquashedGaussian(actionSize);
    }

    public Parameters Parameters { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public Mlp Network => _net;
    public int Threads { set => _net.Threads = value; }

    /// <summary>μ(s) [B × |A|] and the clamped log σ(s) [B × |A|] into caller-owned arrays.</summary>
    public void Distribution(ReadOnlySpan<float> observations, int batch, Span<float> mean, Span<float> logStd)
    {
        int ad = ActionSize;
        if (mean.Length != batch * ad || logStd.Length != batch * ad)
            throw new ArgumentException($"mean and logStd need {batch} × {ad} values each; got {mean.Length} and {logStd.Length}.");
        var y = _net.Forward(observations, batch);
        if (_raw.Length < y.Length) _raw = new float[y.Length];
        y.CopyTo(_raw);
        for (int b = 0; b < batch; b++)
        {
            y.Slice(b * 2 * ad, ad).CopyTo(mean.Slice(b * ad, ad));
            for (int j = 0; j < ad; j++) logStd[b * ad + j] = Math.Clamp(y[b * 2 * ad + ad + j], LogStdMin, LogStdMax);
        }
        _batch = batch;
    }

    /// <summary>
    /// Reparameterised sample: μ, log σ (clamped) of <paramref name="observations"/>, noise ε ~ N(0, 1) from
    /// <paramref name="rng"/> (row-major), actions tanh(μ + σε) [B × |A|] and log π(a|s) [B], all caller-owned.
    /// </summary>
    public void Sample(ReadOnlySpan<float> observations, int batch, Rng rng, Span<float> actions, Span<float> logProb,
        Span<float> noise, Span<float> mean, Span<float> logStd)
    {
        Distribution(observations, batch, mean, logStd);
        _dist.RSample(mean, logStd, rng, actions, noise, logProb);
    }

    /// <summary>Deterministic actions tanh(μ(s)) [B × |A|].</summary>
    public void Mode(ReadOnlySpan<float> observations, int batch, Span<float> actions, Span<float> meanWorkspace, Span<float> logStdWorkspace)
    {
        Distribution(observations, batch, meanWorkspace, logStdWorkspace);
        _dist.Mode(meanWorkspace, actions);
    }

    /// <summary>
    /// Back-propagates L = Σ_b gradLogProb[b]·log π(a_b|s_b) + Σ gradActions·a through the last <see cref="Sample"/>
    /// (its μ, log σ and ε passed back), ε held fixed, ADDING into the parameter gradients. The log-std gradient is zero
    /// where the clamp was active.
    /// </summary>
    public void Backward(ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, ReadOnlySpan<float> noise,
        ReadOnlySpan<float> gradLogProb, ReadOnlySpan<float> gradActions)
    {
        int batch = _batch, ad = ActionSize;
        if (batch == 0) throw new InvalidOperationException("Backward needs a Sample first.");
        if (mean.Length != batch * ad) throw new ArgumentException($"mean has {mean.Length} values; the last sample had {batch} × {ad}.", nameof(mean));
        int half = batch * ad;
        if (_outGrad.Length < 2 * half) _outGrad = new float[2 * half];
        if (_rows.Length < 2 * half) _rows = new float[2 * half];
        // RSampleBackward accumulates d/dμ and d/dlog σ into [B × |A|] blocks; the network's rows are [μ_b ‖ log σ_b].
        var gm = _outGrad.AsSpan(0, half);
        var gs = _outGrad.AsSpan(half, half);
        gm.Clear();
        gs.Clear();
        _dist.RSampleBackward(mean, logStd, noise, gradLogProb, gradActions, gm, gs);
        var rows = _rows.AsSpan(0, 2 * half);
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < ad; j++)
            {
                rows[b * 2 * ad + j] = gm[b * ad + j];
                float raw = _raw[b * 2 * ad + ad + j];
                rows[b * 2 * ad + ad + j] = raw >= LogStdMin && raw <= LogStdMax ? gs[b * ad + j] : 0f; // the clamp's zero gradient
            }
        _net.Backward(rows, computeInputGradient: false);
    }

}
