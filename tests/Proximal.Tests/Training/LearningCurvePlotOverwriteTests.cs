using Proximal.Training.Plotting;

namespace Proximal.Tests.Training;

public sealed class LearningCurvePlotOverwriteTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private string Run()
    {
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "progress.csv"), "step,rollout/episode_return_mean\n256,10\n512,20\n");
        File.WriteAllText(Path.Combine(run, "model.zip"), "not a plot");
        return run;
    }

    [Fact]
    public void RefusesToWriteOverAnInputEvenWithForce()
    {
        string run = Run();
        string csv = Path.Combine(run, "progress.csv");
        string before = File.ReadAllText(csv);
        foreach (bool force in new[] { false, true })
        {
            var e = Assert.Throws<IOException>(() => LearningCurvePlot.WriteSvg([run], csv, force: force));
            Assert.Contains("it is one of the inputs", e.Message);
            Assert.Throws<IOException>(() => LearningCurvePlot.WriteSvg([csv], csv, force: force));
        }
        Assert.Equal(before, File.ReadAllText(csv));
    }

    [Fact]
    public void RefusesToOverwriteAFileThatIsNotItsPlotUnlessForced()
    {
        string run = Run();
        string model = Path.Combine(run, "model.zip");
        var e = Assert.Throws<IOException>(() => LearningCurvePlot.WriteSvg([run], model));
        Assert.Contains("not a plot written by proximal", e.Message);
        Assert.Equal("not a plot", File.ReadAllText(model));
        Assert.Contains("is a folder", Assert.Throws<IOException>(() => LearningCurvePlot.WriteSvg([run], _dir)).Message);
        var unwritable = Assert.Throws<IOException>(() => LearningCurvePlot.WriteSvg([run], "/proc/curve.svg"));
        Assert.StartsWith("cannot write '/proc/curve.svg'", unwritable.Message);
        Assert.DoesNotContain(".tmp", unwritable.Message);

        // Its own plots are replaced freely; --force replaces anything that is not an input.
        string svg = Path.Combine(_dir, "curve.svg");
        LearningCurvePlot.WriteSvg([run], svg);
        Assert.True(LearningCurvePlot.IsPlotFile(svg));
        LearningCurvePlot.WriteSvg([run], svg, title: "again");
        Assert.Contains("again", File.ReadAllText(svg));
        LearningCurvePlot.WriteSvg([run], model, force: true);
        Assert.True(LearningCurvePlot.IsPlotFile(model));
    }
}
