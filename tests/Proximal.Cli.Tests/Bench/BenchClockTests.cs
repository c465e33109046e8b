using Proximal.Cli.Bench;

namespace Proximal.Cli.Tests.Bench;

public class BenchClockTests
{
    [Fact]
    public void Thread_cpu_time_counts_work_and_not_sleep()
    {
        if (!BenchClock.ThreadCpuTimeAvailable) return; // Linux only; the option says so elsewhere
        bool was = BenchClock.ThreadCpuTime;
        try
        {
            BenchClock.ThreadCpuTime = true;
            long t0 = BenchClock.Now();
            Thread.Sleep(200);
            double slept = BenchClock.SecondsSince(t0);
            Assert.True(slept < 0.1, $"200 ms of sleep counted {slept:F3} s of thread CPU time");

            long t1 = BenchClock.Now();
            double x = 0;
            var wall = System.Diagnostics.Stopwatch.StartNew();
            while (wall.Elapsed.TotalSeconds < 0.1) x += Math.Sqrt(x + 1);
            double busy = BenchClock.SecondsSince(t1);
            Assert.True(busy > 0 && busy <= wall.Elapsed.TotalSeconds + 0.01 && x > 0, $"busy loop: {busy:F3} s CPU in {wall.Elapsed.TotalSeconds:F3} s wall");
        }
        finally { BenchClock.ThreadCpuTime = was; }
    }
}
