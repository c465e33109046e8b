using System.Xml.Linq;
using Proximal.Training.Logging;
using Proximal.Training.Plotting;

namespace Proximal.Tests.Training;

public sealed class LearningCurvePlotTests : IDisposable
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private string MakeRun(string name, int rows, int firstEpisodeRow = 0, double scale = 1)
    {
        string run = Path.Combine(_dir, name);
        using var log = new CsvLogger(Path.Combine(run, "progress.csv"));
        for (int i = 0; i < rows; i++)
        {
            var m = new Dictionary<string, double> { ["loss"] = 1.0 / (i + 1) };
            if (i >= firstEpisodeRow) m["rollout/episode_return_mean"] = scale * Math.Sqrt(i);
            log.Write((i + 1) * 2048L, m);
        }
        return run;
    }

    [Fact]
    public void SvgHasOnePolylinePerRunWithTheRightPointsAndLegend()
    {
        string a = MakeRun("CartPole-v1__ppo__1__20250101-000000", 50, firstEpisodeRow: 3);
        string b = MakeRun("CartPole-v1__ppo__2__20250101-000000", 20, scale: 3);
        string @out = Path.Combine(_dir, "plots", "curve.svg");
        var curves = LearningCurvePlot.WriteSvg([a, Path.Combine(b, "progress.csv")], @out);
        Assert.Equal([47, 20], curves.Select(c => c.Count));

        var doc = XDocument.Load(@out);
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        var polylines = doc.Descendants(Svg + "polyline").ToList();
        Assert.Equal(2, polylines.Count);
        Assert.Equal(47, polylines[0].Attribute("points")!.Value.Split(' ').Length);
        Assert.Equal(20, polylines[1].Attribute("points")!.Value.Split(' ').Length);
        Assert.NotEqual(polylines[0].Attribute("stroke")!.Value, polylines[1].Attribute("stroke")!.Value);

        var legend = doc.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "legend-label").Select(t => t.Value).ToList();
        Assert.Equal(["CartPole-v1__ppo__1__20250101-000000", "CartPole-v1__ppo__2__20250101-000000"], legend);
        Assert.Contains(doc.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "title" && t.Value.Contains("episode_return_mean"));
        Assert.True(doc.Descendants(Svg + "text").Count(t => (string?)t.Attribute("class") == "xtick") >= 3);
        Assert.True(doc.Descendants(Svg + "text").Count(t => (string?)t.Attribute("class") == "ytick") >= 3);

        // Every point lies inside the plot frame.
        var frame = doc.Descendants(Svg + "rect").Single(r => (string?)r.Attribute("fill") == "none");
        double fx = (double)frame.Attribute("x")!, fy = (double)frame.Attribute("y")!, fw = (double)frame.Attribute("width")!, fh = (double)frame.Attribute("height")!;
        foreach (var p in polylines.SelectMany(l => l.Attribute("points")!.Value.Split(' ')))
        {
            var xy = p.Split(',').Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.InRange(xy[0], fx - 0.01, fx + fw + 0.01);
            Assert.InRange(xy[1], fy - 0.01, fy + fh + 0.01);
        }
    }

    [Fact]
    public void ExplicitColumnAndDuplicateNamesAndEscaping()
    {
        var curves = new[]
        {
            new LearningCurve("a<b>&\"c\"", [0, 1, 2], [3, 2, 1]),
            new LearningCurve("a<b>&\"c\"", [5], [5]),
        };
        string svg = LearningCurvePlot.RenderSvg(curves, new PlotOptions { Title = "loss & more", YLabel = "loss" });
        var doc = XDocument.Parse(svg);
        var legend = doc.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "legend-label").Select(t => t.Value).ToList();
        Assert.Equal(["a<b>&\"c\"", "a<b>&\"c\" (2)"], legend);
        Assert.Single(doc.Descendants(Svg + "polyline").Last().Attribute("points")!.Value.Split(' '));

        string run = MakeRun("r", 5);
        var loss = LearningCurvePlot.LoadRun(run, yColumn: "loss");
        Assert.Equal(5, loss.Count);
        Assert.Equal(1.0, loss.Y[0]);
        Assert.Equal(2048.0, loss.X[0]);
    }

    [Fact]
    public void MissingFileOrColumnNamesIt()
    {
        var e1 = Assert.Throws<FileNotFoundException>(() => LearningCurvePlot.LoadRun(Path.Combine(_dir, "nope")));
        Assert.Contains("nope", e1.Message);
        Directory.CreateDirectory(Path.Combine(_dir, "emptyrun"));
        var e2 = Assert.Throws<FileNotFoundException>(() => LearningCurvePlot.LoadRun(Path.Combine(_dir, "emptyrun")));
        Assert.Contains("has no progress.csv", e2.Message);
        string run = MakeRun("r", 3);
        var e3 = Assert.Throws<InvalidDataException>(() => LearningCurvePlot.LoadRun(run, yColumn: "eval_return"));
        Assert.Contains("progress.csv has no column 'eval_return' (columns: step, loss, rollout/episode_return_mean)", e3.Message);
        string early = Path.Combine(_dir, "early.csv");
        File.WriteAllText(early, "step,rollout/episode_return_mean\n2048,\n4096,\n");
        var e4 = Assert.Throws<InvalidDataException>(() => LearningCurvePlot.LoadRun(early));
        Assert.Contains("early.csv: column 'rollout/episode_return_mean' has no values yet (2 rows", e4.Message);
    }

    [Fact]
    public void NiceTicksCoverTheDataWithRoundSteps()
    {
        foreach (var (lo, hi) in new[] { (0.0, 1_000_000.0), (-200.0, 500.0), (0.013, 0.091), (5.0, 5.0), (-3.0, -3.0), (1e-9, 2e-9) })
        {
            var (ticks, min, max) = LearningCurvePlot.NiceAxis(lo, hi);
            Assert.True(min <= lo && max >= hi);
            Assert.InRange(ticks.Length, 3, 14);
            double step = ticks[1] - ticks[0];
            double mant = step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9));
            Assert.Contains(Math.Round(mant, 6), new[] { 1.0, 2.0, 5.0, 10.0 });
        }
        Assert.Equal("1.5M", LearningCurvePlot.FormatTick(1_500_000, 500_000));
        Assert.Equal("200k", LearningCurvePlot.FormatTick(200_000, 100_000));
        Assert.Equal("0.05", LearningCurvePlot.FormatTick(0.05, 0.01));
        Assert.Equal("-100", LearningCurvePlot.FormatTick(-100, 50));
    }
}
