using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Proximal.Cli.Bench;

/// <summary>
/// The clock of single-thread measurements: wall time (default), or with <c>--cpu-time</c> the calling thread's CPU time
/// (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>), which leaves out the time other processes hold the core. On a shared machine
/// that keeps a one-thread rate and its peak comparable (both lose the same cache warmth to the neighbours, but neither
/// counts their time slices); it cannot measure a multi-thread speed-up, so the benches skip those cases in this mode.
/// </summary>
public static partial class BenchClock
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>True when figures are taken in thread CPU time (set once, from <c>--cpu-time</c>).</summary>
    public static bool ThreadCpuTime { get; set; }

    /// <summary>Whether this platform has a per-thread CPU clock we can read.</summary>
    public static bool ThreadCpuTimeAvailable => OperatingSystem.IsLinux();

    /// <summary>A timestamp in nanoseconds on the selected clock.</summary>
    public static long Now()
    {
        if (!ThreadCpuTime) return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
        Timespec t;
        if (clock_gettime(ClockThreadCpuTimeId, out t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }

    /// <summary>Seconds on the selected clock since <paramref name="start"/> (a value of <see cref="Now"/>).</summary>
    public static double SecondsSince(long start) => (Now() - start) * 1e-9;

    /// <summary>"thread CPU time" or "wall time", for section titles.</summary>
    public static string Name => ThreadCpuTime ? "thread CPU time" : "wall time";

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clockId, out Timespec time);
}
