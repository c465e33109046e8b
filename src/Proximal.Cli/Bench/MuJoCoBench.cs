using System.Diagnostics;
using System.Runtime.InteropServices;
using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.MuJoCo;
using Proximal.MuJoCo.Binding;
using Proximal.MuJoCo.Envs;
using Proximal.Numerics;
using Proximal.Envs.Registry;

namespace Proximal.Cli.Bench;

/// <summary>
/// Single-env throughput of each Gymnasium v4 MuJoCo task through our binding and task code (random
/// actions, reset on termination and every 1000 steps), beside the raw simulator rate timed in the
/// same process by a native loop (random controls, frame_skip mj_step + mj_rnePostConstraint per env
/// step, no observation or reward work, reset as often as our episodes ended). Target ratio ≥ 0.9.
/// Both sides are timed by this thread's CPU clock, so other processes sharing the cores do not skew
/// the figures or their ratio (on an idle machine it equals wall time).
/// Then, per task, a <see cref="ThreadedVecEnv"/> over all cores with N = 8 and 16 envs against a <see cref="SyncVecEnv"/>
/// of the same N, rounds interleaved, by wall time (that is what parallel stepping buys), with the speed-up as the ratio.
/// </summary>
public static partial class MuJoCoBench
{
    public static void Run(BenchReport report) => Run(report, secondsPerRound: 0.4, rounds: 3);

    /// <summary>Both MuJoCo sections for the tasks in <paramref name="tasks"/> (null: all); when libmujoco cannot
    /// be loaded, one line on stderr says why and nothing else runs.</summary>
    public static void Run(BenchReport report, double secondsPerRound, IReadOnlySet<string>? tasks)
    {
        ArgumentNullException.ThrowIfNull(report);
        var selected = MuJoCoTasks.All.Where(t => tasks is null || tasks.Contains(t.Id)).ToArray();
        if (selected.Length == 0) return;
        try { MuJoCoLibrary.EnsureLoaded(); }
        catch (MuJoCoLibraryException e)
        {
            Console.Error.WriteLine($"MuJoCo benchmarks skipped: {e.Message.ReplaceLineEndings(" ")}");
            return;
        }
        Run(report, secondsPerRound, rounds: 3, selected);
        RunVector(report, secondsPerRound, rounds: 2, selected);
    }

    /// <summary>Best of <paramref name="rounds"/> interleaved rounds for each side (the machine is shared,
    /// so the best round is the least disturbed one).</summary>
    public static void Run(BenchReport report, double secondsPerRound, int rounds, IReadOnlyList<TaskInfo>? tasks = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(secondsPerRound);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rounds);
        report.Section("MuJoCo 2.2.2 v4 tasks, one env, random actions (env steps/s, thread CPU time)");
        foreach (TaskInfo task in tasks ?? MuJoCoTasks.All)
        {
            using var env = (MuJoCoEnv)task.Factory();
            var rng = new Rng(12345);
            var obs = new float[env.ObservationSpace.FlatSize];
            var action = new float[env.ActionSpace.FlatSize];
            env.Reset(obs, 1);
            int episodeSteps = 0;
            long episodes = 0, totalSteps = 0;

            long RunOurs(long steps)
            {
                for (long t = 0; t < steps; t++)
                {
                    env.ActionSpace.Sample(rng, action);
                    StepResult r = env.Step(action, obs);
                    if (r.Terminated || ++episodeSteps >= task.MaxEpisodeSteps)
                    {
                        env.Reset(obs);
                        episodeSteps = 0;
                        episodes++;
                    }
                }
                totalSteps += steps;
                return steps;
            }

            // Calibrate the step count of a round from a short warm-up run.
            double start = ThreadCpuSeconds();
            long warm = 0;
            while (ThreadCpuSeconds() - start < 0.1) warm += RunOurs(64);
            long steps = Math.Max(64, (long)(warm / (ThreadCpuSeconds() - start) * secondsPerRound));

            double bestOurs = 0, bestRaw = 0;
            for (int round = 0; round < rounds; round++)
            {
                start = ThreadCpuSeconds();
                RunOurs(steps);
                bestOurs = Math.Max(bestOurs, steps / (ThreadCpuSeconds() - start));

                long episodeLength = Math.Max(1, totalSteps / Math.Max(1, episodes));
                start = ThreadCpuSeconds();
                env.Data.RunRawBenchmark(steps, env.FrameSkip, episodeLength, seed: (ulong)round + 1);
                bestRaw = Math.Max(bestRaw, steps / (ThreadCpuSeconds() - start));
                env.Reset(obs);  // the raw loop moved the simulator: start a fresh episode
                episodeSteps = 0;
            }

            report.Add(new BenchCase($"{task.Id} raw mj_step×{env.FrameSkip}+rne", bestRaw, "steps/s"));
            report.Add(new BenchCase($"{task.Id} Proximal env", bestOurs, "steps/s", Ratio: bestOurs / bestRaw, RatioOf: "raw simulator"));
        }
    }

    /// <summary>
    /// Wall-clock env steps/s of a <see cref="SyncVecEnv"/> and a <see cref="ThreadedVecEnv"/> over all cores with the same
    /// N (8 and 16), through the registry (TimeLimit included, auto-reset on episode ends), random actions drawn in advance.
    /// The baseline is measured in the same conditions as the threaded run: same N, same process, rounds interleaved
    /// (sync, threaded, sync, threaded, …) so both see the same load; the best round of each is kept.
    /// Ratio = threaded rate / sync rate at the same N: the speed-up that threading buys.
    /// </summary>
    public static void RunVector(BenchReport report, double secondsPerRound, int rounds, IReadOnlyList<TaskInfo>? tasks = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(secondsPerRound);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rounds);
        MuJoCoTasks.Register();
        int cores = Environment.ProcessorCount;
        report.Section($"MuJoCo tasks, ThreadedVecEnv over {cores} cores vs SyncVecEnv of the same N (env steps/s, wall time; " +
                       "interleaved rounds; ratio = speed-up)");
        // The ceiling for any speed-up: how many cores' worth of CPU this process gets right now (shared machines).
        report.Add(new BenchCase($"CPU available to {cores} busy threads", AvailableCores(cores, 0.2), "cores"));
        foreach (TaskInfo task in tasks ?? MuJoCoTasks.All)
        {
            foreach (int n in new[] { 8, 16 })
            {
                int threads = Math.Min(cores, n);
                using var sync = new VecRunner(new SyncVecEnv(_ => EnvRegistry.Make(task.Id), n));
                using var threaded = new VecRunner(new ThreadedVecEnv(_ => EnvRegistry.Make(task.Id), n, threads));
                sync.Run(0.1);  // warm-up: JIT, caches
                threaded.Run(0.1);
                double bestSync = 0, bestThreaded = 0;
                for (int round = 0; round < rounds; round++)
                {
                    bestSync = Math.Max(bestSync, sync.Run(secondsPerRound));
                    bestThreaded = Math.Max(bestThreaded, threaded.Run(secondsPerRound));
                }
                report.Add(new BenchCase($"{task.Id} SyncVecEnv N={n}", bestSync, "steps/s"));
                report.Add(new BenchCase($"{task.Id} ThreadedVecEnv N={n} ({threads} threads)", bestThreaded, "steps/s",
                    Ratio: bestThreaded / bestSync, RatioOf: $"SyncVecEnv N={n} (speed-up)"));
            }
        }
    }

    /// <summary>Throughput of <paramref name="threads"/> threads of pure arithmetic relative to one thread: about
    /// <paramref name="threads"/> on an idle machine, less when other work holds the cores.</summary>
    internal static double AvailableCores(int threads, double seconds)
    {
        static long Spin(double seconds)
        {
            long rounds = 0;
            double x = 1;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                for (int i = 0; i < 4096; i++) x = x * 1.0000001 + 1e-9;
                rounds++;
            }
            GC.KeepAlive(x);
            return rounds;
        }
        long one = Spin(seconds);
        var counts = new long[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() => counts[t] = Spin(seconds))).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        return (double)counts.Sum() / Math.Max(1, one);
    }

    /// <summary>A VecEnv with its buffers and a pool of random actions, stepped for a given wall time.</summary>
    private sealed class VecRunner : IDisposable
    {
        private const int Pool = 64;
        private readonly VecEnv _vec;
        private readonly float[] _actions, _obs, _rew;
        private readonly bool[] _term, _trunc;
        private int _next;

        public VecRunner(VecEnv vec)
        {
            _vec = vec;
            int n = vec.NumEnvs, a = vec.ActionSize;
            var rng = new Rng(1);
            _actions = new float[Pool * n * a];
            for (int i = 0; i < Pool * n; i++) vec.SingleActionSpace.Sample(rng, _actions.AsSpan(i * a, a));
            _obs = new float[n * vec.ObservationSize];
            _rew = new float[n];
            _term = new bool[n];
            _trunc = new bool[n];
            vec.Reset(_obs, 0);
        }

        /// <summary>Steps for <paramref name="seconds"/> of wall time; returns env steps/s.</summary>
        public double Run(double seconds)
        {
            int n = _vec.NumEnvs, block = n * _vec.ActionSize;
            long steps = 0;
            var clock = Stopwatch.StartNew();
            do
            {
                _vec.Step(_actions.AsSpan(_next * block, block), _obs, _rew, _term, _trunc);
                if (++_next == Pool) _next = 0;
                steps += n;
            } while (clock.Elapsed.TotalSeconds < seconds);
            return steps / clock.Elapsed.TotalSeconds;
        }

        public void Dispose() => _vec.Dispose();
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private const int ClockThreadCpuTime = 3;  // CLOCK_THREAD_CPUTIME_ID (Linux)

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    private static double ThreadCpuSeconds()
    {
        if (ClockGetTime(ClockThreadCpuTime, out TimeSpec t) != 0)
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");
        return t.Seconds + t.Nanoseconds * 1e-9;
    }
}
