using System.CommandLine;
using Proximal.Cli.Bench;

namespace Proximal.Cli;

/// <summary><c>proximal bench …</c>: throughput figures printed as a table, or as JSON lines with --json.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure throughput (figures and ratios; --json for one JSON object per case).");
        bench.Subcommands.Add(CreateNn());
        bench.Subcommands.Add(Proximal.Cli.Bench.EnvBench.CreateCommand());
        bench.Subcommands.Add(LearnBench.CreateCommand());
        bench.Subcommands.Add(PpoBench.CreateCommand());
        return bench;
    }

    private static Command CreateNn()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per figure instead of a table." };
        var nn = new Command("nn", "Neural-network engine: single-core FP32 peak and GEMM GFLOP/s (% of peak, 2-thread speed-up).");
        nn.Options.Add(json);
        nn.SetAction(parseResult =>
        {
            var report = new BenchReport(parseResult.GetValue(json));
            double peakGflops = NnBench.Run(report);
            MlpBench.Run(report, peakGflops);
            return 0;
        });
        return nn;
    }
}
