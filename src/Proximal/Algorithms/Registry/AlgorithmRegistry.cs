using Proximal.Algorithms.OffPolicy;
using Proximal.Algorithms.OnPolicy;
using Proximal.Common.Persistence;
using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Envs.Registry;

namespace Proximal.Algorithms.Registry;

/// <summary>
/// One algorithm as the command line, the training session, the config layer and the benchmarks see it:
/// its name (the one every model file stores), its options type, and how to create and load it.
/// </summary>
/// <param name="Name">Lower-case registry name, e.g. "ppo".</param>
/// <param name="Family">"on-policy" or "off-policy".</param>
/// <param name="NewOptions">Fresh default options (the first layer of a run's config).</param>
/// <param name="Create">Builds the algorithm on a registered env id with these options (their type is <paramref name="OptionsType"/>).</param>
/// <param name="Load">Loads a model file of this algorithm; null env: rebuilt from the stored id and options.</param>
public sealed record AlgorithmSpec(string Name, string Family, string Description, Type OptionsType, Func<AlgorithmOptions> NewOptions,
    Func<string, AlgorithmOptions, BaseAlgorithm> Create, Func<string, VecEnv?, BaseAlgorithm> Load);

/// <summary>No algorithm of that name; the message lists the known ones (nearest first).</summary>
public sealed class UnknownAlgorithmException(string message) : ArgumentException(message);

/// <summary>
/// Algorithms by name. Adding an algorithm = its own files, its options, its configs, and one entry here.
/// Model files dispatch on their stored "algorithm" field (<see cref="Load"/>).
/// </summary>
public static class AlgorithmRegistry
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, AlgorithmSpec> Specs = new(StringComparer.OrdinalIgnoreCase);

    static AlgorithmRegistry()
    {
        Register(new AlgorithmSpec(Ppo.AlgorithmName, "on-policy",
            "Proximal Policy Optimization: clipped, adaptive-KL, fixed-KL or unclipped surrogate (Schulman et al., 2017)",
            typeof(PpoOptions), () => new PpoOptions(),
            (id, o) => CreatePpo(id, Cast<PpoOptions>(o, Ppo.AlgorithmName)), Ppo.Load));
        Register(new AlgorithmSpec(RecurrentPpo.AlgorithmName, "on-policy",
            "PPO with an LSTM actor-critic for partially observed tasks (SB3-contrib RecurrentPPO); `ppo` with policy.lstm_hidden_size set trains it",
            typeof(PpoOptions), () => new PpoOptions { Policy = { LstmHiddenSize = 64 } },
            (id, o) => RecurrentPpo.Create(id, Cast<PpoOptions>(o, RecurrentPpo.AlgorithmName)), RecurrentPpo.Load));
        Register(new AlgorithmSpec(A2c.AlgorithmName, "on-policy",
            "Advantage Actor-Critic: synchronous A3C, one RMSprop step per N x T rollout (Mnih et al., 2016)",
            typeof(A2cOptions), () => new A2cOptions(),
            (id, o) => A2c.Create(id, Cast<A2cOptions>(o, A2c.AlgorithmName)), A2c.Load));
        Register(new AlgorithmSpec(Trpo.AlgorithmName, "on-policy",
            "Trust Region Policy Optimization: conjugate-gradient natural step, KL line search (Schulman et al., 2015)",
            typeof(TrpoOptions), () => new TrpoOptions(),
            (id, o) => Trpo.Create(id, Cast<TrpoOptions>(o, Trpo.AlgorithmName)), Trpo.Load));
        Register(new AlgorithmSpec(Acktr.AlgorithmName, "on-policy",
            "Actor-Critic using Kronecker-Factored Trust Region: K-FAC natural gradient for actor and critic (Wu et al., 2017)",
            typeof(AcktrOptions), () => new AcktrOptions(),
            (id, o) => Acktr.Create(id, Cast<AcktrOptions>(o, Acktr.AlgorithmName)), Acktr.Load));
        Register(new AlgorithmSpec(Sac.AlgorithmName, "off-policy",
            "Soft Actor-Critic: squashed-Gaussian actor, twin Q, automatic temperature (Haarnoja et al., 2018)",
            typeof(SacOptions), () => new SacOptions(),
            (id, o) => Sac.Create(id, Cast<SacOptions>(o, Sac.AlgorithmName)), Sac.Load));
        Register(new AlgorithmSpec(Td3.AlgorithmName, "off-policy",
            "Twin Delayed DDPG: clipped double-Q, target policy smoothing, delayed actor updates (Fujimoto et al., 2018)",
            typeof(Td3Options), () => new Td3Options(),
            (id, o) => Td3.Create(id, Cast<Td3Options>(o, Td3.AlgorithmName)), Td3.Load));
        Register(new AlgorithmSpec(Tqc.AlgorithmName, "off-policy",
            "Truncated Quantile Critics: SAC with N quantile critics and a truncated target mixture (Kuznetsov et al., 2020)",
            typeof(TqcOptions), () => new TqcOptions(),
            (id, o) => Tqc.Create(id, Cast<TqcOptions>(o, Tqc.AlgorithmName)), Tqc.Load));
    }

    /// <summary>
    /// "ppo" is one name for both policies: a recurrent policy option (policy.lstm_hidden_size &gt; 0) selects recurrent
    /// PPO, so the NoVel configs train with memory under <c>--algo ppo</c>. Its model files say "recurrent_ppo" and load as such.
    /// </summary>
    private static BaseAlgorithm CreatePpo(string envId, PpoOptions options)
        => options.Policy.Recurrent ? RecurrentPpo.Create(envId, options) : Ppo.Create(envId, options);

    private static T Cast<T>(AlgorithmOptions options, string algorithm) where T : AlgorithmOptions =>
        options as T ?? throw new ArgumentException($"{algorithm} needs {typeof(T).Name}, got {options.GetType().Name}.", nameof(options));

    /// <summary>Registered names, sorted.</summary>
    public static IReadOnlyList<string> Names
    {
        get { lock (Gate) return Specs.Keys.Order(StringComparer.Ordinal).ToArray(); }
    }

    public static void Register(AlgorithmSpec spec, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (Gate)
        {
            if (!overwrite && Specs.ContainsKey(spec.Name)) throw new ArgumentException($"Algorithm '{spec.Name}' is already registered.", nameof(spec));
            Specs[spec.Name] = spec;
        }
    }

    public static bool TryGet(string name, out AlgorithmSpec spec)
    {
        lock (Gate) return Specs.TryGetValue(name ?? "", out spec!);
    }

    /// <summary>The spec of <paramref name="name"/> (case-insensitive); unknown names throw listing the nearest known ones.</summary>
    public static AlgorithmSpec Get(string name)
    {
        if (TryGet(name, out var spec)) return spec;
        var known = Names;
        var near = EnvRegistry.Nearest(name ?? "", known, 3);
        throw new UnknownAlgorithmException($"unknown algorithm '{name}'; available: {string.Join(", ", known)}" +
                                            (near.Count > 0 ? $" (did you mean {near[0]}?)" : "") + ".");
    }

    /// <summary>Creates algorithm <paramref name="name"/> on a registered env id.</summary>
    public static BaseAlgorithm Create(string name, string envId, AlgorithmOptions options) => Get(name).Create(envId, options);

    /// <summary>The algorithm a model file holds (its metadata's "algorithm"), read without building anything.</summary>
    public static string AlgorithmOf(string path)
    {
        var model = ModelArchive.Load(path);
        var name = model.Metadata["algorithm"]?.GetValue<string>() ?? throw new ModelFileException(path, $"model file {path}: metadata has no 'algorithm'.");
        if (!TryGet(name, out _))
            throw new ModelFileException(path, $"model file {path} holds a '{name}' model, which this build does not know (known: {string.Join(", ", Names)}).");
        return name;
    }

    /// <summary>Loads any registered algorithm's model file, dispatching on the name it stores.</summary>
    public static BaseAlgorithm Load(string path, VecEnv? env = null) => Get(AlgorithmOf(path)).Load(path, env);
}
