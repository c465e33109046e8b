namespace Proximal.Envs;

/// <summary>
/// Gymnasium's <c>info</c> dictionary, shaped for zero allocation: named doubles written by an env or a
/// wrapper during <c>Reset</c>/<c>Step</c> and valid until the next call. The owner clears it at the start
/// of each call; re-setting the same keys every step allocates nothing once they have been seen.
/// </summary>
public sealed class EnvInfo
{
    /// <summary>Keys written by <see cref="Wrappers.EpisodeStatistics"/> on the step that ends an episode.</summary>
    public const string EpisodeReturn = "episode.return", EpisodeLength = "episode.length", EpisodeSeconds = "episode.seconds";

    private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);

    public int Count => _values.Count;
    public IEnumerable<string> Keys => _values.Keys;

    public void Clear() => _values.Clear();

    public void Set(string key, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _values[key] = value;
    }

    public bool TryGet(string key, out double value) => _values.TryGetValue(key, out value);

    public double this[string key] => _values.TryGetValue(key, out double v)
        ? v
        : throw new KeyNotFoundException($"Info has no entry '{key}'; it has: {(_values.Count == 0 ? "nothing" : string.Join(", ", _values.Keys))}.");

    /// <summary>True when the last call ended an episode and an <see cref="Wrappers.EpisodeStatistics"/> wrapper recorded it.</summary>
    public bool HasEpisode => _values.ContainsKey(EpisodeReturn);
}

/// <summary>An env that publishes an info channel. Optional, so plain <see cref="IEnv"/> implementers are unaffected.</summary>
public interface IInfoEnv : IEnv
{
    /// <summary>The info of the latest <c>Reset</c> or <c>Step</c> (the same object every call).</summary>
    EnvInfo Info { get; }
}

/// <summary>Optional render hook: a text frame of the current state (Gymnasium's "ansi" render mode).</summary>
public interface IRenderable
{
    string Render();
}

/// <summary>
/// Optional access to an env's full internal simulator state (Gymnasium's <c>env.unwrapped.state</c>):
/// used to replay recorded trajectories, to test dynamics, and to branch a simulation.
/// </summary>
public interface ISimulationState
{
    /// <summary>Number of doubles in the state.</summary>
    int StateSize { get; }

    void GetState(Span<double> state);

    /// <summary>Sets the state; the next <c>Step</c> starts from it (as if the episode were fresh).</summary>
    void SetState(ReadOnlySpan<double> state);
}
