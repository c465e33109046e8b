using System.CommandLine;
using System.Diagnostics;
using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Numerics;

namespace Proximal.Cli.Bench;

/// <summary>
/// <c>proximal bench envs</c>: env steps per second for each classic-control task, as a single raw env and as
/// VecEnvs of N = 1, 8, 64 (sync, and threaded over all cores). Envs are unwrapped (no TimeLimit) so the ratio
/// "× raw step cost" isolates the VecEnv's own overhead: time per env-step in the VecEnv / time per raw step.
/// Actions are drawn in advance, so the figures exclude action sampling.
/// </summary>
public static class EnvBench
{
    public static readonly string[] Tasks = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"];

    public static Command CreateCommand()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per figure instead of a table." };
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per figure (after a warm-up of the same length).", DefaultValueFactory = _ => 0.3 };
        var cmd = new Command("envs", "Environments: steps/s of each classic task, single env and VecEnv (N = 1, 8, 64; sync and threaded).");
        cmd.Options.Add(json);
        cmd.Options.Add(seconds);
        cmd.SetAction(parseResult =>
        {
            double s = parseResult.GetValue(seconds);
            if (!(s > 0) || s > 60)
            {
                Console.Error.WriteLine($"--seconds must be in (0, 60], got {s}.");
                return 2;
            }
            Run(new BenchReport(parseResult.GetValue(json)), s);
            return 0;
        });
        return cmd;
    }

    public static void Run(BenchReport report, double seconds)
    {
        int threads = Environment.ProcessorCount;
        foreach (var id in Tasks)
        {
            report.Section($"{id} (env steps/s; ratio = VecEnv time per env-step / raw step time)");
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

    private static double Vector(VecEnv vec, double seconds)
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
    private static double Measure(Func<long, long> run, long chunk, double seconds)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds) run(chunk);
        long steps = 0;
        sw.Restart();
        while (sw.Elapsed.TotalSeconds < seconds) steps += run(chunk);
        return steps / sw.Elapsed.TotalSeconds;
    }
}
