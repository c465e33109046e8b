using System.CommandLine;
using Proximal.Cli;

var root = new RootCommand("Proximal: deep reinforcement learning for .NET (PPO and its family).");
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
root.Subcommands.Add(EnvsCommand.Create());
Proximal.MuJoCo.MuJoCoTasks.Register(); // the MuJoCo ids in the registry; libmujoco loads only when a task is built
return await root.Parse(args).InvokeAsync();
