using System.Runtime.InteropServices;
using Proximal.Numerics;

namespace Proximal.Nn;

/// <summary>
/// Fully connected layer y = x·Wᵀ + b on row-major batches: x [batch × in], W [out × in] (row-major, one
/// row per output unit, as PyTorch stores it), b [out], y [batch × out].
/// <para>
/// K-FAC needs each layer's input and the gradient w.r.t. its output: <see cref="LastInput"/> and
/// <see cref="LastOutputGradient"/> expose them for the last forward/backward pass.
/// The public <see cref="Forward"/> and <see cref="Backward"/> copy their argument into layer-owned
/// storage (so the caller may reuse its buffer); inside an <see cref="Mlp"/> the neighbouring layer's
/// buffer is referenced instead, which saves that copy.
/// </para>
/// </summary>
public sealed class Linear : ILayer
{
    private readonly Parameters _parameters;
    private float[] _inputCopy = [], _outputGradientCopy = [];
    private float[] _output = [], _inputGradient = [], _tangent = [];
    private float[] _input = [], _outputGradient = [];
    private bool _hasOutputGradient;
    private readonly SparseRows _sparseInput = new(); // the last forward's input, compressed, when it took the sparse path
    private bool _sparseInputValid;
    private float[] _weightTransposed = [], _weightTransposedFrom = []; // Wᵀ for the sparse forward, and the W it came from
    private bool _weightTransposedValid;
    private readonly string _label; // formatted once: hot-path checks must not build strings

    /// <summary>Allocates W [<paramref name="outputSize"/> × <paramref name="inputSize"/>] as "<paramref name="name"/>.weight" and b as "<paramref name="name"/>.bias", both zero.</summary>
    public Linear(Parameters parameters, int inputSize, int outputSize, string name = "linear")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Guard.Size(inputSize, $"Linear '{name}' input size", nameof(inputSize));
        Guard.Size(outputSize, $"Linear '{name}' output size", nameof(outputSize));
        if ((long)inputSize * outputSize > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, $"Linear '{name}': {outputSize}×{inputSize} weights exceed the largest array.");
        _parameters = parameters;
        Name = name;
        _label = $"Linear '{name}'";
        InputSize = inputSize;
        OutputSize = outputSize;
        Weight = parameters.Allocate(inputSize * outputSize, name + ".weight");
        Bias = parameters.Allocate(outputSize, name + ".bias");
    }

    public string Name { get; }
    public int InputSize { get; }
    public int OutputSize { get; }
    public int Batch { get; private set; }
    public Parameters Parameters => _parameters;

    /// <summary>Slice of W, row-major [OutputSize × InputSize].</summary>
    public ParameterSlice Weight { get; }

    /// <summary>Slice of b [OutputSize].</summary>
    public ParameterSlice Bias { get; }

    /// <summary>Threads handed to <see cref="Gemm.Multiply"/> (1 keeps results independent of the machine's core count).</summary>
    public int Threads
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"Linear '{Name}': Threads must be at least 1.");
    } = 1;

    /// <summary>
    /// Inputs with at most this share of nonzero entries over the batch (one-hot codes, board planes: Connect Four's five
    /// planes average 9 %) take the sparse path: the forward and the weight gradient skip the zeros
    /// (<see cref="SparseGemm"/>) and give the dense GEMM's bits exactly, so the choice never changes a result. Measured
    /// on Zen 5, one thread, for a minibatch through the self-play network's first layer (2048 × 210 → 256, forward and
    /// weight gradient): the sparse path is 2.7× / 1.6× as fast as the dense one at 9 % (AVX2 / AVX-512), 1.7× / 1.06× at
    /// 15 %, 1.1× / 0.7× at 25 % (docs/benchmarks.md, twelfth session). The bound sits where the AVX-512 tier breaks even.
    /// </summary>
    internal const double SparseInputDensity = 0.15;

    /// <summary>
    /// Fewer rows stay dense: the sparse forward first checks that its kept Wᵀ is current (a pass over W), which costs
    /// about what the dense product of one or two rows does.
    /// </summary>
    internal const int MinSparseBatch = 16;

    /// <summary>
    /// False for a layer whose inputs are never sparse (an <see cref="Mlp"/>'s hidden layers): skips the scan. Tests and
    /// <c>bench selfplay --compare-dense</c> also turn it off to run the dense path on the same inputs.
    /// </summary>
    internal bool SparseInputs { get; set; } = true;

    /// <summary>True when the last forward took the sparse path (tests and benchmarks).</summary>
    internal bool LastForwardWasSparse => _sparseInputValid;

    /// <summary>W as a span, row-major [OutputSize × InputSize].</summary>
    public Span<float> WeightValues => _parameters.Values.AsSpan(Weight.Offset, Weight.Length);

    /// <summary>b as a span [OutputSize].</summary>
    public Span<float> BiasValues => _parameters.Values.AsSpan(Bias.Offset, Bias.Length);

    /// <summary>Input of the last forward pass [Batch × InputSize] (empty before the first).</summary>
    public ReadOnlySpan<float> LastInput => _input.AsSpan(0, Batch * InputSize);

    /// <summary>∂L/∂y of the last backward pass [Batch × OutputSize]; empty when no backward pass followed the last forward.</summary>
    public ReadOnlySpan<float> LastOutputGradient => _hasOutputGradient ? _outputGradient.AsSpan(0, Batch * OutputSize) : default;

    /// <summary>Orthogonal W scaled by <paramref name="gain"/> (see <see cref="Orthogonal"/>) and zero b.</summary>
    public void InitializeOrthogonal(Rng rng, double gain)
    {
        Orthogonal.Fill(WeightValues, OutputSize, InputSize, gain, rng);
        BiasValues.Clear();
    }

    /// <summary>
    /// W then b drawn uniformly from [−1/√InputSize, 1/√InputSize), row-major order (see <see cref="WeightInit.FanInUniform"/>).
    /// </summary>
    public void InitializeFanInUniform(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        double bound = 1.0 / Math.Sqrt(InputSize);
        foreach (ref float w in WeightValues) w = (float)rng.Uniform(-bound, bound);
        foreach (ref float b in BiasValues) b = (float)rng.Uniform(-bound, bound);
    }

    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch) => Forward(input, batch, addBias: true);

    /// <summary>
    /// Forward with the input copied. With <paramref name="addBias"/> false the result is x·Wᵀ only and
    /// the caller adds the bias (fused into the following activation by <see cref="Mlp"/>).
    /// </summary>
    internal ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch, bool addBias)
    {
        long n = CheckInput(input.Length, batch);
        input.CopyTo(Guard.Ensure(ref _inputCopy, n));
        return ForwardCore(_inputCopy, batch, addBias);
    }

    /// <summary>Forward on a buffer owned by a neighbouring layer: referenced, not copied.</summary>
    internal ReadOnlySpan<float> ForwardShared(float[] input, int batch, bool addBias)
    {
        CheckInput(Math.Min(input.Length, batch * InputSize), batch);
        return ForwardCore(input, batch, addBias);
    }

    private long CheckInput(int length, int batch)
    {
        Guard.Batch(batch, _label);
        long n = Guard.Elements(batch, InputSize, _label);
        Guard.Elements(batch, OutputSize, _label);
        Guard.Length(length, n, _label, Guard.Operand.Input, batch, InputSize, "input");
        return n;
    }

    private ReadOnlySpan<float> ForwardCore(float[] input, int batch, bool addBias)
    {
        _input = input;
        Batch = batch;
        _hasOutputGradient = false;
        int n = batch * OutputSize;
        var y = Guard.Ensure(ref _output, n).AsSpan(0, n);
        var x = input.AsSpan(0, batch * InputSize);
        // Bias first, then GEMM with beta = 1 adds x·Wᵀ: one pass over y instead of two.
        if (addBias) Kernels.BroadcastRows(BiasValues, y, batch);
        _sparseInputValid = SparseInputs && batch >= MinSparseBatch
            && _sparseInput.TryCompress(x, batch, InputSize, (int)(SparseInputDensity * batch * InputSize));
        if (_sparseInputValid)
        {
            SparseGemm.Multiply(_sparseInput, TransposedWeights(), OutputSize, addBias ? 1f : 0f, y, Threads);
            return y;
        }
        Gemm.Multiply(Transpose.No, Transpose.Yes, batch, OutputSize, InputSize, 1f,
            x, InputSize, WeightValues, InputSize, addBias ? 1f : 0f, y, OutputSize, Threads);
        return y;
    }

    /// <summary>
    /// Wᵀ [in × out] for the sparse forward, which reads B's rows. The weights change only between updates, while a rollout
    /// makes many forwards: the transposed copy is kept with a copy of the W it came from, and remade only when W differs
    /// bit for bit (the comparison costs about a plain copy of W; the strided transpose, measured on Zen 5, ten times that).
    /// </summary>
    private float[] TransposedWeights()
    {
        var w = WeightValues;
        var from = Guard.Ensure(ref _weightTransposedFrom, w.Length).AsSpan(0, w.Length);
        var wt = Guard.Ensure(ref _weightTransposed, w.Length);
        if (!_weightTransposedValid || !MemoryMarshal.AsBytes(w).SequenceEqual(MemoryMarshal.AsBytes(from)))
        {
            w.CopyTo(from);
            Transposition.Transpose(w, OutputSize, InputSize, wt);
            _weightTransposedValid = true;
        }
        return wt;
    }

    public ReadOnlySpan<float> Backward(ReadOnlySpan<float> outputGradient, bool computeInputGradient = true)
        => Backward(outputGradient, computeInputGradient, parameterGradients: true);

    /// <summary><see cref="Backward(ReadOnlySpan{float}, bool)"/>; <paramref name="parameterGradients"/> false leaves ∂W, ∂b alone.</summary>
    internal ReadOnlySpan<float> Backward(ReadOnlySpan<float> outputGradient, bool computeInputGradient, bool parameterGradients)
    {
        long n = CheckOutputGradient(outputGradient.Length);
        outputGradient.CopyTo(Guard.Ensure(ref _outputGradientCopy, n));
        return BackwardCore(_outputGradientCopy, computeInputGradient, parameterGradients);
    }

    /// <summary>Backward on a buffer owned by a neighbouring layer; <paramref name="parameterGradients"/> false leaves ∂W, ∂b alone.</summary>
    internal ReadOnlySpan<float> BackwardShared(float[] outputGradient, bool computeInputGradient, bool parameterGradients = true)
    {
        CheckOutputGradient(Math.Min(outputGradient.Length, Batch * OutputSize));
        return BackwardCore(outputGradient, computeInputGradient, parameterGradients);
    }

    /// <summary>
    /// Only the input gradient, and only its columns [<paramref name="first"/>, first + <paramref name="count"/>):
    /// ∂L/∂x[:, first..] = g·W[:, first..] into a [Batch × count] buffer; the parameter gradients are not touched.
    /// What an actor's update needs from a critic on (obs ‖ action): d Q/d action, not d Q/d obs nor d Q/d θ.
    /// </summary>
    internal ReadOnlySpan<float> InputGradientColumns(ReadOnlySpan<float> outputGradient, int first, int count)
    {
        CheckOutputGradient(Math.Min(outputGradient.Length, Batch * OutputSize));
        if (first < 0 || count <= 0 || first + count > InputSize)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{_label}: input columns [{first}, {first + count}) are not inside [0, {InputSize}).");
        int batch = Batch, m = batch * count;
        var dx = Guard.Ensure(ref _inputGradient, m).AsSpan(0, m);
        // A column slice of W is W itself shifted by `first`, with its row stride unchanged.
        Gemm.Multiply(Transpose.No, Transpose.No, batch, count, OutputSize, 1f,
            outputGradient[..(batch * OutputSize)], OutputSize, WeightValues[first..], InputSize, 0f, dx, count, Threads);
        return dx;
    }

    private long CheckOutputGradient(int length)
    {
        Guard.HasForward(Batch, _label, "Backward");
        long n = (long)Batch * OutputSize;
        Guard.Length(length, n, _label, Guard.Operand.OutputGradient, Batch, OutputSize, "outputGradient");
        return n;
    }

    private ReadOnlySpan<float> BackwardCore(float[] outputGradient, bool computeInputGradient, bool parameterGradients = true)
    {
        _outputGradient = outputGradient;
        _hasOutputGradient = true;
        int batch = Batch;
        var g = outputGradient.AsSpan(0, batch * OutputSize);
        if (parameterGradients)
        {
            var x = _input.AsSpan(0, batch * InputSize);
            var grads = _parameters.Gradients;
            // ∂L/∂W += gᵀ·x   [out × in]
            if (_sparseInputValid) SparseGemm.AddTransposedProduct(g, OutputSize, _sparseInput, grads.AsSpan(Weight.Offset, Weight.Length), Threads);
            else Gemm.Multiply(Transpose.Yes, Transpose.No, OutputSize, InputSize, batch, 1f,
                g, OutputSize, x, InputSize, 1f, grads.AsSpan(Weight.Offset, Weight.Length), InputSize, Threads);
            // ∂L/∂b += Σ_rows g
            Kernels.AddColumnSums(g, batch, grads.AsSpan(Bias.Offset, Bias.Length));
        }
        if (!computeInputGradient) return default;
        int m = batch * InputSize;
        var dx = Guard.Ensure(ref _inputGradient, m).AsSpan(0, m);
        // ∂L/∂x = g·W   [batch × in]
        Gemm.Multiply(Transpose.No, Transpose.No, batch, InputSize, OutputSize, 1f,
            g, OutputSize, WeightValues, InputSize, 0f, dx, InputSize, Threads);
        return dx;
    }

    internal float[] InputGradientBuffer => _inputGradient;

    public ReadOnlySpan<float> Jvp(ReadOnlySpan<float> parameterTangent, ReadOnlySpan<float> inputTangent = default)
    {
        Guard.HasForward(Batch, _label, "Jvp");
        Guard.Length(parameterTangent.Length, _parameters.Count, _label, Guard.Operand.ParameterTangent, Batch, 0, nameof(parameterTangent));
        int batch = Batch;
        if (!inputTangent.IsEmpty)
            Guard.Length(inputTangent.Length, (long)batch * InputSize, _label, Guard.Operand.InputTangent, batch, InputSize, nameof(inputTangent));
        int n = batch * OutputSize;
        var t = Guard.Ensure(ref _tangent, n).AsSpan(0, n);
        // ẏ = ḃ + x·Ẇᵀ + ẋ·Wᵀ
        Kernels.BroadcastRows(parameterTangent.Slice(Bias.Offset, Bias.Length), t, batch);
        Gemm.Multiply(Transpose.No, Transpose.Yes, batch, OutputSize, InputSize, 1f,
            _input.AsSpan(0, batch * InputSize), InputSize, parameterTangent.Slice(Weight.Offset, Weight.Length), InputSize, 1f, t, OutputSize, Threads);
        if (!inputTangent.IsEmpty)
            Gemm.Multiply(Transpose.No, Transpose.Yes, batch, OutputSize, InputSize, 1f,
                inputTangent, InputSize, WeightValues, InputSize, 1f, t, OutputSize, Threads);
        return t;
    }

    internal float[] TangentBuffer => _tangent;
    internal float[] OutputBuffer => _output;

    public override string ToString() => $"Linear '{Name}' {InputSize}→{OutputSize}";
}
