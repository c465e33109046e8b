using System.Text.Json.Nodes;
using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Common.Persistence;

/// <summary>
/// What an algorithm writes into its model file, by name: metadata fields, parameter sets
/// (<c>&lt;set&gt;/parameters</c>), optimiser states (<c>&lt;name&gt;/adam_m</c>, <c>adam_v</c>, <c>adam_step</c>; <c>&lt;name&gt;/rmsprop_v</c>, <c>rmsprop_step</c>),
/// generators (<c>rng/&lt;name&gt;</c>) and any other named array. One writer for every algorithm, so the
/// naming never drifts between them; <see cref="ModelStateReader"/> reads the same names back.
/// </summary>
public sealed class ModelStateWriter
{
    private readonly List<ModelArray> _arrays = [];

    public JsonObject Metadata { get; } = new();
    public IReadOnlyList<ModelArray> Arrays => _arrays;

    public void Add(ModelArray array) => _arrays.Add(array);

    /// <summary>A network's flat parameter values (a copy is not needed: the file is written before training resumes).</summary>
    public void AddParameters(string set, Parameters parameters) => _arrays.Add(new ModelArray($"{set}/parameters", parameters.Values.AsMemory()));

    public void AddAdam(string name, Adam adam)
    {
        _arrays.Add(new ModelArray($"{name}/adam_m", adam.FirstMoment.AsMemory()));
        _arrays.Add(new ModelArray($"{name}/adam_v", adam.SecondMoment.AsMemory()));
        _arrays.Add(new ModelArray($"{name}/adam_step", new long[] { adam.StepCount }.AsMemory()));
    }

    public void AddRmsprop(string name, Rmsprop rmsprop)
    {
        _arrays.Add(new ModelArray($"{name}/rmsprop_v", rmsprop.SquareAverage.AsMemory()));
        _arrays.Add(new ModelArray($"{name}/rmsprop_step", new long[] { rmsprop.StepCount }.AsMemory()));
    }

    public void AddRng(string name, Rng rng) => _arrays.Add(new ModelArray($"rng/{name}", rng.GetState().AsMemory()));
}

/// <summary>Reads back what <see cref="ModelStateWriter"/> wrote; every problem is a <see cref="ModelFileException"/> naming the file and field.</summary>
public sealed class ModelStateReader(LoadedModel model)
{
    public LoadedModel Model { get; } = model ?? throw new ArgumentNullException(nameof(model));
    public string Path => Model.FilePath;
    public JsonObject Metadata => Model.Metadata;

    private ModelFileException Error(string what) => new(Path, $"model file {Path}: {what}");

    public bool Has(string array) => Model.Arrays.Any(a => a.Name == array);

    /// <summary>Copies parameter set <paramref name="set"/> into <paramref name="parameters"/>; refuses NaN or infinite weights, naming the array and index.</summary>
    public void RestoreParameters(string set, Parameters parameters)
    {
        string name = $"{set}/parameters";
        var values = Model.GetFloat32(name, parameters.Count).Span;
        int bad = IndexOfNonFinite(values);
        if (bad >= 0) throw Error($"array '{name}' holds {values[bad]} at index {bad}; a model's weights must be finite (the run that wrote it had diverged).");
        values.CopyTo(parameters.Values);
    }

    public void RestoreAdam(string name, Adam adam)
    {
        int n = adam.Parameters.Count;
        var m = Model.GetFloat32($"{name}/adam_m", n).Span;
        var v = Model.GetFloat32($"{name}/adam_v", n).Span;
        int bad = IndexOfNonFinite(m);
        if (bad >= 0) throw Error($"array '{name}/adam_m' holds {m[bad]} at index {bad}; optimiser state must be finite.");
        bad = IndexOfNonFinite(v);
        if (bad >= 0 || v.IndexOfAnyExceptInRange(0f, float.MaxValue) >= 0)
            throw Error($"array '{name}/adam_v' holds a negative or non-finite second moment; optimiser state is corrupt.");
        long step = Model.GetInt64($"{name}/adam_step", 1).Span[0];
        if (step < 0) throw Error($"array '{name}/adam_step' is {step}; it must be >= 0.");
        adam.LoadState(m, v, step);
    }

    public void RestoreRmsprop(string name, Rmsprop rmsprop)
    {
        var v = Model.GetFloat32($"{name}/rmsprop_v", rmsprop.Parameters.Count).Span;
        if (IndexOfNonFinite(v) >= 0 || v.IndexOfAnyExceptInRange(0f, float.MaxValue) >= 0)
            throw Error($"array '{name}/rmsprop_v' holds a negative or non-finite square average; optimiser state is corrupt.");
        long step = Model.GetInt64($"{name}/rmsprop_step", 1).Span[0];
        if (step < 0) throw Error($"array '{name}/rmsprop_step' is {step}; it must be >= 0.");
        rmsprop.LoadState(v, step);
    }

    public void RestoreRng(string name, Rng rng)
    {
        try { rng.SetState(Model.GetUInt64($"rng/{name}", Rng.StateLength).Span); }
        catch (ArgumentException e) { throw Error($"array 'rng/{name}' is not a valid generator state ({e.Message})."); }
    }

    public long GetLong(string field) => Get(field, n => n.GetValue<long>());
    public double GetDouble(string field) => Get(field, n => n.GetValue<double>());
    public string GetString(string field) => Get(field, n => n.GetValue<string>());
    public bool GetBool(string field, bool fallback) => Metadata[field] is null ? fallback : Get(field, n => n.GetValue<bool>());

    private T Get<T>(string field, Func<JsonNode, T> read)
    {
        var node = Metadata[field] ?? throw Error($"metadata has no '{field}'.");
        try { return read(node); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw Error($"metadata field '{field}' is {node.ToJsonString()}, not a {typeof(T).Name switch { "Int64" => "whole number", "Double" => "number", "Boolean" => "true/false", _ => "string" }}."); }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
