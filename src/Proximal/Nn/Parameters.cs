namespace Proximal.Nn;

/// <summary>
/// A named range of a <see cref="Parameters"/> buffer. Stores offset and length (not a span) so the
/// buffer can grow while a model is being built and layers still find their values afterwards.
/// </summary>
public readonly record struct ParameterSlice(int Offset, int Length, string Name)
{
    /// <summary>This slice of any flat vector laid out like the parameters (values, gradients, tangents, Adam moments).</summary>
    public Span<float> Of(Span<float> flat)
    {
        if (flat.Length < Offset + Length)
            throw new ArgumentException($"Parameter slice '{Name}' covers [{Offset}, {Offset + Length}) but the flat vector has only {flat.Length} floats.", nameof(flat));
        return flat.Slice(Offset, Length);
    }

    /// <inheritdoc cref="Of(Span{float})"/>
    public ReadOnlySpan<float> Of(ReadOnlySpan<float> flat)
    {
        if (flat.Length < Offset + Length)
            throw new ArgumentException($"Parameter slice '{Name}' covers [{Offset}, {Offset + Length}) but the flat vector has only {flat.Length} floats.", nameof(flat));
        return flat.Slice(Offset, Length);
    }
}

/// <summary>
/// All trainable numbers of a model in ONE contiguous <see cref="Values"/> array, with gradients in one
/// <see cref="Gradients"/> array of the same layout. A model may hold several networks (actor, critic,
/// log-std): one optimiser, one gradient clip, one flat vector for line searches, all-reduce and save/load.
/// Layers allocate slices while the model is built; the arrays are reallocated (contents kept) on each
/// allocation, so always re-read <see cref="Values"/> rather than caching the array during construction.
/// </summary>
public sealed class Parameters
{
    private float[] _values = [];
    private float[] _gradients = [];
    private readonly List<ParameterSlice> _slices = [];
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);

    /// <summary>Total number of parameters; <see cref="Values"/> and <see cref="Gradients"/> have exactly this length.</summary>
    public int Count => _values.Length;

    /// <summary>The flat parameter vector (length <see cref="Count"/>).</summary>
    public float[] Values => _values;

    /// <summary>The flat gradient vector (length <see cref="Count"/>), same layout as <see cref="Values"/>.</summary>
    public float[] Gradients => _gradients;

    /// <summary>Every slice in allocation order (for diagnostics, save/load by name).</summary>
    public IReadOnlyList<ParameterSlice> Slices => _slices;

    /// <summary>Reserves <paramref name="count"/> new parameters (zero-initialised) under a unique name.</summary>
    public ParameterSlice Allocate(int count, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, $"Parameter slice '{name}' needs a positive size.");
        if (_byName.ContainsKey(name)) throw new ArgumentException($"A parameter slice named '{name}' already exists; names must be unique.", nameof(name));
        long newCount = (long)_values.Length + count;
        if (newCount > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(count), count, $"Parameter slice '{name}' would grow the model past {Array.MaxLength} parameters.");
        var slice = new ParameterSlice(_values.Length, count, name);
        Array.Resize(ref _values, (int)newCount);
        Array.Resize(ref _gradients, (int)newCount);
        _byName.Add(name, _slices.Count);
        _slices.Add(slice);
        return slice;
    }

    /// <summary>The slice allocated under <paramref name="name"/>.</summary>
    public ParameterSlice this[string name] => _byName.TryGetValue(name, out int i)
        ? _slices[i]
        : throw new KeyNotFoundException($"No parameter slice named '{name}'. Known: {string.Join(", ", _slices.Select(s => s.Name))}.");

    /// <summary>Values of one slice.</summary>
    public Span<float> ValuesOf(ParameterSlice slice) => Checked(slice).Of(_values.AsSpan());

    /// <summary>Gradients of one slice.</summary>
    public Span<float> GradientsOf(ParameterSlice slice) => Checked(slice).Of(_gradients.AsSpan());

    /// <summary>Sets every gradient to zero (backward passes accumulate).</summary>
    public void ZeroGradients() => Array.Clear(_gradients);

    /// <summary>Euclidean norm of the whole gradient, accumulated in double.</summary>
    public double GradientNorm() => GradientClipping.Norm(_gradients);

    /// <summary>Scales the whole gradient so its norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public double ClipGradientNorm(double maxNorm) => GradientClipping.ClipGlobalNorm(_gradients, maxNorm);

    private ParameterSlice Checked(ParameterSlice slice)
    {
        if (slice.Name is null || !_byName.TryGetValue(slice.Name, out int i) || _slices[i] != slice)
            throw new ArgumentException($"Parameter slice '{slice.Name}' [{slice.Offset}, {slice.Offset + slice.Length}) does not belong to this Parameters object.", nameof(slice));
        return slice;
    }

    public override string ToString() => $"Parameters({Count}: {string.Join(", ", _slices.Select(s => $"{s.Name}[{s.Length}]"))})";
}
