using System.CommandLine;
using System.Diagnostics;
using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Envs.Registry;

namespace Proximal.Cli.Bench;

/// <summary>
/// <c>proximal bench envs</c>: env steps per second for each classic-control task, as a single raw env and as
/// VecEnvs of N = 1, 8, 64 (sync, and threaded over all cores). Envs are unwrapped (no TimeLimit) so the ratio
/// "× raw step cost" isolates the VecEnv's own overhead: time per env-step in the VecEnv / time per raw step.
/// Actions are drawn in advance, so the figures exclude action sampling. Then the MuJoCo tasks
/// (<see cref="MuJoCoBench"/>): binding vs raw simulator, and threaded VecEnv speed-up over a SyncVecEnv of the same N.
/// </summary>
public static class EnvBench
{
    public static readonly string[] Tasks = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"];

    public static Command CreateCommand()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per figure instead of a table." };
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per figure (after a warm-up of the same length).", DefaultValueFactory = _ => 0.3 };
        var tasks = new Option<string?>("--tasks")
        {
            Description = "Comma-separated task ids to measure, or the groups 'classic' and 'mujoco' (default: all). E.g. --tasks CartPole-v1,Hopper-v4",
        };
        var cmd = new Command("envs", "Environments: steps/s of each classic task (single env and VecEnv N = 1, 8, 64; sync and threaded), " +
                                      "and of each MuJoCo task (binding vs raw simulator; threaded vs sync VecEnv at N = 8, 16, interleaved).");
        cmd.Options.Add(json);
        cmd.Options.Add(seconds);
        cmd.Options.Add(tasks);
        cmd.SetAction(parseResult =>
        {
            double s = parseResult.GetValue(seconds);
            if (!(s > 0) || s > 60)
            {
                Console.Error.WriteLine($"--seconds must be in (0, 60], got {s}.");
                return 2;
            }
            HashSet<string>? selected;
            try { selected = SelectTasks(parseResult.GetValue(tasks)); }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
            Run(new BenchReport(parseResult.GetValue(json)), s, selected);
            return 0;
        });
        return cmd;
    }

    /// <summary>Parses --tasks: null (everything) or the set of ids; throws naming an unknown id and the nearest known ones.</summary>
    public static HashSet<string>? SelectTasks(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return null;
        MuJoCo.MuJoCoTasks.Register();
        var mujoco = MuJoCo.MuJoCoTasks.All.Select(t => t.Id).ToArray();
        var known = Tasks.Concat(mujoco).ToArray();
        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (string raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw.Equals("classic", StringComparison.OrdinalIgnoreCase)) selected.UnionWith(Tasks);
            else if (raw.Equals("mujoco", StringComparison.OrdinalIgnoreCase)) selected.UnionWith(mujoco);
            else if (Array.IndexOf(known, raw) >= 0) selected.Add(raw);
            else
            {
                var near = EnvRegistry.Nearest(raw, known, 3);
                throw new ArgumentException($"--tasks: '{raw}' is not a benchmarked task." +
                    (near.Count > 0 ? $" Did you mean {string.Join(", ", near.Select(n => $"'{n}'"))}?" : "") +
                    $" Choose from: classic, mujoco, {string.Join(", ", known)}.");
            }
        }
        return selected;
    }

    /// <summary>Every section: classic tasks, then MuJoCo tasks (skipped with one line when libmujoco is missing).</summary>
    public static void Run(BenchReport report, double seconds, IReadOnlySet<string>? tasks = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        // Other processes share the cores: the header gives the load at start (figures from a loaded machine are lower and noisier).
        report.Header(MachineInfo.Current());
        RunClassic(report, seconds, tasks);
        MuJoCoBench.Run(report, seconds, tasks);
        report.Footer(MachineInfo.Current().LoadAverage);
    }

    public static void RunClassic(BenchReport report, double seconds, IReadOnlySet<string>? tasks = null)
    {
        int threads = Environment.ProcessorCount;
        foreach (var id in Tasks)
        {
            if (tasks is not null && !tasks.Contains(id)) continue;
            report.Section($"{id} (env steps/s; ratio = VecEnv time per env-step / raw step time, raw measured just before in this run)");
            double raw = Single(id, seconds);
            report.Add(new BenchCase($"{id} single env (raw)", raw, "steps/s"));
            foreach (int n in new[] { 1, 8, 64 })
            {
                double sync;
                using (var vec = new SyncVecEnv(_ => Raw(id), n)) sync = Vector(vec, seconds);
                report.Add(new BenchCase($"{id} SyncVecEnv N={n}", sync, "steps/s", Ratio: raw / sync, RatioOf: "raw step cost"));
                int t = Math.Min(threads, n);
                double threaded;
                using (var vec = new ThreadedVecEnv(_ => Raw(id), n, t)) threaded = Vector(vec, seconds);
                report.Add(new BenchCase($"{id} ThreadedVecEnv N={n} ({t} threads)", threaded, "steps/s", Ratio: raw / threaded, RatioOf: "raw step cost"));
            }
        }
    }

    private static IEnv Raw(string id) => EnvRegistry.Make(id, new EnvOptions { DisableTimeLimit = true });

    private static float[] Actions(IEnv env, int count)
    {
        var rng = new Rng(1);
        int a = env.ActionSpace.FlatSize;
        var actions = new float[count * a];
        for (int i = 0; i < count; i++) env.ActionSpace.Sample(rng, actions.AsSpan(i * a, a));
        return actions;
    }

    private static double Single(string id, double seconds)
    {
        using var env = Raw(id);
        const int pool = 4096;
        int a = env.ActionSpace.FlatSize;
        var actions = Actions(env, pool);
        var obs = new float[env.ObservationSpace.FlatSize];
        env.Reset(obs, 0);
        long Steps(long count)
        {
            int k = 0;
            for (long i = 0; i < count; i++)
            {
                if (env.Step(actions.AsSpan(k * a, a), obs).Done) env.Reset(obs);
                if (++k == pool) k = 0;
            }
            return count;
        }
        return Measure(Steps, 1 << 16, seconds);
    }

    internal static double Vector(VecEnv vec, double seconds)
    {
        int n = vec.NumEnvs;
        const int pool = 64;
        var rng = new Rng(1);
        int a = vec.ActionSize;
        var actions = new float[pool * n * a];
        for (int i = 0; i < pool * n; i++) vec.SingleActionSpace.Sample(rng, actions.AsSpan(i * a, a));
        var obs = new float[n * vec.ObservationSize];
        var rew = new float[n];
        var term = new bool[n];
        var trunc = new bool[n];
        vec.Reset(obs, 0);
        long Steps(long count)
        {
            int k = 0;
            for (long i = 0; i < count; i++)
            {
                vec.Step(actions.AsSpan(k * n * a, n * a), obs, rew, term, trunc);
                if (++k == pool) k = 0;
            }
            return count * n;
        }
        return Measure(Steps, Math.Max(1, (1 << 16) / n), seconds);
    }

    /// <summary>Warms up for <paramref name="seconds"/>, then runs chunks until that much time has passed; returns env steps/s.</summary>
    internal static double Measure(Func<long, long> run, long chunk, double seconds)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds) run(chunk);
        long steps = 0;
        sw.Restart();
        while (sw.Elapsed.TotalSeconds < seconds) steps += run(chunk);
        return steps / sw.Elapsed.TotalSeconds;
    }
}
