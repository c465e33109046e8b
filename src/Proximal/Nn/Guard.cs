namespace Proximal.Nn;

/// <summary>Argument checks shared by the layers, with messages that name the layer and the sizes.</summary>
internal static class Guard
{
    public static void Size(int size, string what, string paramName)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(paramName, size, $"{what} must be positive (a zero-size layer cannot be built).");
    }

    public static void Batch(int batch, string layer)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"{layer}: batch must be positive.");
    }

    public enum Operand { Input, OutputGradient, InputTangent, ParameterTangent }

    /// <summary>Length check on a hot path: the message is only formatted when it fails.</summary>
    public static void Length(int actual, long expected, string layer, Operand what, int batch, int features, string paramName)
    {
        if (actual != expected) ThrowLength(actual, expected, layer, what, batch, features, paramName);
    }

    private static void ThrowLength(int actual, long expected, string layer, Operand what, int batch, int features, string paramName)
    {
        string description = what switch
        {
            Operand.Input => $"input for batch {batch} × {features} features",
            Operand.OutputGradient => $"output gradient for batch {batch} × {features} outputs",
            Operand.InputTangent => $"input tangent for batch {batch} × {features} features (or empty for zero)",
            _ => "parameter tangent (one entry per parameter of the model)",
        };
        throw new ArgumentException($"{layer}: {description} has {actual} floats, expected {expected}.", paramName);
    }

    public static void HasForward(int batch, string layer, string operation)
    {
        if (batch == 0) throw new InvalidOperationException($"{layer}: {operation} needs a Forward pass first.");
    }

    public static long Elements(int batch, int features, string layer)
    {
        long n = (long)batch * features;
        if (n > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"{layer}: batch {batch} × {features} features exceeds the largest array.");
        return n;
    }

    /// <summary>Grows <paramref name="buffer"/> to at least <paramref name="length"/> floats; never shrinks.</summary>
    public static float[] Ensure(ref float[] buffer, long length)
    {
        if (buffer.Length < length) buffer = new float[length];
        return buffer;
    }
}
