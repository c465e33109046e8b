using System.Globalization;
using System.Xml.Linq;
using Proximal.Training.Logging;
using Proximal.Training.Runs;

namespace Proximal.Training.Plotting;

/// <summary>One run's curve: points (X[i], Y[i]) in logging order, labelled <see cref="Name"/> in the legend.</summary>
public sealed record LearningCurve(string Name, double[] X, double[] Y)
{
    public int Count => X.Length;
}

/// <summary>Look of a learning-curve SVG.</summary>
public sealed record PlotOptions
{
    public string? Title { get; init; }
    public string XLabel { get; init; } = "environment steps";
    public string? YLabel { get; init; }
    public int Width { get; init; } = 900;
    public int Height { get; init; } = 520;
}

/// <summary>
/// Learning curves of one or more runs as a self-contained SVG: axes with "nice" ticks and labels, one polyline per
/// run in a distinct colour, a legend with run names and a title. Reads each run's <c>progress.csv</c>.
/// Rows where x or y is empty (a metric not logged yet) or not finite are skipped; every other row is one point
/// (no downsampling).
/// </summary>
public static class LearningCurvePlot
{
    public const string DefaultXColumn = CsvLogger.StepColumn;
    public const string DefaultYColumn = "rollout/episode_return_mean";

    // Tableau 10: distinct hues that stay readable for colour-blind viewers; repeats after ten runs.
    private static readonly string[] Palette =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>
    /// Reads a run's curve from <paramref name="run"/>: a run folder (its <c>progress.csv</c>) or a CSV file.
    /// Throws <see cref="FileNotFoundException"/> naming the missing file, <see cref="InvalidDataException"/> naming
    /// the file and a missing column (listing those present) or a column without any values.
    /// </summary>
    public static LearningCurve LoadRun(string run, string yColumn = DefaultYColumn, string xColumn = DefaultXColumn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(run);
        string csv;
        string name;
        if (Directory.Exists(run))
        {
            csv = Path.Combine(run, RunDirectory.ProgressFileName);
            name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(run)));
            if (!File.Exists(csv)) throw new FileNotFoundException($"Run folder '{run}' has no {RunDirectory.ProgressFileName} (looked for '{csv}').", csv);
        }
        else if (File.Exists(run))
        {
            csv = run;
            string full = Path.GetFullPath(run);
            name = Path.GetFileName(Path.GetDirectoryName(full)) is { Length: > 0 } parent ? parent : Path.GetFileNameWithoutExtension(full);
        }
        else throw new FileNotFoundException($"'{run}' is neither a run folder nor a CSV file.", run);

        var table = CsvTable.Read(csv);
        double[] xs = table.GetDoubles(xColumn), ys = table.GetDoubles(yColumn);
        var px = new List<double>(xs.Length);
        var py = new List<double>(ys.Length);
        for (int i = 0; i < xs.Length; i++)
            if (double.IsFinite(xs[i]) && double.IsFinite(ys[i])) { px.Add(xs[i]); py.Add(ys[i]); }
        if (px.Count == 0)
            throw new InvalidDataException($"{csv}: column '{yColumn}' has no values yet ({table.Rows.Count} rows, none with both '{xColumn}' and '{yColumn}').");
        return new LearningCurve(name, px.ToArray(), py.ToArray());
    }

    /// <summary>Comment every SVG this class writes carries near its top; files without it are never overwritten silently.</summary>
    public const string Marker = "<!-- proximal plot: learning curves -->";

    /// <summary>Whether <paramref name="path"/> is a file this class wrote (it carries <see cref="Marker"/> in its first bytes).</summary>
    public static bool IsPlotFile(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var buffer = new byte[1024];
            int n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return System.Text.Encoding.UTF8.GetString(buffer, 0, n).Contains(Marker, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Loads every run, renders and writes the SVG to <paramref name="outputPath"/>. Returns the curves drawn.
    /// Refuses (<see cref="IOException"/>, nothing written) when <paramref name="outputPath"/> is one of the inputs or a folder,
    /// and, unless <paramref name="force"/>, when it is an existing file that is not a plot written here (<see cref="IsPlotFile"/>).
    /// </summary>
    public static IReadOnlyList<LearningCurve> WriteSvg(IReadOnlyList<string> runs, string outputPath,
        string yColumn = DefaultYColumn, string xColumn = DefaultXColumn, string? title = null, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        if (runs.Count == 0) throw new ArgumentException("Give at least one run folder or CSV file to plot.", nameof(runs));
        string target = Path.GetFullPath(outputPath);
        foreach (var run in runs)
        {
            string input = Path.TrimEndingDirectorySeparator(Path.GetFullPath(run));
            string csvPath = Directory.Exists(input) ? Path.Combine(input, RunDirectory.ProgressFileName) : input;
            if (string.Equals(target, input, StringComparison.Ordinal) || string.Equals(target, csvPath, StringComparison.Ordinal))
                throw new IOException($"refusing to write the plot to '{outputPath}': it is one of the inputs ({run}).");
        }
        if (Directory.Exists(target))
            throw new IOException($"'{outputPath}' is a folder; give the SVG file to write (e.g. {Path.Combine(outputPath, "curve.svg")}).");
        if (File.Exists(target) && !force && !IsPlotFile(target))
            throw new IOException($"refusing to overwrite '{outputPath}': it exists and is not a plot written by proximal (--force replaces it).");
        var curves = runs.Select(r => LoadRun(r, yColumn, xColumn)).ToList();
        string svg = RenderSvg(curves, new PlotOptions
        {
            Title = title ?? (curves.Count == 1 ? $"{yColumn}: {curves[0].Name}" : $"{yColumn} ({curves.Count} runs)"),
            XLabel = xColumn == DefaultXColumn ? "environment steps" : xColumn,
            YLabel = yColumn,
        });
        string? dir = Path.GetDirectoryName(target);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir ?? ".", $".{Path.GetFileName(target)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(temp, svg);
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Name the file the user asked for, not the temporary one.
            throw new IOException($"cannot write '{outputPath}': {(e is UnauthorizedAccessException ? "permission denied" : e.Message.Replace(temp, target))}", e);
        }
        finally { if (File.Exists(temp)) File.Delete(temp); }
        return curves;
    }

    /// <summary>
    /// Most points one curve's polyline draws: a longer curve (an off-policy run logs every env step, a million rows)
    /// draws this many of its points, evenly spaced by index, first and last included; a million-point polyline is a
    /// 40 MB file no viewer needs.
    /// </summary>
    public const int MaxPolylinePoints = 1000;

    /// <summary>The SVG document text for <paramref name="curves"/>. Legend names are made unique ("name (2)").</summary>
    public static string RenderSvg(IReadOnlyList<LearningCurve> curves, PlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(curves);
        options ??= new PlotOptions();
        if (curves.Count == 0) throw new ArgumentException("Nothing to plot: no curves.", nameof(curves));
        foreach (var c in curves)
        {
            if (c.X.Length != c.Y.Length) throw new ArgumentException($"Curve '{c.Name}' has {c.X.Length} x values but {c.Y.Length} y values.", nameof(curves));
            if (c.X.Length == 0) throw new ArgumentException($"Curve '{c.Name}' has no points.", nameof(curves));
            if (c.X.Any(v => !double.IsFinite(v)) || c.Y.Any(v => !double.IsFinite(v)))
                throw new ArgumentException($"Curve '{c.Name}' has a NaN or infinite point.", nameof(curves));
        }
        if (options.Width < 300 || options.Height < 200) throw new ArgumentException("Plot must be at least 300 x 200.", nameof(options));

        var names = UniqueNames(curves.Select(c => c.Name));
        const double left = 80, top = 48, bottom = 62;
        double legendWidth = Math.Clamp(names.Max(n => n.Length) * 7.2 + 44, 110, options.Width * 0.4);
        double right = legendWidth + 20;
        double plotW = options.Width - left - right, plotH = options.Height - top - bottom;

        var (xTicks, xMin, xMax) = NiceAxis(curves.Min(c => c.X.Min()), curves.Max(c => c.X.Max()));
        var (yTicks, yMin, yMax) = NiceAxis(curves.Min(c => c.Y.Min()), curves.Max(c => c.Y.Max()));
        double Px(double x) => left + (x - xMin) / (xMax - xMin) * plotW;
        double Py(double y) => top + plotH - (y - yMin) / (yMax - yMin) * plotH;

        var root = new XElement(Svg + "svg",
            new XAttribute("width", options.Width), new XAttribute("height", options.Height),
            new XAttribute("viewBox", $"0 0 {options.Width} {options.Height}"),
            new XAttribute("font-family", "sans-serif"), new XAttribute("font-size", 12));
        root.Add(new XElement(Svg + "rect", Attr("x", 0), Attr("y", 0), new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "white")));
        if (options.Title is { Length: > 0 } title)
            root.Add(Text(options.Width / 2.0, 28, title, "middle", 16, "title", bold: true));

        var grid = new XElement(Svg + "g", new XAttribute("class", "grid"), new XAttribute("stroke", "#e0e0e0"), new XAttribute("stroke-width", 1));
        var axes = new XElement(Svg + "g", new XAttribute("class", "axes"), new XAttribute("fill", "#333"));
        double xStep = xTicks.Length > 1 ? xTicks[1] - xTicks[0] : 1, yStep = yTicks.Length > 1 ? yTicks[1] - yTicks[0] : 1;
        foreach (double t in xTicks)
        {
            double px = Px(t);
            grid.Add(Line(px, top, px, top + plotH));
            axes.Add(Line(px, top + plotH, px, top + plotH + 5, "#333"));
            axes.Add(Text(px, top + plotH + 19, FormatTick(t, xStep), "middle", 11, "xtick"));
        }
        foreach (double t in yTicks)
        {
            double py = Py(t);
            grid.Add(Line(left, py, left + plotW, py));
            axes.Add(Line(left - 5, py, left, py, "#333"));
            axes.Add(Text(left - 8, py + 4, FormatTick(t, yStep), "end", 11, "ytick"));
        }
        axes.Add(new XElement(Svg + "rect", Attr("x", left), Attr("y", top), Attr("width", plotW), Attr("height", plotH),
            new XAttribute("fill", "none"), new XAttribute("stroke", "#333")));
        axes.Add(Text(left + plotW / 2, options.Height - 18, options.XLabel, "middle", 13, "xlabel"));
        if (options.YLabel is { Length: > 0 } yLabel)
        {
            double cx = 20, cy = top + plotH / 2;
            var label = Text(cx, cy, yLabel, "middle", 13, "ylabel");
            label.Add(new XAttribute("transform", $"rotate(-90 {F(cx)} {F(cy)})"));
            axes.Add(label);
        }
        root.Add(grid, axes);

        var lines = new XElement(Svg + "g", new XAttribute("class", "curves"), new XAttribute("fill", "none"),
            new XAttribute("stroke-width", 1.8), new XAttribute("stroke-linejoin", "round"));
        var legend = new XElement(Svg + "g", new XAttribute("class", "legend"));
        double lx = left + plotW + 20;
        for (int i = 0; i < curves.Count; i++)
        {
            var c = curves[i];
            string colour = Palette[i % Palette.Length];
            int drawn = Math.Min(c.Count, MaxPolylinePoints);
            var pts = new System.Text.StringBuilder(drawn * 16);
            for (int j = 0; j < drawn; j++)
            {
                int k = drawn == c.Count ? j : (int)((long)j * (c.Count - 1) / (drawn - 1));
                if (j > 0) pts.Append(' ');
                pts.Append(F(Px(c.X[k]))).Append(',').Append(F(Py(c.Y[k])));
            }
            lines.Add(new XElement(Svg + "polyline", new XAttribute("stroke", colour), new XAttribute("points", pts.ToString()),
                new XAttribute("data-run", names[i]), new XElement(Svg + "title", names[i])));
            double ly = top + 10 + i * 20;
            var entry = new XElement(Svg + "g", new XAttribute("class", "legend-entry"));
            entry.Add(new XElement(Svg + "line", Attr("x1", lx), Attr("y1", ly), Attr("x2", lx + 22), Attr("y2", ly),
                new XAttribute("stroke", colour), new XAttribute("stroke-width", 3)));
            entry.Add(Text(lx + 28, ly + 4, names[i], "start", 12, "legend-label"));
            legend.Add(entry);
        }
        root.Add(lines, legend);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root).Declaration + "\n" + Marker + "\n" + root.ToString(SaveOptions.None) + "\n";
    }

    /// <summary>
    /// Ticks at 1, 2 or 5 × 10^k covering [min, max] with about six intervals; the axis range is widened to the outer ticks.
    /// A flat range (one point, constant curve) is widened around its value first.
    /// </summary>
    internal static (double[] Ticks, double Min, double Max) NiceAxis(double min, double max)
    {
        if (max - min < 1e-12 * Math.Max(1, Math.Abs(max)))
        {
            double pad = Math.Abs(min) > 0 ? Math.Abs(min) * 0.1 : 1;
            min -= pad; max += pad;
        }
        double step = NiceNumber((max - min) / 6);
        double lo = Math.Floor(min / step) * step, hi = Math.Ceiling(max / step) * step;
        int n = (int)Math.Round((hi - lo) / step);
        var ticks = new double[n + 1];
        for (int i = 0; i <= n; i++)
        {
            ticks[i] = lo + i * step;
            if (Math.Abs(ticks[i]) < step * 1e-9) ticks[i] = 0; // avoid "-0" and 1e-17 from rounding
        }
        return (ticks, lo, hi);
    }

    private static double NiceNumber(double rough)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double f = rough / magnitude;
        double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
        return nice * magnitude;
    }

    /// <summary>Tick text: 1.5M / 200k for large values, otherwise as many decimals as the tick spacing needs.</summary>
    internal static string FormatTick(double value, double step)
    {
        double a = Math.Max(Math.Abs(value), step);
        if (a >= 1e9 && step >= 1e7) return Scaled(value, step, 1e9, "G");
        if (a >= 1e6 && step >= 1e4) return Scaled(value, step, 1e6, "M");
        if (a >= 1e4 && step >= 100) return Scaled(value, step, 1e3, "k");
        int decimals = Math.Clamp((int)Math.Ceiling(-Math.Log10(step) - 1e-9), 0, 10);
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    private static string Scaled(double value, double step, double unit, string suffix)
    {
        int decimals = Math.Clamp((int)Math.Ceiling(-Math.Log10(step / unit) - 1e-9), 0, 6);
        return (value / unit).ToString("F" + decimals, CultureInfo.InvariantCulture) + suffix;
    }

    private static List<string> UniqueNames(IEnumerable<string> names)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var raw in names)
        {
            string n = string.IsNullOrWhiteSpace(raw) ? "run" : raw;
            if (seen.TryGetValue(n, out int count)) { seen[n] = count + 1; result.Add($"{n} ({count + 1})"); }
            else { seen[n] = 1; result.Add(n); }
        }
        return result;
    }

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static XAttribute Attr(string name, double v) => new(name, F(v));

    private static XElement Line(double x1, double y1, double x2, double y2, string? stroke = null)
    {
        var e = new XElement(Svg + "line", Attr("x1", x1), Attr("y1", y1), Attr("x2", x2), Attr("y2", y2));
        if (stroke is not null) e.Add(new XAttribute("stroke", stroke));
        return e;
    }

    private static XElement Text(double x, double y, string text, string anchor, double size, string cls, bool bold = false)
    {
        var e = new XElement(Svg + "text", Attr("x", x), Attr("y", y), new XAttribute("text-anchor", anchor),
            new XAttribute("font-size", F(size)), new XAttribute("class", cls), text);
        if (bold) e.Add(new XAttribute("font-weight", "bold"));
        return e;
    }
}
