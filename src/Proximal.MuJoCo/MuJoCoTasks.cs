using System.Runtime.CompilerServices;
using Proximal.Envs;
using Proximal.MuJoCo.Envs;
using Proximal.Envs.Registry;

namespace Proximal.MuJoCo;

/// <summary>A Gymnasium task id with the registration facts the registry needs.</summary>
/// <param name="MaxEpisodeSteps">Length of the TimeLimit truncation the registry adds (the env has none).</param>
/// <param name="RewardThreshold">Gymnasium's registered "solved" threshold; null where it has none.</param>
/// <param name="Factory">Builds the task with its default options.</param>
public sealed record TaskInfo(string Id, int MaxEpisodeSteps, double? RewardThreshold, Func<IEnv> Factory)
{
    public string? Description { get; init; }

    /// <summary>Names of the numeric task options <see cref="Create"/> accepts through <see cref="EnvOptions.Parameters"/>.</summary>
    public IReadOnlyList<string> Parameters { get; init; } = [];

    internal Func<EnvOptions, IEnv>? ConfiguredFactory { get; init; }

    /// <summary>Builds the task (no time limit) with <paramref name="options"/>' task parameters; throws naming any it does not accept.</summary>
    public IEnv Create(EnvOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureOnlyParameters(Id, [.. Parameters]);
        return ConfiguredFactory is { } f ? f(options) : Factory();
    }
}

/// <summary>
/// The Gymnasium v4 MuJoCo tasks on MuJoCo 2.2.2. <see cref="Register"/> adds them to
/// <see cref="EnvRegistry"/> (it runs by itself when this assembly loads), so
/// <c>EnvRegistry.Make("Hopper-v4")</c> returns the task inside its TimeLimit.
/// </summary>
public static class MuJoCoTasks
{
    public static IReadOnlyList<TaskInfo> All { get; } =
    [
        new("Hopper-v4", 1000, 3800, () => new Hopper()) { Description = "One-legged hopper hops forward (MuJoCo); Box(3)." },
        new("HalfCheetah-v4", 1000, 4800, () => new HalfCheetah()) { Description = "Planar cheetah runs forward (MuJoCo); Box(6)." },
        new("Walker2d-v4", 1000, null, () => new Walker2d()) { Description = "Planar biped walks forward (MuJoCo); Box(6)." },
        new("Ant-v4", 1000, 6000, () => new Ant())
        {
            Description = "Quadruped walks forward (MuJoCo); Box(8); use_contact_forces=1 adds 84 contact observations.",
            Parameters = ["use_contact_forces"],
            ConfiguredFactory = o => new Ant(useContactForces: Flag(o, "Ant-v4", "use_contact_forces")),
        },
        new("Humanoid-v4", 1000, null, () => new Humanoid()) { Description = "3-D humanoid walks forward (MuJoCo); Box(17)." },
        new("InvertedPendulum-v4", 1000, 950, () => new InvertedPendulum()) { Description = "Balance a pole on a cart (MuJoCo); Box(1)." },
        new("InvertedDoublePendulum-v4", 1000, 9100, () => new InvertedDoublePendulum()) { Description = "Balance a two-link pole on a cart (MuJoCo); Box(1)." },
        new("Reacher-v4", 50, -3.75, () => new Reacher()) { Description = "Two-link arm reaches a random goal (MuJoCo); Box(2)." },
        new("Swimmer-v4", 1000, 360, () => new Swimmer()) { Description = "Three-link swimmer in a viscous fluid (MuJoCo); Box(2)." },
    ];

    private static readonly Lock Gate = new();

    /// <summary>The task's info; throws naming the known ids when <paramref name="id"/> is unknown.</summary>
    public static TaskInfo Get(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        foreach (TaskInfo t in All) if (t.Id == id) return t;
        throw new ArgumentException($"Unknown MuJoCo task '{id}'. Known: {string.Join(", ", All.Select(t => t.Id))}.", nameof(id));
    }

    /// <summary>A new env for <paramref name="id"/> (no time limit: wrap it with the registry's TimeLimit).</summary>
    public static IEnv Make(string id) => Get(id).Factory();

    /// <summary>
    /// Registers every task in <see cref="EnvRegistry"/> with its episode limit and reward threshold. Idempotent
    /// and thread-safe; an id that is already registered (by an earlier call, or by the user) is left as it is.
    /// Does not load libmujoco: that happens when the first task is built.
    /// </summary>
    public static void Register()
    {
        lock (Gate)
        {
            foreach (TaskInfo task in All)
            {
                if (EnvRegistry.TryGetSpec(task.Id, out _)) continue;
                EnvRegistry.Register(new EnvSpec(task.Id, task.Create, task.MaxEpisodeSteps, task.RewardThreshold, task.Description));
            }
        }
    }

    // Users who reference this assembly get the tasks in the registry without a call; a module initializer
    // runs when the assembly loads, which is why the CLI still calls Register explicitly at startup.
#pragma warning disable CA2255 // deliberate in a library: registration is cheap, idempotent and loads no native code
    [ModuleInitializer]
    internal static void RegisterOnLoad() => Register();
#pragma warning restore CA2255

    private static bool Flag(EnvOptions options, string id, string name)
    {
        double v = options.GetParameter(name, 0);
        return v switch
        {
            0 => false,
            1 => true,
            _ => throw new ArgumentException($"{id} parameter '{name}' must be 0 or 1, got {v}.", nameof(options)),
        };
    }
}
