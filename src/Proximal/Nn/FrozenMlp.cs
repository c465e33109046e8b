using Proximal.Numerics;

namespace Proximal.Nn;

/// <summary>
/// An inference-only copy of an <see cref="Mlp"/>'s weights at one moment — a self-play opponent's snapshot — laid out
/// for forwards of a few rows. <see cref="Mlp.Forward(ReadOnlySpan{float}, int)"/> hands the GEMM each W [out × in] as a
/// transposed operand, which the GEMM packs (copies transposed) on every call: for one to a few rows that copy of
/// 256×256 weights costs more than the arithmetic. Here each W is stored transposed once, [in × out], so the GEMM reads
/// it in place for a few rows (it still packs a last column panel narrower than its tile, and all of B when more than
/// four row tiles reuse it). The outputs equal <see cref="Mlp.Forward(ReadOnlySpan{float}, int)"/>'s on the same parameters bit for bit:
/// the GEMM sums every element in the same order whether it packs an operand or not, and the bias and activation
/// passes are the Mlp's own.
/// <para>The copy does not follow the source's later changes: <see cref="Load"/> it again after the weights change.
/// Steady-state forwards allocate nothing.</para>
/// </summary>
public sealed class FrozenMlp
{
    private readonly Mlp _layout;
    private readonly string _label; // formatted once: the forward's checks must not build strings
    private readonly float[][] _weightsTransposed, _biases;
    private readonly ActivationLayer[] _activations;
    private float[] _output = [];
    private readonly SparseRows _sparseInput = new();

    /// <summary>A copy of <paramref name="source"/> at its current parameters.</summary>
    public FrozenMlp(Mlp source) : this(source, (source ?? throw new ArgumentNullException(nameof(source))).Parameters.Values) { }

    /// <summary>A copy of <paramref name="source"/>'s layout with the weights of <paramref name="parameters"/> (see <see cref="Load"/>).</summary>
    public FrozenMlp(Mlp source, ReadOnlySpan<float> parameters)
    {
        _layout = source ?? throw new ArgumentNullException(nameof(source));
        _label = $"FrozenMlp '{source.Name}'";
        var linears = source.Linears;
        _weightsTransposed = linears.Select(l => new float[l.Weight.Length]).ToArray();
        _biases = linears.Select(l => new float[l.Bias.Length]).ToArray();
        _activations = new ActivationLayer[linears.Count - 1];
        for (int i = 0; i < _activations.Length; i++)
            _activations[i] = ActivationLayer.For(source.HiddenActivation, linears[i].OutputSize, $"{source.Name}.{i}.frozen");
        Load(parameters);
    }

    public int InputSize => _layout.InputSize;
    public int OutputSize => _layout.OutputSize;

    /// <summary>
    /// Takes the weights from <paramref name="parameters"/>, a flat parameter vector with the source's layout (the
    /// source's <see cref="Mlp.Parameters"/> values now, or a saved copy of them).
    /// </summary>
    public void Load(ReadOnlySpan<float> parameters)
    {
        if (parameters.Length != _layout.Parameters.Count)
            throw new ArgumentException($"FrozenMlp '{_layout.Name}': {parameters.Length} parameters given; the network's layout has {_layout.Parameters.Count}.", nameof(parameters));
        var linears = _layout.Linears;
        for (int i = 0; i < linears.Count; i++)
        {
            var l = linears[i];
            var w = parameters.Slice(l.Weight.Offset, l.Weight.Length); // [out × in]
            var wt = _weightsTransposed[i];                              // [in × out]
            Transposition.Transpose(w, l.OutputSize, l.InputSize, wt);
            parameters.Slice(l.Bias.Offset, l.Bias.Length).CopyTo(_biases[i]);
        }
    }

    /// <summary>
    /// Outputs [batch × OutputSize] for inputs [batch × InputSize]; the span points into this copy's workspace and stays
    /// valid until its next forward.
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"{_label}: batch must be at least 1.");
        long inputLength = Guard.Elements(batch, InputSize, _label);
        if (input.Length != inputLength)
            throw new ArgumentException($"{_label}: input has {input.Length} values; batch {batch} × {InputSize} is {inputLength}.", nameof(input));
        var linears = _layout.Linears;
        ReadOnlySpan<float> x = input;
        for (int i = 0; i < linears.Count; i++)
        {
            int inSize = linears[i].InputSize, outSize = linears[i].OutputSize;
            bool last = i == linears.Count - 1;
            int n = (int)Guard.Elements(batch, outSize, _label);
            var y = Guard.Ensure(ref _output, n).AsSpan(0, n);
            // As Mlp.Forward: hidden layers z = x·W (no bias), then f(z + b) in one pass; the last layer starts from the
            // bias and adds x·W with beta = 1. The transposed weights make B an untransposed operand.
            // A mostly-zero input (board planes) takes the sparse product, which gives the same bits (see Linear); the source
            // network's SparseInputs switch, read now, turns it off for both.
            if (last) Kernels.BroadcastRows(_biases[i], y, batch);
            if (i == 0 && _layout.SparseInputs && _sparseInput.TryCompress(x, batch, inSize, (int)(Linear.SparseInputDensity * batch * inSize)))
                SparseGemm.Multiply(_sparseInput, _weightsTransposed[i], outSize, last ? 1f : 0f, y);
            else Gemm.Multiply(Transpose.No, Transpose.No, batch, outSize, inSize, 1f, x, inSize, _weightsTransposed[i], outSize, last ? 1f : 0f, y, outSize);
            if (last) return y;
            x = _activations[i].ForwardWithBias(y, _biases[i], batch);
        }
        throw new InvalidOperationException("unreachable: an Mlp has at least one layer");
    }
}
