using System.CommandLine;
using Proximal.Cli;

foreach (var t in Proximal.MuJoCo.MuJoCoTasks.All) Proximal.Envs.EnvRegistry.Register(new Proximal.Envs.EnvSpec(t.Id, _ => t.Factory(), t.MaxEpisodeSteps, t.RewardThreshold), overwrite: true); // TEMP until MuJoCoTasks.Register merges
var root = new RootCommand("Proximal: deep reinforcement learning for .NET (PPO and its family).");
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
root.Subcommands.Add(EnvsCommand.Create());
root.Subcommands.Add(Proximal.Cli.Train.TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
return await root.Parse(args).InvokeAsync();
