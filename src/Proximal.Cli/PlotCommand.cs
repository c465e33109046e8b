using System.CommandLine;
using Proximal.Training.Plotting;

namespace Proximal.Cli;

/// <summary><c>proximal plot RUN_DIR... --out curve.svg [--y column] [--x column] [--title text]</c>: learning curves as SVG.</summary>
internal static class PlotCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs")
        {
            Description = "Run folders (each with a progress.csv) or CSV files to plot, one curve each.",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string>("--out", "-o")
        {
            Description = "SVG file to write.",
            DefaultValueFactory = _ => "curve.svg",
        };
        var y = new Option<string>("--y")
        {
            Description = "Column for the vertical axis.",
            DefaultValueFactory = _ => LearningCurvePlot.DefaultYColumn,
        };
        var x = new Option<string>("--x")
        {
            Description = "Column for the horizontal axis.",
            DefaultValueFactory = _ => LearningCurvePlot.DefaultXColumn,
        };
        var title = new Option<string?>("--title") { Description = "Plot title (default: the column and run names)." };
        var force = new Option<bool>("--force") { Description = "Overwrite --out even when it is not a plot written by proximal (never one of the inputs)." };

        var cmd = new Command("plot", "Plot learning curves of one or more runs to an SVG file.");
        cmd.Arguments.Add(runs);
        cmd.Options.Add(output);
        cmd.Options.Add(y);
        cmd.Options.Add(x);
        cmd.Options.Add(title);
        cmd.Options.Add(force);
        cmd.SetAction(pr =>
        {
            string outPath = pr.GetValue(output)!;
            try
            {
                var curves = LearningCurvePlot.WriteSvg(pr.GetValue(runs) ?? [], outPath,
                    pr.GetValue(y)!, pr.GetValue(x)!, pr.GetValue(title), pr.GetValue(force));
                Console.WriteLine($"wrote {outPath} ({curves.Count} run{(curves.Count == 1 ? "" : "s")}, " +
                                  $"{curves.Sum(c => c.Count)} points)");
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
                return CliParsing.ExitUsage;
            }
        });
        return cmd;
    }
}
