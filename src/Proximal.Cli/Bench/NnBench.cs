using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Proximal.Numerics;

namespace Proximal.Cli.Bench;

/// <summary>
/// <c>proximal bench nn</c>, numerics part: the single-core FP32 FMA peak of this machine and the GEMM
/// rate (GFLOP/s and % of that peak) on the shapes a small MLP and SAC's 256-wide networks produce and on square
/// shapes; then the MLP train step and one SAC update (<see cref="SacUpdateBench"/>).
/// </summary>
public static class NnBench
{
    public static Command CreateCommand()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per figure instead of a table." };
        var cpuTime = new Option<bool>("--cpu-time")
        {
            Description = "Time single-thread figures in thread CPU time (Linux), for a shared machine; skips the 2-thread cases and the MLP section.",
        };
        var nn = new Command("nn", "Neural-network engine: single-core FP32 peak and GEMM GFLOP/s (% of peak, 2-thread speed-up), MLP step, SAC update.");
        nn.Options.Add(json);
        nn.Options.Add(cpuTime);
        nn.SetAction(parseResult =>
        {
            if (parseResult.GetValue(cpuTime))
            {
                if (!BenchClock.ThreadCpuTimeAvailable) { Console.Error.WriteLine("error: --cpu-time needs Linux (CLOCK_THREAD_CPUTIME_ID)."); return 2; }
                BenchClock.ThreadCpuTime = true;
            }
            var report = new BenchReport(parseResult.GetValue(json));
            report.Header(MachineInfo.Current());
            double peakGflops = Run(report);
            if (!BenchClock.ThreadCpuTime) MlpBench.Run(report, peakGflops);
            SacUpdateBench.Run(report, peakGflops);
            report.Footer(MachineInfo.Current().LoadAverage);
            return 0;
        });
        return nn;
    }

    /// <summary>Reports the peak and the GEMM figures; returns the measured peak (GFLOP/s) for later sections.</summary>
    public static double Run(BenchReport report)
    {
        report.Section("peak");
        double peak = MeasurePeakGflops();
        report.Add(new BenchCase($"peak fp32 fma, 1 core ({MachineInfo.CurrentGemmTier}, registers only)", peak, "GFLOP/s"));

        report.Section($"gemm (% of single-core peak times the thread count; {BenchClock.Name})");
        (string Label, Transpose Ta, Transpose Tb, int M, int N, int K)[] shapes =
        [
            ("64x64x64", Transpose.No, Transpose.No, 64, 64, 64),
            ("2048x64x64 (layer forward, B transposed)", Transpose.No, Transpose.Yes, 2048, 64, 64),
            ("2048x64x17 (first layer, B transposed)", Transpose.No, Transpose.Yes, 2048, 64, 17),
            ("64x64x2048 (weight gradient, A transposed)", Transpose.Yes, Transpose.No, 64, 64, 2048),
            ("256x256x256", Transpose.No, Transpose.No, 256, 256, 256),
            // SAC's 256-wide networks at batch 256 (HalfCheetah sizes: 17 observations, 23 critic inputs): every
            // transpose combination of the square product, the layer forward x·Wᵀ and its transpose pair, the weight
            // gradient gᵀ·x of a first layer and the critic's input gradient g·W.
            ("256x256x256 (hidden layer forward, B transposed)", Transpose.No, Transpose.Yes, 256, 256, 256),
            ("256x256x256 (hidden weight gradient, A transposed)", Transpose.Yes, Transpose.No, 256, 256, 256),
            ("256x256x256 (both transposed)", Transpose.Yes, Transpose.Yes, 256, 256, 256),
            ("256x256x17 (first layer forward, B transposed)", Transpose.No, Transpose.Yes, 256, 256, 17),
            ("256x256x17 (A transposed)", Transpose.Yes, Transpose.No, 256, 256, 17),
            ("256x256x23 (critic first layer forward, B transposed)", Transpose.No, Transpose.Yes, 256, 256, 23),
            ("256x256x23 (A transposed)", Transpose.Yes, Transpose.No, 256, 256, 23),
            ("256x17x256 (first layer weight gradient, A transposed)", Transpose.Yes, Transpose.No, 256, 17, 256),
            ("256x23x256 (critic first layer weight gradient, A transposed)", Transpose.Yes, Transpose.No, 256, 23, 256),
            ("256x23x256 (critic input gradient)", Transpose.No, Transpose.No, 256, 23, 256),
            ("1024x1024x1024", Transpose.No, Transpose.No, 1024, 1024, 1024),
        ];
        foreach (var s in shapes)
        {
            double single = 0;
            foreach (int threads in BenchClock.ThreadCpuTime ? [1] : new[] { 1, 2 })
            {
                double gflops = MeasureGemmGflops(s.Ta, s.Tb, s.M, s.N, s.K, threads);
                double? ratio = threads == 2 && (s.M == 1024 || s.K == 256 && s.N == 256) ? gflops / single : null;  // 1 thread measured just before, same process
                report.Add(new BenchCase($"gemm {s.Label}, {threads} thread{(threads > 1 ? "s" : "")}", gflops, "GFLOP/s",
                    100 * gflops / (peak * threads), ratio, ratio is null ? null : "vs 1 thread (this run)"));
                single = gflops;
            }
        }
        return peak;
    }

    /// <summary>
    /// Single-core FP32 peak in GFLOP/s: a loop of fused multiply-adds on registers only, with twelve
    /// independent accumulators (more than FMA latency x FMA ports) so the FMA units never wait. Best of several runs.
    /// </summary>
    public static double MeasurePeakGflops()
    {
        const long iterations = 1_000_000; // ~1.5 ms per run: short runs and many of them find quiet moments on a shared machine
        double best = 0;
        FmaLoop(10_000); // compile at full optimisation before timing
        for (int run = 0; run < 40; run++)
        {
            long t0 = BenchClock.Now();
            float sink = FmaLoop(iterations);
            double seconds = BenchClock.SecondsSince(t0);
            if (float.IsNaN(sink)) throw new InvalidOperationException("FMA loop diverged.");
            int lanes = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 1;
            best = Math.Max(best, iterations * 12.0 * lanes * 2 / seconds / 1e9);
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float FmaLoop(long iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            // x·y + acc with x·y < 1 and small increments keeps every value finite and normal.
            var x = Vector512.Create(0.999f); var y = Vector512.Create(1e-3f);
            Vector512<float> a0 = Vector512.Create(0f), a1 = Vector512.Create(1f), a2 = Vector512.Create(2f), a3 = Vector512.Create(3f),
                a4 = Vector512.Create(4f), a5 = Vector512.Create(5f), a6 = Vector512.Create(6f), a7 = Vector512.Create(7f),
                a8 = Vector512.Create(8f), a9 = Vector512.Create(9f), a10 = Vector512.Create(10f), a11 = Vector512.Create(11f);
            for (long i = 0; i < iterations; i++)
            {
                a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
                a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
                a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
                a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
                a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
                a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
            }
            return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        }
        else
        {
            var x = Vector256.Create(0.999f); var y = Vector256.Create(1e-3f);
            Vector256<float> a0 = Vector256.Create(0f), a1 = Vector256.Create(1f), a2 = Vector256.Create(2f), a3 = Vector256.Create(3f),
                a4 = Vector256.Create(4f), a5 = Vector256.Create(5f), a6 = Vector256.Create(6f), a7 = Vector256.Create(7f),
                a8 = Vector256.Create(8f), a9 = Vector256.Create(9f), a10 = Vector256.Create(10f), a11 = Vector256.Create(11f);
            for (long i = 0; i < iterations; i++)
            {
                a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y);
                a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
                a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y);
                a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
                a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y);
                a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
            }
            return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        }
    }

    /// <summary>GEMM rate: warm-up, then the best of ten timed batches of about 0.04 s each (short batches and best-of filter out other load on a shared machine).</summary>
    private static double MeasureGemmGflops(Transpose ta, Transpose tb, int m, int n, int k, int threads)
    {
        var rng = new Rng(1);
        var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextFloat() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextFloat() - 0.5f;
        int lda = ta == Transpose.No ? k : m, ldb = tb == Transpose.No ? n : k;
        void Call() => Gemm.Multiply(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n, threads);

        long t0 = Stopwatch.GetTimestamp();
        int warm = 0;
        while (warm < 3 || Stopwatch.GetElapsedTime(t0).TotalSeconds < 0.05) { Call(); warm++; }
        double perCall = Stopwatch.GetElapsedTime(t0).TotalSeconds / warm;
        int reps = (int)Math.Clamp(0.04 / perCall, 1, 1_000_000);
        double best = double.MaxValue;
        for (int batch = 0; batch < 10; batch++)
        {
            long s = BenchClock.Now();
            for (int r = 0; r < reps; r++) Call();
            best = Math.Min(best, BenchClock.SecondsSince(s) / reps);
        }
        return 2.0 * m * n * k / best / 1e9;
    }
}
