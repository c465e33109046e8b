using Proximal.Envs.ClassicControl;
using Proximal.Envs.Games;
using Proximal.Envs.Memory;
using Proximal.Envs.Wrappers;

namespace Proximal.Envs.Registry;

/// <summary>Options for <see cref="EnvRegistry.Make"/>: time-limit override and named numeric task parameters.</summary>
public sealed record EnvOptions
{
    public static readonly EnvOptions Default = new();

    /// <summary>Overrides the registered episode limit (null: use the registered one).</summary>
    public int? MaxEpisodeSteps { get; init; }

    /// <summary>No TimeLimit wrapper even when one is registered.</summary>
    public bool DisableTimeLimit { get; init; }

    /// <summary>Task parameters by name (e.g. Pendulum's "g"); a task rejects names it does not know.</summary>
    public IReadOnlyDictionary<string, double> Parameters { get; init; } = new Dictionary<string, double>();

    public double GetParameter(string name, double defaultValue) => Parameters.TryGetValue(name, out double v) ? v : defaultValue;

    /// <summary>Throws naming any parameter that <paramref name="envId"/> does not accept.</summary>
    public void EnsureOnlyParameters(string envId, params string[] accepted)
    {
        foreach (var k in Parameters.Keys)
            if (Array.IndexOf(accepted, k) < 0)
                throw new ArgumentException($"{envId} has no parameter '{k}'; it accepts {(accepted.Length == 0 ? "none" : string.Join(", ", accepted))}.");
    }
}

/// <summary>A registered task: how to build it and the metadata <c>gym.make</c> applies.</summary>
public sealed record EnvSpec(string Id, Func<EnvOptions, IEnv> Factory, int? MaxEpisodeSteps = null, double? RewardThreshold = null, string? Description = null);

/// <summary>
/// Tasks by Gymnasium id. <see cref="Make"/> builds a task and, like <c>gym.make</c>, wraps it in a
/// <see cref="TimeLimit"/> from its registered max_episode_steps. Other assemblies (e.g. the MuJoCo tasks)
/// and users add their own with <see cref="Register(EnvSpec, bool)"/>. Thread-safe.
/// </summary>
public static class EnvRegistry
{
    private static readonly object Lock = new();
    private static readonly Dictionary<string, EnvSpec> Specs = new(StringComparer.Ordinal);

    static EnvRegistry()
    {
        Register(new EnvSpec("CartPole-v1", o => { o.EnsureOnlyParameters("CartPole-v1"); return new CartPole(); }, 500, 475.0,
            "Balance a pole on a cart; Discrete(2)."));
        Register(new EnvSpec("Acrobot-v1", o => { o.EnsureOnlyParameters("Acrobot-v1"); return new Acrobot(); }, 500, -100.0,
            "Swing a two-link arm's tip above a line; Discrete(3)."));
        Register(new EnvSpec("MountainCar-v0", o => { o.EnsureOnlyParameters("MountainCar-v0", "goal_velocity"); return new MountainCar(o.GetParameter("goal_velocity", 0)); }, 200, -110.0,
            "Drive an underpowered car up a hill; Discrete(3)."));
        Register(new EnvSpec("MountainCarContinuous-v0", o => { o.EnsureOnlyParameters("MountainCarContinuous-v0", "goal_velocity"); return new MountainCarContinuous(o.GetParameter("goal_velocity", 0)); }, 999, 90.0,
            "Mountain car with a continuous force; Box(1)."));
        Register(new EnvSpec("Pendulum-v1", o => { o.EnsureOnlyParameters("Pendulum-v1", "g"); return new Pendulum(o.GetParameter("g", 10.0)); }, 200, null,
            "Swing up and hold an inverted pendulum; Box(1)."));
        Register(new EnvSpec("ConnectFour-v0", o => { o.EnsureOnlyParameters("ConnectFour-v0"); return new ConnectFourEnv(); }, null, null,
            "Connect Four 7×6, two players, legal-move masks; a VecEnv plays self-play (single env: vs random); Discrete(7)."));
        // Partially observed tasks (need memory): the classic tasks with their velocities removed, as SB3-contrib's
        // CartPoleNoVel / PendulumNoVel, and a cue that must be carried over many blank steps.
        Register(new EnvSpec("CartPoleNoVel-v1", o => { o.EnsureOnlyParameters("CartPoleNoVel-v1"); return new ObservationSubset(new CartPole(), 0, 2); }, 500, 475.0,
            "CartPole-v1 observing only x and θ (no velocities); Discrete(2)."));
        Register(new EnvSpec("PendulumNoVel-v1", o => { o.EnsureOnlyParameters("PendulumNoVel-v1", "g"); return new ObservationSubset(new Pendulum(o.GetParameter("g", 10.0)), 0, 1); }, 200, null,
            "Pendulum-v1 observing only cos θ and sin θ (no angular velocity); Box(1)."));
        Register(new EnvSpec("RememberCue-v0", o =>
            {
                o.EnsureOnlyParameters("RememberCue-v0", "delay");
                double d = o.GetParameter("delay", RememberCue.DefaultDelay);
                if (d != Math.Floor(d) || d < 0 || d > 100_000) throw new ArgumentException($"RememberCue-v0: delay must be a whole number of steps in [0, 100000], got {d}.");
                return new RememberCue((int)d);
            }, null, 0.9,
            "Memory: a cue at step 0, `delay` blank steps (default 10), then +1 for naming the cue, -1 otherwise; Discrete(2). Feed-forward policies score 0."));
    }

    /// <summary>Registered ids, sorted.</summary>
    public static IReadOnlyList<string> Ids
    {
        get { lock (Lock) return Specs.Keys.Order(StringComparer.Ordinal).ToArray(); }
    }

    public static IReadOnlyList<EnvSpec> Specifications
    {
        get { lock (Lock) return Specs.Values.OrderBy(s => s.Id, StringComparer.Ordinal).ToArray(); }
    }

    public static void Register(string id, Func<EnvOptions, IEnv> factory, int? maxEpisodeSteps = null, double? rewardThreshold = null, string? description = null, bool overwrite = false)
        => Register(new EnvSpec(id, factory, maxEpisodeSteps, rewardThreshold, description), overwrite);

    /// <summary>Adds a task; an existing id throws unless <paramref name="overwrite"/>.</summary>
    public static void Register(EnvSpec spec, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec.Id) || spec.Id.Any(char.IsWhiteSpace))
            throw new ArgumentException($"Env id '{spec.Id}' must be non-empty and contain no whitespace (e.g. \"MyTask-v0\").", nameof(spec));
        if (spec.Factory is null) throw new ArgumentException($"Env '{spec.Id}' has no factory.", nameof(spec));
        if (spec.MaxEpisodeSteps is <= 0) throw new ArgumentException($"Env '{spec.Id}': max episode steps {spec.MaxEpisodeSteps} must be > 0.", nameof(spec));
        lock (Lock)
        {
            if (!overwrite && Specs.ContainsKey(spec.Id))
                throw new InvalidOperationException($"Env id '{spec.Id}' is already registered; pass overwrite: true to replace it.");
            Specs[spec.Id] = spec;
        }
    }

    public static bool Unregister(string id)
    {
        lock (Lock) return Specs.Remove(id);
    }

    public static bool TryGetSpec(string id, out EnvSpec spec)
    {
        lock (Lock) return Specs.TryGetValue(id, out spec!);
    }

    /// <summary>The spec of <paramref name="id"/>; an unknown id throws listing the nearest known ids.</summary>
    public static EnvSpec GetSpec(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (TryGetSpec(id, out var spec)) return spec;
        var ids = Ids;
        var near = Nearest(id, ids, 3);
        throw new UnknownEnvException(id, near,
            $"Unknown env id '{id}'." + (near.Count > 0 ? $" Did you mean {string.Join(", ", near.Select(n => $"'{n}'"))}?" : "") +
            $" Registered: {string.Join(", ", ids)}.");
    }

    /// <summary>Builds the task and applies its TimeLimit (from the spec, or <see cref="EnvOptions.MaxEpisodeSteps"/>).</summary>
    public static IEnv Make(string id, EnvOptions? options = null)
    {
        var spec = GetSpec(id);
        options ??= EnvOptions.Default;
        if (options.MaxEpisodeSteps is <= 0) throw new ArgumentException($"MaxEpisodeSteps {options.MaxEpisodeSteps} must be > 0.", nameof(options));
        var env = spec.Factory(options) ?? throw new InvalidOperationException($"The factory of '{id}' returned null.");
        int? limit = options.DisableTimeLimit ? null : options.MaxEpisodeSteps ?? spec.MaxEpisodeSteps;
        return limit is { } l ? new TimeLimit(env, l) : env;
    }

    /// <summary>The ids closest to <paramref name="id"/> by case-insensitive edit distance (ties by name).</summary>
    public static IReadOnlyList<string> Nearest(string id, IEnumerable<string> candidates, int count)
    {
        string q = id.ToLowerInvariant();
        return candidates
            .Select(c => (Id: c, D: EditDistance(q, c.ToLowerInvariant())))
            .Where(x => x.D <= Math.Max(3, x.Id.Length / 2))
            .OrderBy(x => x.D).ThenBy(x => x.Id, StringComparer.Ordinal)
            .Take(count).Select(x => x.Id).ToArray();
    }

    /// <summary>Levenshtein distance (insert, delete, substitute each cost 1).</summary>
    public static int EditDistance(string a, string b) => Text.EditDistance.Between(a, b);
}

/// <summary>An env id that is not registered; <see cref="Suggestions"/> holds the nearest registered ids.</summary>
public sealed class UnknownEnvException(string id, IReadOnlyList<string> suggestions, string message) : KeyNotFoundException(message)
{
    public string Id { get; } = id;
    public IReadOnlyList<string> Suggestions { get; } = suggestions;
}
