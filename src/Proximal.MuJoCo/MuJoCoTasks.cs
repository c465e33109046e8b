using Proximal.Envs;
using Proximal.MuJoCo.Envs;

namespace Proximal.MuJoCo;

/// <summary>A Gymnasium task id with the registration facts the registry needs.</summary>
/// <param name="MaxEpisodeSteps">Length of the TimeLimit truncation the registry adds (the env has none).</param>
/// <param name="RewardThreshold">Gymnasium's registered "solved" threshold; null where it has none.</param>
public sealed record TaskInfo(string Id, int MaxEpisodeSteps, double? RewardThreshold, Func<IEnv> Factory);

/// <summary>The Gymnasium v4 MuJoCo tasks on MuJoCo 2.2.2.</summary>
public static class MuJoCoTasks
{
    public static IReadOnlyList<TaskInfo> All { get; } =
    [
        new("Hopper-v4", 1000, 3800, () => new Hopper()),
        new("HalfCheetah-v4", 1000, 4800, () => new HalfCheetah()),
        new("Walker2d-v4", 1000, null, () => new Walker2d()),
        new("Ant-v4", 1000, 6000, () => new Ant()),
        new("Humanoid-v4", 1000, null, () => new Humanoid()),
        new("InvertedPendulum-v4", 1000, 950, () => new InvertedPendulum()),
        new("InvertedDoublePendulum-v4", 1000, 9100, () => new InvertedDoublePendulum()),
        new("Reacher-v4", 50, -3.75, () => new Reacher()),
        new("Swimmer-v4", 1000, 360, () => new Swimmer()),
    ];

    /// <summary>The task's info; throws naming the known ids when <paramref name="id"/> is unknown.</summary>
    public static TaskInfo Get(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        foreach (TaskInfo t in All) if (t.Id == id) return t;
        throw new ArgumentException($"Unknown MuJoCo task '{id}'. Known: {string.Join(", ", All.Select(t => t.Id))}.", nameof(id));
    }

    /// <summary>A new env for <paramref name="id"/> (no time limit: wrap it with the registry's TimeLimit).</summary>
    public static IEnv Make(string id) => Get(id).Factory();
}
