using Proximal.Spaces;

namespace Proximal.Envs.Wrappers;

/// <summary>
/// Base of the single-env wrappers: forwards everything to <see cref="Inner"/>; a wrapper overrides what it changes.
/// The info channel is passed through (a wrapper that adds entries writes into the inner env's info, or into
/// its own when the inner env has none). Disposing a wrapper disposes the inner env.
/// </summary>
public abstract class EnvWrapper : IInfoEnv, IRenderable
{
    private readonly EnvInfo? _ownInfo;

    protected EnvWrapper(IEnv inner)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (inner is not IInfoEnv) _ownInfo = new EnvInfo();
    }

    public IEnv Inner { get; }

    /// <summary>The innermost env, below every wrapper.</summary>
    public IEnv Unwrapped => Inner is EnvWrapper w ? w.Unwrapped : Inner;

    public virtual Space ObservationSpace => Inner.ObservationSpace;
    public virtual Space ActionSpace => Inner.ActionSpace;

    public EnvInfo Info => _ownInfo ?? ((IInfoEnv)Inner).Info;

    public virtual void Reset(Span<float> observation, ulong? seed = null)
    {
        _ownInfo?.Clear();
        Inner.Reset(observation, seed);
    }

    public virtual StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        _ownInfo?.Clear();
        return Inner.Step(action, observation);
    }

    /// <summary>Clears the own info (when the inner env has none) before a call that does not go through the base.</summary>
    protected void ClearOwnInfo() => _ownInfo?.Clear();

    public virtual string Render() => Inner is IRenderable r
        ? r.Render()
        : throw new NotSupportedException($"{Unwrapped.GetType().Name} has no render hook (it does not implement IRenderable).");

    public virtual void Dispose()
    {
        Inner.Dispose();
        GC.SuppressFinalize(this);
    }

    public override string ToString() => $"{GetType().Name}<{Inner}>";
}

/// <summary>
/// A wrapper whose learned state (e.g. normalisation statistics) must be saved with a trained model so that
/// evaluation sees exactly what training saw. The state is a set of named double arrays.
/// </summary>
public interface IStatefulWrapper
{
    IReadOnlyDictionary<string, double[]> GetState();

    /// <summary>Restores a state from <see cref="GetState"/>; throws naming any missing, unknown or wrongly sized entry.</summary>
    void SetState(IReadOnlyDictionary<string, double[]> state);
}

/// <summary>Collects and restores the states of every stateful wrapper in a chain, keyed "WrapperType/entry".</summary>
public static class WrapperStates
{
    /// <summary>Walks a single-env chain from the outside in.</summary>
    public static Dictionary<string, double[]> Get(IEnv env) => Collect(Chain(env));

    public static void Set(IEnv env, IReadOnlyDictionary<string, double[]> state) => Restore(Chain(env), state);

    private static IEnumerable<object> Chain(IEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        for (IEnv? e = env; e is not null; e = (e as EnvWrapper)?.Inner) yield return e;
    }

    private static List<(string Prefix, IStatefulWrapper Wrapper)> Named(IEnumerable<object> chain)
    {
        var list = new List<(string, IStatefulWrapper)>();
        var seen = new Dictionary<string, int>();
        foreach (var o in chain)
        {
            if (o is not IStatefulWrapper w) continue;
            string name = o.GetType().Name;
            int k = seen.TryGetValue(name, out int c) ? c + 1 : 1;
            seen[name] = k;
            list.Add((k == 1 ? name : $"{name}#{k}", w));
        }
        return list;
    }

    /// <summary>States of the stateful wrappers in <paramref name="chain"/> (outside in), keyed "WrapperType/entry" (vector chains use it too).</summary>
    public static Dictionary<string, double[]> Collect(IEnumerable<object> chain)
    {
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (prefix, w) in Named(chain))
            foreach (var (k, v) in w.GetState()) result[$"{prefix}/{k}"] = (double[])v.Clone();
        return result;
    }

    /// <summary>Restores states collected by <see cref="Collect"/>; throws naming entries that match no wrapper.</summary>
    public static void Restore(IEnumerable<object> chain, IReadOnlyDictionary<string, double[]> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var named = Named(chain);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (prefix, w) in named)
        {
            var part = new Dictionary<string, double[]>(StringComparer.Ordinal);
            foreach (var (k, v) in state)
                if (k.StartsWith(prefix + "/", StringComparison.Ordinal)) { part[k[(prefix.Length + 1)..]] = v; used.Add(k); }
            w.SetState(part);
        }
        var unknown = state.Keys.Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Wrapper state has entries that match no wrapper in this chain: {string.Join(", ", unknown)}. " +
                                        $"Stateful wrappers present: {(named.Count == 0 ? "none" : string.Join(", ", named.Select(n => n.Prefix)))}.", nameof(state));
    }

    /// <summary>Validates one wrapper's state dictionary against the expected entry names and lengths.</summary>
    internal static void Validate(string wrapper, IReadOnlyDictionary<string, double[]> state, params (string Name, int Length)[] expected)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (name, length) in expected)
        {
            if (!state.TryGetValue(name, out var v) || v is null)
                throw new ArgumentException($"{wrapper} state is missing '{name}' (expected {length} values).", nameof(state));
            if (v.Length != length)
                throw new ArgumentException($"{wrapper} state '{name}' has {v.Length} values, expected {length}.", nameof(state));
        }
        foreach (var k in state.Keys)
            if (!expected.Any(e => e.Name == k))
                throw new ArgumentException($"{wrapper} state has unknown entry '{k}'; expected {string.Join(", ", expected.Select(e => e.Name))}.", nameof(state));
    }
}
