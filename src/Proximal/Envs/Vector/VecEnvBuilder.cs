using Proximal.Envs.Wrappers;
using Proximal.Envs.Registry;

namespace Proximal.Envs.Vector;

/// <summary>
/// Builds a VecEnv with the usual wrapper order, inside out:
/// base (sync or threaded) → <see cref="VecEpisodeStatistics"/> (task's own returns) → <see cref="VecClipAction"/> /
/// <see cref="VecRescaleAction"/> (actions) → <see cref="VecNormalizeObservation"/> → <see cref="VecNormalizeReward"/>.
/// Statistics sit below the reward normaliser so reported returns are unnormalised; the observation normaliser
/// is outermost for observations so the learner and the final observations see normalised values.
/// </summary>
public sealed class VecEnvBuilder
{
    private readonly Func<int, IEnv> _factory;
    private readonly int _numEnvs;
    private int _threads = 1;
    private bool _statistics = true, _clip;
    private (float Min, float Max)? _rescale;
    private double? _obsClip;
    private (double Gamma, double Clip)? _reward;

    public VecEnvBuilder(Func<int, IEnv> factory, int numEnvs)
    {
        _factory = factory ?? throw new ArgumentNullException(nameof(factory));
        if (numEnvs <= 0) throw new ArgumentOutOfRangeException(nameof(numEnvs), numEnvs, "numEnvs must be > 0.");
        _numEnvs = numEnvs;
    }

    /// <summary>N copies of a registered task (each with its TimeLimit, as <see cref="EnvRegistry.Make"/>).</summary>
    public static VecEnvBuilder ForId(string id, int numEnvs, EnvOptions? options = null)
    {
        EnvRegistry.GetSpec(id); // fail early, with suggestions, on an unknown id
        var b = new VecEnvBuilder(_ => EnvRegistry.Make(id, options), numEnvs);
        if (VectorTasks.TryGetValue(id, out var vector))
        {
            options?.EnsureOnlyParameters(id);
            b._vectorBase = vector;
        }
        return b;
    }

    /// <summary>
    /// Ids whose vector form is not N copies of the single env: two-player games, where the opponent moves inside the
    /// VecEnv's step, batched over the N games (self-play). Their single env (<see cref="EnvRegistry.Make"/>) is the same
    /// game against a fixed opponent.
    /// </summary>
    private static readonly Dictionary<string, Func<int, VecEnv>> VectorTasks = new(StringComparer.Ordinal)
    {
        ["ConnectFour-v0"] = n => new ConnectFourSelfPlayVecEnv(n),
    };

    private Func<int, VecEnv>? _vectorBase;

    /// <summary>1 = <see cref="SyncVecEnv"/>; more = <see cref="ThreadedVecEnv"/> with that many threads.</summary>
    public VecEnvBuilder Threads(int threads)
    {
        if (threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be > 0.");
        _threads = threads;
        return this;
    }

    public VecEnvBuilder EpisodeStatistics(bool enabled = true) { _statistics = enabled; return this; }
    public VecEnvBuilder ClipActions(bool enabled = true) { _clip = enabled; return this; }
    public VecEnvBuilder RescaleActions(float min = -1f, float max = 1f) { _rescale = (min, max); return this; }
    public VecEnvBuilder NormalizeObservations(double clip = 10.0) { _obsClip = clip; return this; }
    public VecEnvBuilder NormalizeRewards(double gamma = 0.99, double clip = 10.0) { _reward = (gamma, clip); return this; }

    public VecEnv Build()
    {
        VecEnv env = _vectorBase is { } vb ? vb(_numEnvs)
            : _threads == 1 ? new SyncVecEnv(_factory, _numEnvs) : new ThreadedVecEnv(_factory, _numEnvs, _threads);
        try
        {
            if (_statistics) env = new VecEpisodeStatistics(env);
            if (_rescale is { } r) env = new VecRescaleAction(env, r.Min, r.Max);
            if (_clip) env = new VecClipAction(env);
            if (_obsClip is { } c) env = new VecNormalizeObservation(env, c);
            if (_reward is { } w) env = new VecNormalizeReward(env, w.Gamma, w.Clip);
            return env;
        }
        catch
        {
            env.Dispose();
            throw;
        }
    }
}

/// <summary>Fluent wrapping of an existing VecEnv (the caller chooses the order; see <see cref="VecEnvBuilder"/> for the usual one).</summary>
public static class VecEnvExtensions
{
    public static VecEpisodeStatistics WithEpisodeStatistics(this VecEnv env) => new(env);
    public static VecClipAction WithClipAction(this VecEnv env) => new(env);
    public static VecRescaleAction WithRescaleAction(this VecEnv env, float min = -1f, float max = 1f) => new(env, min, max);
    public static VecNormalizeObservation WithNormalizeObservation(this VecEnv env, double clip = 10.0) => new(env, clip);
    public static VecNormalizeReward WithNormalizeReward(this VecEnv env, double gamma = 0.99, double clip = 10.0) => new(env, gamma, clip);

    /// <summary>The first wrapper of type <typeparamref name="T"/> in the chain (outermost first), or null.</summary>
    public static T? Find<T>(this VecEnv env) where T : VecEnv
    {
        for (VecEnv? e = env; e is not null; e = (e as VecEnvWrapper)?.Inner)
            if (e is T t) return t;
        return null;
    }

    /// <summary>Freezes (or unfreezes) every normaliser in the chain, for evaluation.</summary>
    public static void SetNormalizersFrozen(this VecEnv env, bool frozen)
    {
        for (VecEnv? e = env; e is not null; e = (e as VecEnvWrapper)?.Inner)
        {
            if (e is VecNormalizeObservation o) o.Frozen = frozen;
            if (e is VecNormalizeReward r) r.Frozen = frozen;
        }
    }
}

/// <summary>How the N environments of a run are stepped.</summary>
public enum VecEnvKind { Sync, Threaded }
