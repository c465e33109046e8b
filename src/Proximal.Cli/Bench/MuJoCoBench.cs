using System.Runtime.InteropServices;
using Proximal.Envs;
using Proximal.MuJoCo;
using Proximal.MuJoCo.Envs;
using Proximal.Numerics;

namespace Proximal.Cli.Bench;

/// <summary>
/// Single-env throughput of each Gymnasium v4 MuJoCo task through our binding and task code (random
/// actions, reset on termination and every 1000 steps), beside the raw simulator rate timed in the
/// same process by a native loop (random controls, frame_skip mj_step + mj_rnePostConstraint per env
/// step, no observation or reward work, reset as often as our episodes ended). Target ratio ≥ 0.9.
/// Both sides are timed by this thread's CPU clock, so other processes sharing the cores do not skew
/// the figures or their ratio (on an idle machine it equals wall time).
/// </summary>
public static partial class MuJoCoBench
{
    public static void Run(BenchReport report) => Run(report, secondsPerRound: 0.4, rounds: 3);

    /// <summary>Best of <paramref name="rounds"/> interleaved rounds for each side (the machine is shared,
    /// so the best round is the least disturbed one).</summary>
    public static void Run(BenchReport report, double secondsPerRound, int rounds)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(secondsPerRound);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rounds);
        report.Section("MuJoCo 2.2.2 v4 tasks, one env, random actions (env steps/s)");
        foreach (TaskInfo task in MuJoCoTasks.All)
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

            report.Add(new BenchCase($"{task.Id} raw simulator (mj_step×{env.FrameSkip}+rne)", bestRaw, "steps/s"));
            report.Add(new BenchCase($"{task.Id} Proximal env", bestOurs, "steps/s", Ratio: bestOurs / bestRaw, RatioOf: "raw simulator"));
        }
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
