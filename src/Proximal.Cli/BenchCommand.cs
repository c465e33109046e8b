using System.CommandLine;
using Proximal.Cli.Bench;

namespace Proximal.Cli;

/// <summary><c>proximal bench …</c>: throughput figures printed as a table, or as JSON lines with --json.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure throughput (figures and ratios; --json for one JSON object per case).");
        bench.Subcommands.Add(NnBench.CreateCommand());
        bench.Subcommands.Add(Proximal.Cli.Bench.EnvBench.CreateCommand());
        bench.Subcommands.Add(LearnBench.CreateCommand());
        bench.Subcommands.Add(PpoBench.CreateCommand());
        bench.Subcommands.Add(AlgoBench.CreateCommand());
        bench.Subcommands.Add(RecurrentBench.CreateCommand());
        bench.Subcommands.Add(SelfPlayBench.CreateCommand());
        bench.Subcommands.Add(DistributedBench.CreateCommand());
        bench.Subcommands.Add(OffPolicyBench.CreateCommand());
        return bench;
    }
}
