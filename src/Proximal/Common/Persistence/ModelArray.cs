using System.Runtime.InteropServices;

namespace Proximal.Common.Persistence;

/// <summary>Element type of an array stored in a model file (always little-endian on disk).</summary>
public enum ArrayDType { Float32, Float64, Int64, UInt64 }

/// <summary>A named numeric array to store in, or loaded from, a model file.</summary>
public sealed class ModelArray
{
    private readonly object _data; // ReadOnlyMemory<T> boxed, T matching DType

    public ModelArray(string name, ReadOnlyMemory<float> data) : this(name, ArrayDType.Float32, data, data.Length) { }
    public ModelArray(string name, ReadOnlyMemory<double> data) : this(name, ArrayDType.Float64, data, data.Length) { }
    public ModelArray(string name, ReadOnlyMemory<long> data) : this(name, ArrayDType.Int64, data, data.Length) { }
    public ModelArray(string name, ReadOnlyMemory<ulong> data) : this(name, ArrayDType.UInt64, data, data.Length) { }

    private ModelArray(string name, ArrayDType dtype, object data, int length)
    {
        ModelArchive.ValidateName(name);
        Name = name;
        DType = dtype;
        Length = length;
        _data = data;
    }

    /// <summary>Name, unique within a file: letters, digits, '_', '-', '.', with '/' between parts (e.g. <c>policy/params</c>).</summary>
    public string Name { get; }
    public ArrayDType DType { get; }
    public int Length { get; }

    public ReadOnlyMemory<float> Float32 => As<float>(ArrayDType.Float32);
    public ReadOnlyMemory<double> Float64 => As<double>(ArrayDType.Float64);
    public ReadOnlyMemory<long> Int64 => As<long>(ArrayDType.Int64);
    public ReadOnlyMemory<ulong> UInt64 => As<ulong>(ArrayDType.UInt64);

    /// <summary>The elements as raw bytes in machine order.</summary>
    internal ReadOnlySpan<byte> Bytes => DType switch
    {
        ArrayDType.Float32 => MemoryMarshal.AsBytes(Float32.Span),
        ArrayDType.Float64 => MemoryMarshal.AsBytes(Float64.Span),
        ArrayDType.Int64 => MemoryMarshal.AsBytes(Int64.Span),
        _ => MemoryMarshal.AsBytes(UInt64.Span),
    };

    public static int ElementSize(ArrayDType dtype) => dtype == ArrayDType.Float32 ? 4 : 8;

    /// <summary>The name written in the manifest (<c>float32</c>, <c>float64</c>, <c>int64</c>, <c>uint64</c>).</summary>
    public static string DTypeName(ArrayDType dtype) => dtype switch
    {
        ArrayDType.Float32 => "float32",
        ArrayDType.Float64 => "float64",
        ArrayDType.Int64 => "int64",
        ArrayDType.UInt64 => "uint64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool TryParseDType(string? text, out ArrayDType dtype)
    {
        switch (text)
        {
            case "float32": dtype = ArrayDType.Float32; return true;
            case "float64": dtype = ArrayDType.Float64; return true;
            case "int64": dtype = ArrayDType.Int64; return true;
            case "uint64": dtype = ArrayDType.UInt64; return true;
            default: dtype = default; return false;
        }
    }

    private ReadOnlyMemory<T> As<T>(ArrayDType expected) =>
        DType == expected ? (ReadOnlyMemory<T>)_data
        : throw new InvalidOperationException($"Array '{Name}' holds {DTypeName(DType)}, not {DTypeName(expected)}.");
}
