using System.Diagnostics;
using System.Globalization;
using Proximal.Training.Runs;
using Proximal.Training.Sessions;
using Spectre.Console;

namespace Proximal.Cli.Train;

/// <summary>Draws a session's <see cref="TrainingProgress"/>: a live Spectre.Console bar on a terminal, plain lines otherwise.</summary>
internal static class ProgressDisplay
{
    /// <summary>Seconds between plain progress lines (evaluations are always printed).</summary>
    private const double PlainIntervalSeconds = 10;

    public static TrainingResult RunLive(TrainingSession session, RunDirectory run, Interrupts interrupts)
    {
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new ProgressBarColumn { Width = 24 }, new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting…", maxValue: session.StepsToTrain);
                string? notice = null;
                string last = "starting…";
                interrupts.Notify = text =>
                {
                    notice = text;
                    task.Description = last + " [yellow]" + Markup.Escape(text) + "[/]";
                };
                var reporter = new Reporter(p =>
                {
                    task.Value = Math.Min(p.Steps - p.StartSteps, session.StepsToTrain);
                    last = Markup.Escape(Describe(p, compact: true));
                    task.Description = notice is null ? last : last + " [yellow]" + Markup.Escape(notice) + "[/]";
                });
                try
                {
                    result = session.Run(run, reporter, interrupts.Token);
                }
                finally
                {
                    interrupts.Notify = SafeConsole.Line;
                }
                // The bar shows where training stopped: 100 % only when all the steps were done.
                long done = result.StepsThisSession;
                task.Value = result.Cancelled ? Math.Min(done, session.StepsToTrain - 1) : task.MaxValue;
                if (result.Cancelled)
                    task.Description = Markup.Escape($"stopped at {result.Steps:N0} ({done:N0}/{session.StepsToTrain:N0} of this run) by {interrupts.First ?? "an interrupt"}; model saved");
                ctx.Refresh();
            });
        return result!;
    }

    public static TrainingResult RunPlain(TrainingSession session, RunDirectory run, Interrupts interrupts)
    {
        var sinceLine = Stopwatch.StartNew();
        long printed = -1;
        var reporter = new Reporter(p =>
        {
            if (p.Steps == printed) return; // the closing report repeats the last update's
            if (!p.EvaluatedThisIteration && sinceLine.Elapsed.TotalSeconds < PlainIntervalSeconds && p.Steps < p.TargetSteps) return;
            sinceLine.Restart();
            printed = p.Steps;
            SafeConsole.Line(Describe(p));
        });
        return session.Run(run, reporter, interrupts.Token);
    }

    /// <summary>"12,288/150,000 steps · 3,412 steps/s · ETA 0:40 · return 23.5 · eval 9.4 ± 0.5 @ 10,240".</summary>
    /// <param name="compact">Shorter form for the live bar (fits an 80-column terminal next to the bar).</param>
    public static string Describe(TrainingProgress p, bool compact = false)
    {
        var c = CultureInfo.InvariantCulture;
        string eta = p.Eta is { } t ? TrainCommand.Format(t) : "?";
        string ret = double.IsFinite(p.RecentMeanReturn) ? p.RecentMeanReturn.ToString("F1", c) : "-";
        if (compact)
        {
            string s = string.Format(c, "{0:N0}/{1:N0} · {2:N0}/s · ETA {3} · ret {4}", p.Steps, p.TargetSteps, p.StepsPerSecond, eta, ret);
            return p.LastEvaluation is { } ce ? s + string.Format(c, " · eval {0:F1}±{1:F1}", ce.MeanReturn, ce.StdReturn) : s;
        }
        string text = string.Format(c, "{0:N0}/{1:N0} steps · {2:N0} steps/s · ETA {3} · return {4}", p.Steps, p.TargetSteps, p.StepsPerSecond, eta, ret);
        if (p.LastEvaluation is { } e)
            text += string.Format(c, " · eval {0:F1} ± {1:F1} @ {2:N0}", e.MeanReturn, e.StdReturn, p.LastEvaluationStep);
        return text;
    }

    /// <summary>Runs the handler on the reporting (training) thread; Progress&lt;T&gt; would post to the thread pool and reorder.</summary>
    private sealed class Reporter(Action<TrainingProgress> handler) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => handler(value);
    }
}
