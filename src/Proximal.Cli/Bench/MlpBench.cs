using System.Diagnostics;
using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Cli.Bench;

/// <summary>
/// Training-step throughput of the PPO-sized MLP (17→64→64→6, tanh) on one thread: forward, backward
/// (parameter gradients; no input gradient for the first layer, as in training) and one Adam step.
/// </summary>
public static class MlpBench
{
    private static readonly int[] Sizes = [17, 64, 64, 6];

    /// <summary>Adam per parameter: 3 flops for m, 4 for v, 6 for the update (sqrt, scale, add, divide, multiply, subtract).</summary>
    private const double AdamFlopsPerParameter = 13;

    private const double SecondsPerRepeat = 0.4;
    private const int Repeats = 3;

    public static void Run(BenchReport report, double peakGflops)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!(peakGflops > 0) || double.IsInfinity(peakGflops)) throw new ArgumentOutOfRangeException(nameof(peakGflops), peakGflops, "Peak GFLOP/s must be positive and finite.");
        report.Section($"MLP {string.Join("→", Sizes)} tanh: forward + backward + Adam, 1 thread");
        foreach (int batch in (int[])[64, 2048]) Measure(report, batch, peakGflops);
    }

    /// <summary>Floating-point operations of one training step on <paramref name="batch"/> samples.</summary>
    public static double FlopsPerStep(int batch, out int parameterCount)
    {
        double forward = 0, backward = 0;
        parameterCount = 0;
        for (int i = 0; i + 1 < Sizes.Length; i++)
        {
            double macs = (double)Sizes[i] * Sizes[i + 1];
            forward += 2 * macs;                       // y = x·Wᵀ
            backward += 2 * macs;                      // ∂W = gᵀ·x
            if (i > 0) backward += 2 * macs;           // ∂x = g·W (skipped for the first layer)
            parameterCount += Sizes[i] * Sizes[i + 1] + Sizes[i + 1];
        }
        return batch * (forward + backward) + AdamFlopsPerParameter * parameterCount;
    }

    private static void Measure(BenchReport report, int batch, double peakGflops)
    {
        var rng = new Rng(12345);
        var parameters = new Parameters();
        var mlp = new Mlp(parameters, Sizes, Activation.Tanh, rng, outputGain: 0.01);
        var adam = new Adam(parameters, 3e-4);
        var input = new float[batch * Sizes[0]];
        var outputGradient = new float[batch * Sizes[^1]];
        for (int i = 0; i < input.Length; i++) input[i] = (float)rng.NextGaussian();
        for (int i = 0; i < outputGradient.Length; i++) outputGradient[i] = (float)(1e-3 * rng.NextGaussian());

        void Step()
        {
            parameters.ZeroGradients();
            mlp.Forward(input, batch);
            mlp.Backward(outputGradient, computeInputGradient: false);
            adam.Step();
        }

        // Warm-up: sizes the workspaces and lets the JIT reach its optimised tier.
        var warm = Stopwatch.StartNew();
        do Step(); while (warm.Elapsed.TotalSeconds < 0.2);

        double best = double.PositiveInfinity; // seconds per step, best repeat (least disturbed by other load)
        for (int r = 0; r < Repeats; r++)
        {
            long steps = 0;
            var sw = Stopwatch.StartNew();
            do { Step(); steps++; } while (sw.Elapsed.TotalSeconds < SecondsPerRepeat);
            best = Math.Min(best, sw.Elapsed.TotalSeconds / steps);
        }

        double gflops = FlopsPerStep(batch, out _) / best / 1e9;
        report.Add(new BenchCase($"mlp train step batch {batch}", batch / best, "samples/s"));
        report.Add(new BenchCase($"mlp train step batch {batch} GFLOP/s", gflops, "GFLOP/s", PercentOfPeak: 100 * gflops / peakGflops));
    }
}
