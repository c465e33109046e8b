using System.CommandLine;
using Proximal.Cli;

var root = new RootCommand("Proximal: deep reinforcement learning for .NET (PPO and its family).");
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
root.Subcommands.Add(EnvsCommand.Create());
root.Subcommands.Add(Proximal.Cli.Train.TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
return await root.Parse(args).InvokeAsync();
