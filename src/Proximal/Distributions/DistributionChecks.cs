namespace Proximal.Distributions;

/// <summary>Shape and value checks shared by the distributions; every message names the argument and the sizes.</summary>
internal static class DistributionChecks
{
    /// <summary>Number of rows of a row-major [B × width] span; throws when the length is not a multiple of width.</summary>
    public static int Rows(int length, int width, string name, string widthName)
    {
        if (length % width != 0)
            throw new ArgumentException($"{name} has {length} values, which is not a multiple of {widthName} = {width} (expected [B × {width}]).", name);
        return length / width;
    }

    public static void Length(int actual, int expected, string name, string shape)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} values; expected {expected} ({shape}).", name);
    }

    /// <summary>Checks a [rows × width] span; the message is only formatted on failure (no steady-state allocation).</summary>
    public static void Matrix(int actual, int rows, int width, string name)
    {
        if (actual != rows * width)
            throw new ArgumentException($"{name} has {actual} values; expected {rows * width} ([B × {width}] with B = {rows}).", name);
    }

    /// <summary>Mask must be empty (no masking) or exactly as long as the logits.</summary>
    public static void Mask(int maskLength, int logitsLength)
    {
        if (maskLength != 0 && maskLength != logitsLength)
            throw new ArgumentException($"actionMask has {maskLength} values; expected {logitsLength} (same shape as the logits) or none.", "actionMask");
    }

    /// <summary>Reads a discrete action stored as a float, checking that it is an integer in [0, n).</summary>
    public static int Action(float value, int n, int row, int component, string name)
    {
        if (!(value >= 0f && value < n) || value != MathF.Floor(value))
        {
            string where = component < 0 ? $"row {row}" : $"row {row}, component {component}";
            throw new ArgumentException($"{name}[{where}] = {value} is not an integer action in [0, {n - 1}].", name);
        }
        return (int)value;
    }

    /// <summary>
    /// Log-std is either state-independent ([d], broadcast over the batch) or per row ([B × d]).
    /// Returns true for the per-row layout. With B = 1 both layouts coincide and mean the same thing.
    /// </summary>
    public static bool LogStdPerRow(int logStdLength, int rows, int dim, string name)
    {
        if (logStdLength == rows * dim) return true;
        if (logStdLength == dim) return false;
        throw new ArgumentException($"{name} has {logStdLength} values; expected {dim} (state-independent, broadcast over the batch) or {rows} × {dim} = {rows * dim} (one row per sample).", name);
    }
}
