using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Proximal.Numerics;

namespace Proximal.Nn;

/// <summary>
/// Kronecker-factored approximate curvature (K-FAC; Martens and Grosse, 2015) for a set of <see cref="Linear"/>
/// layers, as ACKTR uses it (Wu et al., 2017). For a layer with weights W̃ = [W | b] ([out × (in + 1)]) the Fisher
/// block is approximated by A ⊗ G, with
/// <list type="bullet">
/// <item>A = E[ã ãᵀ] over the layer's inputs ã = [a, 1] (the homogeneous 1 carries the bias), and</item>
/// <item>G = E[g gᵀ] over the gradients g = ∂ log p(ỹ|x)/∂(pre-activation) of SAMPLED targets ỹ ~ p(·|x) — the
/// Fisher, not the empirical Fisher. The caller back-propagates those per-row log-likelihoods (a sum over rows, not
/// a mean) right before <see cref="UpdateStatistics"/>, which reads <see cref="Linear.LastInput"/> and
/// <see cref="Linear.LastOutputGradient"/>.</item>
/// </list>
/// Both are running averages, F ← decay·F + (1 − decay)·F̂_batch; the FIRST batch initialises them (no bias towards
/// zero and no "cold" iterations with a missing curvature, which Baselines' kfac needs because it starts from zero).
/// <para>
/// Damping is factored Tikhonov damping (Martens and Grosse 2015, section 6.3): (A + π√λ I) ⊗ (G + √λ/π I) with
/// π = √((tr A / dim A) / (tr G / dim G)), which spreads λ over the two factors in proportion to their scale. We chose
/// it over Baselines' eigendecomposition damping ((A ⊗ G + λI)⁻¹ through the eigenvectors of both factors) because
/// the two damped factors are then inverted by a Cholesky factorisation, about 10× cheaper than a symmetric eigen
/// solve, which keeps the curvature work a small share of the update even when it is refreshed every update.
/// The inverses are computed in float64: layer inputs after tanh are strongly correlated, the factors' condition
/// numbers reach 1e6–1e8 before damping, and a float32 Cholesky would lose every digit there; for factors up to
/// 257×257 (a 256-wide layer plus the bias) the float64 Cholesky and inverse cost under 15 Mflop, a few milliseconds.
/// The inverses are kept as float32 copies so that applying them is two GEMMs per layer.
/// </para>
/// <para>
/// <see cref="Precondition"/> computes the natural gradient of each layer, ΔW̃ = G_d⁻¹ ∇W̃ A_d⁻¹ (exactly
/// (A_d ⊗ G_d)⁻¹ vec ∇W̃), in the flat parameter layout. Everything is allocated in the constructor; steady-state
/// calls allocate nothing. Deterministic: GEMMs split the output across threads, never the sum.
/// </para>
/// </summary>
public sealed class Kfac
{
    private readonly KfacBlock[] _blocks;

    /// <param name="layers">The layers to precondition (their <see cref="Parameters"/> must be one and the same buffer).</param>
    /// <param name="statsDecay">Decay of the running averages of A and G (ACKTR: 0.99).</param>
    /// <param name="damping">λ of the factored Tikhonov damping (Baselines' kfac epsilon: 0.01).</param>
    public Kfac(IReadOnlyList<Linear> layers, double statsDecay = 0.99, double damping = 0.01)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("K-FAC needs at least one Linear layer.", nameof(layers));
        if (!(statsDecay >= 0 && statsDecay < 1)) throw new ArgumentOutOfRangeException(nameof(statsDecay), statsDecay, "K-FAC stats decay must be in [0, 1).");
        if (!(damping > 0 && double.IsFinite(damping))) throw new ArgumentOutOfRangeException(nameof(damping), damping, "K-FAC damping must be positive and finite.");
        var parameters = layers[0].Parameters;
        foreach (var l in layers)
            if (!ReferenceEquals(l.Parameters, parameters)) throw new ArgumentException($"{l} does not share the first layer's parameter buffer.", nameof(layers));
        Parameters = parameters;
        StatsDecay = statsDecay;
        Damping = damping;
        _blocks = layers.Select(l => new KfacBlock(l)).ToArray();
    }

    public Parameters Parameters { get; }
    public double StatsDecay { get; }
    public double Damping { get; }
    /// <summary>Batches folded into the running averages so far.</summary>
    public long StatisticsUpdates { get; private set; }
    /// <summary>Times the damped inverses were recomputed.</summary>
    public long InverseUpdates { get; private set; }
    public IReadOnlyList<KfacBlock> Blocks => _blocks;

    /// <summary>Threads for the factor and preconditioning GEMMs (any count gives the same bits).</summary>
    public int Threads
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "K-FAC Threads must be at least 1.");
    } = 1;

    /// <summary>
    /// Folds the last forward/backward pass of every layer into A and G. The backward pass must have propagated
    /// ∂ log p(ỹ_r|x_r)/∂output for sampled targets ỹ_r, one per row (a sum over rows, NOT a mean), times
    /// <paramref name="outputGradientScale"/> (1 unless the caller scaled its targets' gradients).
    /// </summary>
    public void UpdateStatistics(double outputGradientScale = 1.0)
    {
        bool first = StatisticsUpdates == 0;
        foreach (var b in _blocks) b.UpdateStatistics(first ? 0 : StatsDecay, outputGradientScale, Threads);
        StatisticsUpdates++;
    }

    /// <summary>
    /// Folds explicitly given rows into A and G, one pair per block (in <see cref="Blocks"/> order): block i's layer
    /// inputs <paramref name="inputs"/>[i] [rows × in] and the sampled targets' gradients with respect to its outputs
    /// <paramref name="outputGradients"/>[i] [rows × out] — what the layers' last forward and backward pass would have
    /// left behind, for callers that back-propagate the sampled targets themselves (ACKTR, on rows of the forward pass
    /// its loss already ran). The arrays may be longer than the rows.
    /// </summary>
    public void UpdateStatistics(IReadOnlyList<float[]> inputs, IReadOnlyList<float[]> outputGradients, int rows)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputGradients);
        if (inputs.Count != _blocks.Length || outputGradients.Count != _blocks.Length)
            throw new ArgumentException($"K-FAC has {_blocks.Length} blocks; got {inputs.Count} inputs and {outputGradients.Count} output gradients.");
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "K-FAC statistics need at least one row.");
        bool first = StatisticsUpdates == 0;
        for (int i = 0; i < _blocks.Length; i++)
        {
            var b = _blocks[i];
            if (inputs[i].Length < rows * b.Layer.InputSize || outputGradients[i].Length < rows * b.OutputDim)
                throw new ArgumentException($"K-FAC block {i} ({b.Layer}) needs {rows} rows of {b.Layer.InputSize} inputs and {b.OutputDim} output gradients.");
            b.UpdateStatistics(inputs[i].AsSpan(0, rows * b.Layer.InputSize), outputGradients[i].AsSpan(0, rows * b.OutputDim), rows,
                first ? 0 : StatsDecay, 1.0, Threads);
        }
        StatisticsUpdates++;
    }

    /// <summary>Recomputes the damped inverses (A + π√λ I)⁻¹ and (G + √λ/π I)⁻¹ of every layer from the current averages.</summary>
    public void RefreshInverses()
    {
        if (StatisticsUpdates == 0) throw new InvalidOperationException("K-FAC has no statistics yet: call UpdateStatistics after a sampled-target backward pass first.");
        foreach (var b in _blocks) b.RefreshInverse(Damping);
        InverseUpdates++;
    }

    /// <summary>
    /// Writes the natural gradient G_d⁻¹ ∇W̃ A_d⁻¹ of every layer into <paramref name="result"/> (flat parameter
    /// layout); entries outside the layers' weights and biases are left as they are.
    /// </summary>
    public void Precondition(ReadOnlySpan<float> gradients, Span<float> result)
    {
        if (InverseUpdates == 0) throw new InvalidOperationException("K-FAC has no inverses yet: call RefreshInverses first.");
        if (gradients.Length != Parameters.Count || result.Length != Parameters.Count)
            throw new ArgumentException($"K-FAC preconditions flat vectors of {Parameters.Count} parameters; got {gradients.Length} and {result.Length}.");
        foreach (var b in _blocks) b.Precondition(gradients, result, Threads);
    }

    /// <summary>Restores the running counts saved with the factors (model files).</summary>
    public void LoadCounts(long statisticsUpdates, long inverseUpdates)
    {
        if (statisticsUpdates < 0 || inverseUpdates < 0) throw new ArgumentOutOfRangeException(nameof(statisticsUpdates), "K-FAC counts must be >= 0.");
        StatisticsUpdates = statisticsUpdates;
        InverseUpdates = inverseUpdates;
    }

    // ---------------------------------------------------------------- dense float64 helpers (small, symmetric)

    /// <summary>
    /// Σ a[i]·b[i] over a.Length (≤ b.Length) in float64. The inverse below makes ~n²·3/2 of these calls with lengths
    /// under n ≤ 257, where a general-purpose dot product's per-call cost (argument checks, dispatch on the length)
    /// is most of the time; inlined with two Vector256 accumulators it is about 2–3× faster there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double DotShort(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length, i = 0;
        if (b.Length < n) throw new ArgumentException("DotShort needs b at least as long as a.", nameof(b));
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref MemoryMarshal.GetReference(b);
        double s = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                acc0 += Vector256.LoadUnsafe(ref ra, (nuint)i) * Vector256.LoadUnsafe(ref rb, (nuint)i);
                acc1 += Vector256.LoadUnsafe(ref ra, (nuint)(i + 4)) * Vector256.LoadUnsafe(ref rb, (nuint)(i + 4));
            }
            s = Vector256.Sum(acc0 + acc1);
        }
        for (; i < n; i++) s += Unsafe.Add(ref ra, i) * Unsafe.Add(ref rb, i);
        return s;
    }

    /// <summary>
    /// Four dot products a_k · b of one length n, each with exactly <see cref="DotShort"/>'s arithmetic (so the same bits):
    /// the b loads are shared and the four pairs of accumulator chains run side by side, where one call at a time waits
    /// on its own adds. a_k starts at a + k·strideA.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void DotShort4(ref double a, nint strideA, ref double b, int n, out double s0, out double s1, out double s2, out double s3)
    {
        ref double a0 = ref a;
        ref double a1 = ref Unsafe.Add(ref a, strideA);
        ref double a2 = ref Unsafe.Add(ref a, 2 * strideA);
        ref double a3 = ref Unsafe.Add(ref a, 3 * strideA);
        int i = 0;
        s0 = s1 = s2 = s3 = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<double> p0 = default, q0 = default, p1 = default, q1 = default, p2 = default, q2 = default, p3 = default, q3 = default;
            for (; i <= n - 8; i += 8)
            {
                var bLo = Vector256.LoadUnsafe(ref b, (nuint)i);
                var bHi = Vector256.LoadUnsafe(ref b, (nuint)(i + 4));
                p0 += Vector256.LoadUnsafe(ref a0, (nuint)i) * bLo; q0 += Vector256.LoadUnsafe(ref a0, (nuint)(i + 4)) * bHi;
                p1 += Vector256.LoadUnsafe(ref a1, (nuint)i) * bLo; q1 += Vector256.LoadUnsafe(ref a1, (nuint)(i + 4)) * bHi;
                p2 += Vector256.LoadUnsafe(ref a2, (nuint)i) * bLo; q2 += Vector256.LoadUnsafe(ref a2, (nuint)(i + 4)) * bHi;
                p3 += Vector256.LoadUnsafe(ref a3, (nuint)i) * bLo; q3 += Vector256.LoadUnsafe(ref a3, (nuint)(i + 4)) * bHi;
            }
            s0 = Vector256.Sum(p0 + q0); s1 = Vector256.Sum(p1 + q1); s2 = Vector256.Sum(p2 + q2); s3 = Vector256.Sum(p3 + q3);
        }
        for (; i < n; i++)
        {
            double bi = Unsafe.Add(ref b, i);
            s0 += Unsafe.Add(ref a0, i) * bi; s1 += Unsafe.Add(ref a1, i) * bi;
            s2 += Unsafe.Add(ref a2, i) * bi; s3 += Unsafe.Add(ref a3, i) * bi;
        }
    }

    /// <summary>
    /// Inverse of a symmetric positive-definite matrix m [n × n] (row-major) via Cholesky, written to
    /// <paramref name="inverse"/>; <paramref name="work"/> holds 2n² doubles. Returns false when m is not positive definite.
    /// Every inner loop is a dot product of two contiguous rows (L, and L⁻¹ stored transposed), so it runs as SIMD.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called a few times per update: too rarely for tiered JIT to optimise it in a run
    public static bool InvertSpd(ReadOnlySpan<double> m, int n, Span<double> inverse, Span<double> work)
    {
        if (work.Length < 2 * n * n) throw new ArgumentException($"InvertSpd needs a workspace of 2n² = {2 * n * n} doubles; got {work.Length}.", nameof(work));
        var l = work[..(n * n)];
        var lit = work.Slice(n * n, n * n); // (L⁻¹)ᵀ: row j holds column j of L⁻¹
        l.Clear();
        lit.Clear();
        // m = L·Lᵀ, L lower triangular: L[i, j] = (m[i, j] − Σ_{k<j} L[i, k]·L[j, k]) / L[j, j].
        for (int j = 0; j < n; j++)
        {
            var rowJ = l.Slice(j * n, j);
            double d = m[j * n + j] - DotShort(rowJ, rowJ);
            if (!(d > 0)) return false;
            double ljj = Math.Sqrt(d);
            l[j * n + j] = ljj;
            int i = j + 1;
            for (; i + 4 <= n; i += 4) // four rows' dot products at once: the same sums, a quarter of the waiting
            {
                DotShort4(ref l[i * n], n, ref l[j * n], j, out double d0, out double d1, out double d2, out double d3);
                l[i * n + j] = (m[i * n + j] - d0) / ljj;
                l[(i + 1) * n + j] = (m[(i + 1) * n + j] - d1) / ljj;
                l[(i + 2) * n + j] = (m[(i + 2) * n + j] - d2) / ljj;
                l[(i + 3) * n + j] = (m[(i + 3) * n + j] - d3) / ljj;
            }
            for (; i < n; i++)
                l[i * n + j] = (m[i * n + j] - DotShort(l.Slice(i * n, j), rowJ)) / ljj;
        }
        // L⁻¹[i, j] = −(Σ_{j≤k<i} L[i, k]·L⁻¹[k, j]) / L[i, i], L⁻¹[j, j] = 1 / L[j, j]; stored transposed.
        for (int j = 0; j < n; j++)
        {
            var col = lit.Slice(j * n, n); // column j of L⁻¹
            col[j] = 1 / l[j * n + j];
            for (int i = j + 1; i < n; i++)
                col[i] = -DotShort(l.Slice(i * n + j, i - j), col.Slice(j, i - j)) / l[i * n + i];
        }
        // m⁻¹ = L⁻ᵀ·L⁻¹: entry (i, j), j ≤ i, = Σ_{k ≥ i} L⁻¹[k, i]·L⁻¹[k, j].
        for (int i = 0; i < n; i++)
        {
            int j = 0;
            for (; j + 4 <= i + 1; j += 4)
            {
                DotShort4(ref lit[j * n + i], n, ref lit[i * n + i], n - i, out double d0, out double d1, out double d2, out double d3);
                inverse[i * n + j] = inverse[j * n + i] = d0;
                inverse[i * n + j + 1] = inverse[(j + 1) * n + i] = d1;
                inverse[i * n + j + 2] = inverse[(j + 2) * n + i] = d2;
                inverse[i * n + j + 3] = inverse[(j + 3) * n + i] = d3;
            }
            for (; j <= i; j++)
            {
                double s = DotShort(lit.Slice(i * n + i, n - i), lit.Slice(j * n + i, n - i));
                inverse[i * n + j] = s;
                inverse[j * n + i] = s;
            }
        }
        return true;
    }
}

/// <summary>The K-FAC state of one <see cref="Linear"/> layer: A [(in+1)²], G [out²], their damped inverses.</summary>
public sealed class KfacBlock
{
    private readonly float[] _aBatch, _gBatch, _columnMeans, _gradient, _temp, _aInverse32, _gInverse32;
    private readonly double[] _aDamped, _gDamped, _aInverse, _gInverse, _work;

    internal KfacBlock(Linear layer)
    {
        Layer = layer;
        InputDim = layer.InputSize + 1;
        OutputDim = layer.OutputSize;
        int a = InputDim * InputDim, g = OutputDim * OutputDim, n = Math.Max(InputDim, OutputDim);
        A = new double[a]; G = new double[g];
        _aBatch = new float[layer.InputSize * layer.InputSize];
        _gBatch = new float[g];
        _columnMeans = new float[layer.InputSize];
        _gradient = new float[OutputDim * InputDim];
        _temp = new float[OutputDim * InputDim];
        _aInverse32 = new float[a]; _gInverse32 = new float[g];
        _aDamped = new double[a]; _gDamped = new double[g];
        _aInverse = new double[a]; _gInverse = new double[g];
        _work = new double[2 * n * n];
    }

    public Linear Layer { get; }
    /// <summary>in + 1 (the homogeneous coordinate for the bias is the LAST one).</summary>
    public int InputDim { get; }
    public int OutputDim { get; }
    /// <summary>Running E[ã ãᵀ], row-major [InputDim × InputDim].</summary>
    public double[] A { get; }
    /// <summary>Running E[g gᵀ], row-major [OutputDim × OutputDim].</summary>
    public double[] G { get; }
    /// <summary>(A + π√λ I)⁻¹ as last refreshed (float32, as applied).</summary>
    public float[] AInverse => _aInverse32;
    /// <summary>(G + √λ/π I)⁻¹ as last refreshed (float32, as applied).</summary>
    public float[] GInverse => _gInverse32;
    /// <summary>π of the last refresh.</summary>
    public double Pi { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called a few times per update: too rarely for tiered JIT to optimise it in a run
    internal void UpdateStatistics(double decay, double outputGradientScale, int threads)
    {
        var layer = Layer;
        if (layer.Batch == 0 || layer.LastOutputGradient.IsEmpty)
            throw new InvalidOperationException($"K-FAC statistics of {layer} need a forward and then a backward pass of the sampled targets.");
        UpdateStatistics(layer.LastInput, layer.LastOutputGradient, layer.Batch, decay, outputGradientScale, threads);
    }

    /// <summary>Folds the rows x [batch × in] and g [batch × out] into A and G.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called a few times per update: too rarely for tiered JIT to optimise it in a run
    internal void UpdateStatistics(ReadOnlySpan<float> x, ReadOnlySpan<float> g, int batch, double decay, double outputGradientScale, int threads)
    {
        int inSize = Layer.InputSize, inDim = InputDim, outDim = OutputDim;
        float invB = 1f / batch;
        // Â = (1/B) Σ ã ãᵀ: the xᵀx block as a Gram product (its lower triangle), the bias row/column are the input means, the corner is 1.
        Gram.LowerTriangle(x, batch, inSize, invB, _aBatch, threads);
        _columnMeans.AsSpan().Clear();
        Kernels.AddColumnSums(x, batch, _columnMeans);
        double keep = decay, add = 1 - decay;
        var a = A;
        BlendLowerTriangle(_aBatch, inSize, a, inDim, keep, add);
        for (int i = 0; i < inSize; i++)
        {
            double mean = (double)_columnMeans[i] * invB;
            double rb = keep * a[i * inDim + inSize] + add * mean;
            a[i * inDim + inSize] = rb;
            a[inSize * inDim + i] = rb;
        }
        a[inSize * inDim + inSize] = keep * a[inSize * inDim + inSize] + add;

        float alpha = (float)(outputGradientScale * outputGradientScale) * invB;
        Gram.LowerTriangle(g, batch, outDim, alpha, _gBatch, threads);
        BlendLowerTriangle(_gBatch, outDim, G, outDim, keep, add);
    }

    /// <summary>
    /// target[i, j] = target[j, i] ← keep·target[i, j] + add·batch[i, j] for j ≤ i, from the lower triangle of the
    /// n × n <paramref name="batch"/> (row stride n) into the top-left n × n of <paramref name="target"/> (row stride
    /// <paramref name="targetStride"/>); symmetric by construction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called a few times per update: too rarely for tiered JIT to optimise it in a run
    private static void BlendLowerTriangle(float[] batch, int n, double[] target, int targetStride, double keep, double add)
    {
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double r = keep * target[i * targetStride + j] + add * batch[i * n + j];
                target[i * targetStride + j] = r;
                target[j * targetStride + i] = r;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called a few times per update: too rarely for tiered JIT to optimise it in a run
    internal void RefreshInverse(double damping)
    {
        int inDim = InputDim, outDim = OutputDim;
        double trA = 0, trG = 0;
        for (int i = 0; i < inDim; i++) trA += A[i * inDim + i];
        for (int i = 0; i < outDim; i++) trG += G[i * outDim + i];
        // π balances the damping between the factors by their average eigenvalue; a zero factor (no signal yet) gets π = 1.
        double pi = trA > 0 && trG > 0 ? Math.Sqrt(trA / inDim / (trG / outDim)) : 1.0;
        double sqrtLambda = Math.Sqrt(damping);
        Pi = pi;
        A.CopyTo(_aDamped, 0);
        for (int i = 0; i < inDim; i++) _aDamped[i * inDim + i] += pi * sqrtLambda;
        G.CopyTo(_gDamped, 0);
        for (int i = 0; i < outDim; i++) _gDamped[i * outDim + i] += sqrtLambda / pi;
        if (!Kfac.InvertSpd(_aDamped, inDim, _aInverse, _work) || !Kfac.InvertSpd(_gDamped, outDim, _gInverse, _work))
            throw new InvalidOperationException($"K-FAC factors of {Layer} are not positive definite after damping (non-finite statistics?): the update diverged.");
        for (int i = 0; i < _aInverse.Length; i++) _aInverse32[i] = (float)_aInverse[i];
        for (int i = 0; i < _gInverse.Length; i++) _gInverse32[i] = (float)_gInverse[i];
    }

    /// <summary>Restores the factors and the float32 inverses as a model file stored them.</summary>
    public void LoadState(ReadOnlySpan<double> a, ReadOnlySpan<double> g, ReadOnlySpan<float> aInverse, ReadOnlySpan<float> gInverse, double pi)
    {
        a.CopyTo(A); g.CopyTo(G); aInverse.CopyTo(_aInverse32); gInverse.CopyTo(_gInverse32);
        Pi = pi;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called a few times per update: too rarely for tiered JIT to optimise it in a run
    internal void Precondition(ReadOnlySpan<float> gradients, Span<float> result, int threads)
    {
        var layer = Layer;
        int inSize = layer.InputSize, inDim = InputDim, outDim = OutputDim;
        var w = layer.Weight.Of(gradients);
        var bias = layer.Bias.Of(gradients);
        // ∇W̃ = [∇W | ∇b]  [out × (in + 1)]
        for (int o = 0; o < outDim; o++)
        {
            w.Slice(o * inSize, inSize).CopyTo(_gradient.AsSpan(o * inDim, inSize));
            _gradient[o * inDim + inSize] = bias[o];
        }
        // G_d⁻¹ · ∇W̃ · A_d⁻¹
        Gemm.Multiply(Transpose.No, Transpose.No, outDim, inDim, outDim, 1f, _gInverse32, outDim, _gradient, inDim, 0f, _temp, inDim, threads);
        Gemm.Multiply(Transpose.No, Transpose.No, outDim, inDim, inDim, 1f, _temp, inDim, _aInverse32, inDim, 0f, _gradient, inDim, threads);
        var rw = layer.Weight.Of(result);
        var rb = layer.Bias.Of(result);
        for (int o = 0; o < outDim; o++)
        {
            _gradient.AsSpan(o * inDim, inSize).CopyTo(rw.Slice(o * inSize, inSize));
            rb[o] = _gradient[o * inDim + inSize];
        }
    }
}
