using System.CommandLine;
using Proximal.Cli;

Proximal.MuJoCo.MuJoCoTasks.Register(); // the MuJoCo ids in the registry; libmujoco loads only when a task is built
var root = new RootCommand("Proximal: deep reinforcement learning for .NET (PPO and its family).");
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
root.Subcommands.Add(EnvsCommand.Create());
root.Subcommands.Add(Proximal.Cli.Train.TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PlayCommand.Create());

var parse = root.Parse(args);
// A bad command line is one line naming the problem (not the parser's list of errors followed by the whole help), exit 2.
// --help and --version are actions, not errors, and run as usual.
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine(CliParsing.DescribeParseErrors(parse));
    return CliParsing.ExitUsage;
}
try
{
    // Signals (Ctrl-C, SIGTERM, SIGHUP) are handled by the commands themselves (train saves the model first), not by
    // System.CommandLine's default of cancelling and then killing the process two seconds later.
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
}
catch (Exception e)
{
    // Last resort: every expected problem is reported by the command itself. Still one line, never a stack trace.
    Console.Error.WriteLine($"error: internal error: {e.Message.ReplaceLineEndings(" ")} (a bug in proximal; please report it with the command line). " +
                            "Set PROXIMAL_DEBUG=1 for details.");
    if (Environment.GetEnvironmentVariable("PROXIMAL_DEBUG") == "1") Console.Error.WriteLine(e);
    return 1;
}
