namespace Proximal.Nn;

/// <summary>
/// A batched differentiable layer. Data is row-major [batch × features].
/// <para>
/// <see cref="Forward"/> caches what <see cref="Backward"/> and <see cref="Jvp"/> need; both use the most
/// recent forward pass. Returned spans point into layer-owned workspaces: they stay valid and unchanged
/// until the next call of the same method on this layer (workspaces grow when a larger batch arrives and
/// are reused for smaller ones, so the steady state allocates nothing).
/// </para>
/// </summary>
public interface ILayer
{
    int InputSize { get; }
    int OutputSize { get; }

    /// <summary>Batch size of the last <see cref="Forward"/> (0 before the first).</summary>
    int Batch { get; }

    /// <summary>Computes the outputs [batch × OutputSize] for inputs [batch × InputSize].</summary>
    ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int batch);

    /// <summary>
    /// Given ∂L/∂output [batch × OutputSize] for the last forward pass, ADDS ∂L/∂parameters into
    /// <see cref="Parameters.Gradients"/> and returns ∂L/∂input [batch × InputSize], or an empty span
    /// when <paramref name="computeInputGradient"/> is false (saves a matrix product on a first layer).
    /// </summary>
    ReadOnlySpan<float> Backward(ReadOnlySpan<float> outputGradient, bool computeInputGradient = true);

    /// <summary>
    /// Forward-mode derivative at the last forward pass: the tangent of the outputs [batch × OutputSize]
    /// given a tangent of ALL parameters (length <see cref="Parameters.Count"/>, or empty for a layer
    /// without parameters) and a tangent of the inputs [batch × InputSize] (empty means zero).
    /// </summary>
    ReadOnlySpan<float> Jvp(ReadOnlySpan<float> parameterTangent, ReadOnlySpan<float> inputTangent = default);
}
