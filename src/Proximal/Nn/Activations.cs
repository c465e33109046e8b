using System.Numerics.Tensors;

namespace Proximal.Nn;

/// <summary>Element-wise nonlinearity used between the layers of an <see cref="Mlp"/>.</summary>
public enum Activation
{
    Tanh,
    Relu,
}

/// <summary>
/// Base of the parameter-free element-wise layers. Their derivatives are written in terms of the
/// OUTPUT (tanh' = 1 − y², relu' = [y &gt; 0]), so the input need not be kept.
/// </summary>
public abstract class ActivationLayer : ILayer
{
    private float[] _output = [], _inputGradient = [], _tangent = [];

    private protected ActivationLayer(int size, string name)
    {
        Guard.Size(size, $"{name} size", nameof(size));
        Size = size;
        Name = name;
    }

    public string Name { get; }

    /// <summary>The layer computing <paramref name="kind"/> over <paramref name="size"/> features, named "<paramref name="prefix"/>.tanh" or ".relu".</summary>
    public static ActivationLayer For(Activation kind, int size, string prefix) => kind switch
    {
        Activation.Tanh => new Tanh(size, prefix + ".tanh"),
        Activation.Relu => new Relu(size, prefix + ".relu"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown activation."),
    };

    /// <summary>Number of features (input and output size).</summary>
    public int Size { get; }
    public int InputSize => Size;
    public int OutputSize => Size;
    public int Batch { get; private set; }

    /// <summary>Output of the last forward pass [Batch × Size].</summary>
    public ReadOnlySpan<float> LastOutput => _output.AsSpan(0, Batch * Size);

    internal float[] OutputBuffer => _output;
    internal float[] InputGradientBuffer => _inputGradient;

    private protected abstract void Apply(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>y[r, :] = f(z[r, :] + bias): the bias of the preceding Linear fused into this pass.</summary>
    private protected abstract void ApplyWithBias(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, int rows, Span<float> y);

    /// <summary>result = f'(x) ⊙ v, with f'(x) computed from y = f(x).</summary>
    private protected abstract void DerivativeTimes(ReadOnlySpan<float> y, ReadOnlySpan<float> v, Span<float> result);

    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch)
    {
        Guard.Batch(batch, Name);
        long n = Guard.Elements(batch, Size, Name);
        Guard.Length(input.Length, n, Name, Guard.Operand.Input, batch, Size, nameof(input));
        Batch = batch;
        var y = Guard.Ensure(ref _output, n).AsSpan(0, (int)n);
        Apply(input, y);
        return y;
    }

    /// <summary>Forward of f(z + bias) where z = x·Wᵀ came from a Linear that skipped its bias.</summary>
    internal ReadOnlySpan<float> ForwardWithBias(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, int batch)
    {
        if (bias.Length != Size) throw new ArgumentException($"{Name}: bias has {bias.Length} entries, expected {Size}.", nameof(bias));
        int n = batch * Size;
        Guard.Length(z.Length, n, Name, Guard.Operand.Input, batch, Size, nameof(z));
        Batch = batch;
        var y = Guard.Ensure(ref _output, n).AsSpan(0, n);
        ApplyWithBias(z, bias, batch, y);
        return y;
    }

    public ReadOnlySpan<float> Backward(ReadOnlySpan<float> outputGradient, bool computeInputGradient = true)
    {
        Guard.HasForward(Batch, Name, "Backward");
        int n = Batch * Size;
        Guard.Length(outputGradient.Length, n, Name, Guard.Operand.OutputGradient, Batch, Size, nameof(outputGradient));
        if (!computeInputGradient) return default; // no parameters: nothing else to do
        var dx = Guard.Ensure(ref _inputGradient, n).AsSpan(0, n);
        DerivativeTimes(_output.AsSpan(0, n), outputGradient, dx);
        return dx;
    }

    /// <summary>No parameters: <paramref name="parameterTangent"/> is ignored; an empty input tangent gives a zero output tangent.</summary>
    public ReadOnlySpan<float> Jvp(ReadOnlySpan<float> parameterTangent, ReadOnlySpan<float> inputTangent = default)
    {
        Guard.HasForward(Batch, Name, "Jvp");
        int n = Batch * Size;
        var t = Guard.Ensure(ref _tangent, n).AsSpan(0, n);
        if (inputTangent.IsEmpty)
        {
            t.Clear();
            return t;
        }
        Guard.Length(inputTangent.Length, n, Name, Guard.Operand.InputTangent, Batch, Size, nameof(inputTangent));
        DerivativeTimes(_output.AsSpan(0, n), inputTangent, t);
        return t;
    }

    public override string ToString() => $"{Name}({Size})";
}

/// <summary>y = tanh(x), element-wise.</summary>
public sealed class Tanh(int size, string name = "tanh") : ActivationLayer(size, name)
{
    private protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);
    private protected override void ApplyWithBias(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, int rows, Span<float> y) => Kernels.BiasTanh(z, bias, rows, y);
    private protected override void DerivativeTimes(ReadOnlySpan<float> y, ReadOnlySpan<float> v, Span<float> result) => Kernels.TanhDerivativeTimes(y, v, result);
}

/// <summary>y = max(x, 0), element-wise; derivative taken as 0 at x = 0.</summary>
public sealed class Relu(int size, string name = "relu") : ActivationLayer(size, name)
{
    private protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);
    private protected override void ApplyWithBias(ReadOnlySpan<float> z, ReadOnlySpan<float> bias, int rows, Span<float> y) => Kernels.BiasRelu(z, bias, rows, y);
    private protected override void DerivativeTimes(ReadOnlySpan<float> y, ReadOnlySpan<float> v, Span<float> result) => Kernels.ReluDerivativeTimes(y, v, result);
}
