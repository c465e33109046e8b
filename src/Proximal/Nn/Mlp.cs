using Proximal.Numerics;

namespace Proximal.Nn;

/// <summary>
/// Multi-layer perceptron: Linear → activation → … → Linear (no activation after the last layer).
/// Layer sizes e.g. [17, 64, 64, 6]. Weights are orthogonal with <c>hiddenGain</c> for the hidden layers
/// and <c>outputGain</c> for the last one; biases are zero (PPO: √2 hidden, 0.01 policy head, 1 value head). With
/// <see cref="WeightInit.FanInUniform"/> every layer draws W and b in ±1/√fan_in instead and the gains are unused.
/// Parameters are allocated as "<c>name</c>.<i>i</i>.weight" / "<c>name</c>.<i>i</i>.bias" for layer i.
/// </summary>
public sealed class Mlp : ILayer
{
    /// <summary>√2, the usual gain for tanh/ReLU hidden layers.</summary>
    public const double DefaultHiddenGain = 1.4142135623730951;

    private readonly Linear[] _linears;
    private readonly ActivationLayer[] _activations;
    private readonly ILayer[] _layers;

    public Mlp(Parameters parameters, IReadOnlyList<int> sizes, Activation hiddenActivation, Rng rng,
        double hiddenGain = DefaultHiddenGain, double outputGain = 1.0, string name = "mlp", WeightInit init = WeightInit.Orthogonal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(rng);
        if (sizes.Count < 2) throw new ArgumentException($"Mlp '{name}' needs at least an input and an output size, got {sizes.Count} sizes.", nameof(sizes));
        for (int i = 0; i < sizes.Count; i++)
            if (sizes[i] <= 0) throw new ArgumentOutOfRangeException(nameof(sizes), sizes[i], $"Mlp '{name}': size {i} must be positive (a zero-size layer cannot be built); sizes = [{string.Join(", ", sizes)}].");
        if (!Enum.IsDefined(hiddenActivation)) throw new ArgumentOutOfRangeException(nameof(hiddenActivation), hiddenActivation, $"Mlp '{name}': unknown activation.");
        if (!Enum.IsDefined(init)) throw new ArgumentOutOfRangeException(nameof(init), init, $"Mlp '{name}': unknown weight init.");

        Name = name;
        Parameters = parameters;
        Sizes = sizes.ToArray();
        HiddenActivation = hiddenActivation;
        int count = sizes.Count - 1;
        _linears = new Linear[count];
        _activations = new ActivationLayer[count - 1];
        _layers = new ILayer[2 * count - 1];
        for (int i = 0; i < count; i++)
        {
            // Only the network's own input may be mostly zeros (one-hot codes, board planes); hidden activations are not
            // worth scanning for the sparse path.
            var linear = new Linear(parameters, sizes[i], sizes[i + 1], $"{name}.{i}") { SparseInputs = i == 0 };
            if (init == WeightInit.FanInUniform) linear.InitializeFanInUniform(rng);
            else linear.InitializeOrthogonal(rng, i == count - 1 ? outputGain : hiddenGain);
            _linears[i] = linear;
            _layers[2 * i] = linear;
            if (i < count - 1)
            {
                var act = ActivationLayer.For(hiddenActivation, sizes[i + 1], $"{name}.{i}");
                _activations[i] = act;
                _layers[2 * i + 1] = act;
            }
        }
    }

    public string Name { get; }
    public Parameters Parameters { get; }
    public IReadOnlyList<int> Sizes { get; }
    public Activation HiddenActivation { get; }
    public int InputSize => Sizes[0];
    public int OutputSize => Sizes[^1];
    public int Batch => _linears[0].Batch;

    /// <summary>The Linear layers in order (their LastInput / LastOutputGradient feed K-FAC).</summary>
    public IReadOnlyList<Linear> Linears => _linears;

    /// <summary>
    /// Whether the network's input is scanned for the sparse path (see <see cref="Linear.SparseInputDensity"/>): on by
    /// default; a network fed another network's activations (a head on a trunk, an LSTM's output) turns it off.
    /// </summary>
    internal bool SparseInputs
    {
        get => _linears[0].SparseInputs;
        set => _linears[0].SparseInputs = value;
    }

    /// <summary>Every layer in order: Linear, activation, Linear, …, Linear.</summary>
    public IReadOnlyList<ILayer> Layers => _layers;

    /// <summary>Threads for every matrix product (1 by default: results then do not depend on the core count).</summary>
    public int Threads
    {
        get => _linears[0].Threads;
        set { foreach (var l in _linears) l.Threads = value; }
    }

    /// <summary>The output [Batch × OutputSize] of the last <see cref="Forward(ReadOnlySpan{float}, int)"/> (layer-owned).</summary>
    internal ReadOnlySpan<float> Output => _linears[^1].OutputBuffer.AsSpan(0, Batch * OutputSize);

    /// <summary>
    /// The first <paramref name="length"/> values of the first layer's input-gradient buffer: what the last
    /// <see cref="Backward(ReadOnlySpan{float}, bool)"/> with an input gradient, or <see cref="InputGradient"/>, returned.
    /// </summary>
    internal ReadOnlySpan<float> LastInputGradient(int length) => _linears[0].InputGradientBuffer.AsSpan(0, length);

    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch)
    {
        // Hidden layers: GEMM without bias, then one pass computing act(z + b).
        bool hidden = _activations.Length > 0;
        var y = _linears[0].Forward(input, batch, addBias: !hidden);
        for (int i = 0; i < _activations.Length; i++)
        {
            var act = _activations[i];
            act.ForwardWithBias(y, _linears[i].BiasValues, batch);
            y = _linears[i + 1].ForwardShared(act.OutputBuffer, batch, addBias: i + 1 == _activations.Length);
        }
        return y;
    }

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int)"/> into a caller-owned <paramref name="output"/> [batch × OutputSize],
    /// which later calls leave alone (several evaluations — actor, critics, target critics — can be alive at once).
    /// Backward still refers to the latest forward pass of this network.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, int batch, Span<float> output)
    {
        if (output.Length != batch * OutputSize)
            throw new ArgumentException($"output has {output.Length} values; expected batch {batch} × {OutputSize} = {batch * OutputSize}.", nameof(output));
        Forward(input, batch).CopyTo(output);
    }

    public ReadOnlySpan<float> Backward(ReadOnlySpan<float> outputGradient, bool computeInputGradient = true)
        => Backward(outputGradient, computeInputGradient, parameterGradients: true);

    /// <summary>
    /// <see cref="Backward(ReadOnlySpan{float}, bool)"/>; with <paramref name="parameterGradients"/> false the parameter
    /// gradients are left alone and only the layers' output gradients (<see cref="Linear.LastOutputGradient"/>) are
    /// formed — all K-FAC's statistics pass needs, at two thirds of the cost.
    /// </summary>
    public ReadOnlySpan<float> Backward(ReadOnlySpan<float> outputGradient, bool computeInputGradient, bool parameterGradients)
    {
        int last = _linears.Length - 1;
        var g = _linears[last].Backward(outputGradient, computeInputGradient || last > 0, parameterGradients);
        for (int i = last - 1; i >= 0; i--)
        {
            var act = _activations[i];
            act.Backward(g);
            g = _linears[i].BackwardShared(act.InputGradientBuffer, computeInputGradient || i > 0, parameterGradients);
        }
        return g;
    }

    /// <summary>
    /// ∂L/∂x of the last forward pass for the input columns [<paramref name="firstInput"/>, firstInput +
    /// <paramref name="inputCount"/>) only, [batch × inputCount], from ∂L/∂y; the parameter gradients are NOT touched.
    /// An actor's step through a critic needs exactly this (d Q/d action): skipping the critic's weight gradients,
    /// which it would discard, saves a third of that backward pass, and the unneeded observation columns of the
    /// first layer's input gradient go too.
    /// </summary>
    public ReadOnlySpan<float> InputGradient(ReadOnlySpan<float> outputGradient, int firstInput, int inputCount)
    {
        int last = _linears.Length - 1;
        if (last == 0) return _linears[0].InputGradientColumns(outputGradient, firstInput, inputCount);
        var g = _linears[last].Backward(outputGradient, computeInputGradient: true, parameterGradients: false);
        for (int i = last - 1; i >= 1; i--)
        {
            _activations[i].Backward(g);
            g = _linears[i].BackwardShared(_activations[i].InputGradientBuffer, computeInputGradient: true, parameterGradients: false);
        }
        _activations[0].Backward(g);
        return _linears[0].InputGradientColumns(_activations[0].InputGradientBuffer, firstInput, inputCount);
    }

    public ReadOnlySpan<float> Jvp(ReadOnlySpan<float> parameterTangent, ReadOnlySpan<float> inputTangent = default)
    {
        var t = _linears[0].Jvp(parameterTangent, inputTangent);
        for (int i = 0; i < _activations.Length; i++)
        {
            t = _activations[i].Jvp(default, t);
            t = _linears[i + 1].Jvp(parameterTangent, t);
        }
        return t;
    }

    public override string ToString() => $"Mlp '{Name}' [{string.Join("→", Sizes)}] {HiddenActivation}";
}
