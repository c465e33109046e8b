using System.CommandLine;
using Proximal.Cli;

Proximal.MuJoCo.MuJoCoTasks.Register(); // the MuJoCo ids in the registry; libmujoco loads only when a task is built
var root = new RootCommand("Proximal: deep reinforcement learning for .NET (PPO and its family).");
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
root.Subcommands.Add(EnvsCommand.Create());
root.Subcommands.Add(Proximal.Cli.Train.TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
return await root.Parse(args).InvokeAsync();
