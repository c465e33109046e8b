using System.Diagnostics;
using Proximal.Algorithms.OffPolicy;

namespace Proximal.Cli.Bench;

/// <summary>
/// <c>proximal bench nn</c>, SAC part: one SAC gradient step (soft targets, twin critics, actor, temperature, Polyak) at
/// batch 256 with 256-256 actor and critics, the real <see cref="Sac"/> update on a replay buffer of Pendulum-v1
/// transitions (3 observations, 1 action: the products are the hidden 256×256 layers), on 1 and 2 threads, with its
/// FLOP count (<see cref="OffPolicyFlops.SacStep"/>) and the rate as % of the measured single-core peak.
/// </summary>
public static class SacUpdateBench
{
    public const int Batch = 256;
    private static readonly int[] Hidden = [256, 256];
    /// <summary>Issue 10's targets for this figure.</summary>
    public const double TargetPercentOfPeak = 60, TargetTwoThreadSpeedup = 1.6;

    public static void Run(BenchReport report, double peakGflops)
    {
        ArgumentNullException.ThrowIfNull(report);
        report.Section($"SAC update: one gradient step, batch {Batch}, 256-256 actor and twin critics, Pendulum-v1 sizes (3 obs, 1 action); % of single-core peak times the thread count; {BenchClock.Name}");
        double flops = OffPolicyFlops.SacStep(3, 1, Hidden, Hidden, Batch);
        report.Add(new BenchCase("sac update, flops per gradient step", flops / 1e6, "MFLOP",
            Note: "products + Adam + Polyak, counted from the layer sizes (OffPolicyFlops)"));
        double single = 0;
        foreach (int threads in BenchClock.ThreadCpuTime ? [1] : (int[])[1, 2])
        {
            double seconds = SecondsPerStep(threads, out double meanSeconds);
            double gflops = flops / seconds / 1e9;
            string label = $"sac update, {threads} thread{(threads > 1 ? "s" : "")}";
            // The best repeat is the figure; the mean of all five is what `bench offpolicy`'s single timed window compares to.
            report.Add(new BenchCase(label, 1 / seconds, "steps/s",
                Note: $"best of 5 repeats ({1e3 * seconds:F3} ms/step); mean of the 5: {1 / meanSeconds:F1} steps/s ({1e3 * meanSeconds:F3} ms/step)"));
            double? ratio = threads == 2 ? gflops / single : null;
            report.Add(new BenchCase($"{label} GFLOP/s", gflops, "GFLOP/s", PercentOfPeak: 100 * gflops / (peakGflops * threads),
                Ratio: ratio, RatioOf: ratio is null ? null : "vs 1 thread (this run)",
                Note: threads == 1 ? $"target ≥ {TargetPercentOfPeak:G} % of peak" : $"target ≥ {TargetTwoThreadSpeedup:G}× vs 1 thread"));
            if (threads == 1) single = gflops;
        }
    }

    /// <summary>Seconds per gradient step on <paramref name="threads"/> threads: best of five ~0.3 s repeats (on <see cref="BenchClock"/>) after a warm-up.</summary>
    public static double SecondsPerStep(int threads) => SecondsPerStep(threads, out _);

    /// <summary><see cref="SecondsPerStep(int)"/>, with the mean over the five repeats.</summary>
    public static double SecondsPerStep(int threads, out double meanSeconds)
    {
        var options = new SacOptions
        {
            Seed = 1, LearningStarts = 1000, BufferSize = 10_000, BatchSize = Batch, HiddenSizes = Hidden, TrainThreads = threads,
        };
        using var sac = Sac.Create("Pendulum-v1", options);
        sac.Learn(options.LearningStarts); // random warm-up actions fill the buffer
        var warm = Stopwatch.StartNew();
        do sac.Train(1); while (warm.Elapsed.TotalSeconds < 0.3); // JIT tiering, workspaces, pack buffers
        double best = double.PositiveInfinity, sum = 0;
        for (int r = 0; r < 5; r++)
        {
            long n = 0;
            long start = BenchClock.Now();
            do { sac.Train(1); n++; } while (BenchClock.SecondsSince(start) < 0.3);
            double perStep = BenchClock.SecondsSince(start) / n;
            best = Math.Min(best, perStep);
            sum += perStep;
        }
        meanSeconds = sum / 5;
        return best;
    }
}
