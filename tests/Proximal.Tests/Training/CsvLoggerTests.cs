using Proximal.Training.Logging;

namespace Proximal.Tests.Training;

public sealed class CsvLoggerTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private static Dictionary<string, double> M(params (string Key, double Value)[] kv) => kv.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public void StableColumnsAndEmptyCellsForMissingMetrics()
    {
        string path = Path.Combine(_dir, "progress.csv");
        using (var log = new CsvLogger(path))
        {
            log.Write(100, M(("loss", 1.5), ("lr", 3e-4)));
            log.Write(200, M(("lr", 2e-4)));
            Assert.Equal(["step", "loss", "lr"], log.Columns);
        }
        Assert.Equal("step,loss,lr\n100,1.5,0.0003\n200,,0.0002\n", File.ReadAllText(path));
    }

    [Fact]
    public void NewKeyRewritesFileWithUnionHeader()
    {
        string path = Path.Combine(_dir, "progress.csv");
        using var log = new CsvLogger(path);
        log.Write(1, M(("loss", 1)));
        log.Write(2, M(("loss", 2)));
        log.Write(3, M(("episode_return_mean", 9.5), ("loss", 3)));
        log.Write(4, M(("loss", 4)));
        Assert.Equal("step,loss,episode_return_mean\n1,1,\n2,2,\n3,3,9.5\n4,4,\n", ReadShared(path));
        Assert.False(File.Exists(path + ".tmp"));
        var table = CsvTable.Read(path);
        Assert.Equal(new[] { 1.0, 2, 3, 4 }, table.GetDoubles("step"));
        var ret = table.GetDoubles("episode_return_mean");
        Assert.True(double.IsNaN(ret[0]) && double.IsNaN(ret[1]) && double.IsNaN(ret[3]));
        Assert.Equal(9.5, ret[2]);
    }

    [Fact]
    public void NumbersRoundTripBitExactInInvariantCulture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
            var rng = new Proximal.Numerics.Rng(3);
            var values = new List<double> { 0.1, 1.0 / 3, (double)0.1f, 1e-300, -1e300, double.Epsilon, double.NaN,
                double.PositiveInfinity, double.NegativeInfinity, -0.0, 12345678901234567890.0 };
            for (int i = 0; i < 200; i++) values.Add((rng.NextDouble() - 0.5) * Math.Pow(10, rng.NextInt(40) - 20));
            string path = Path.Combine(_dir, "p.csv");
            using (var log = new CsvLogger(path))
                for (int i = 0; i < values.Count; i++) log.Write(i, M(("v", values[i])));
            var back = CsvTable.Read(path).GetDoubles("v");
            for (int i = 0; i < values.Count; i++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(values[i]), BitConverter.DoubleToInt64Bits(back[i]));
        }
        finally { System.Globalization.CultureInfo.CurrentCulture = saved; }
    }

    [Fact]
    public void KeysNeedingQuotesAreEscapedAndParsedBack()
    {
        string path = Path.Combine(_dir, "p.csv");
        using (var log = new CsvLogger(path)) log.Write(5, M(("a,b", 1), ("say \"hi\"", 2)));
        var t = CsvTable.Read(path);
        Assert.Equal(["step", "a,b", "say \"hi\""], t.Columns);
        Assert.Equal([2.0], t.GetDoubles("say \"hi\""));
    }

    [Fact]
    public void AppendKeepsExistingRowsAndHeader()
    {
        string path = Path.Combine(_dir, "p.csv");
        using (var log = new CsvLogger(path)) log.Write(1, M(("x", 1)));
        using (var log = new CsvLogger(path, append: true))
        {
            Assert.Equal(["step", "x"], log.Columns);
            log.Write(2, M(("x", 2), ("y", 7)));
        }
        Assert.Equal("step,x,y\n1,1,\n2,2,7\n", File.ReadAllText(path));
    }

    [Fact]
    public void ReservedAndEmptyKeysAreRejected()
    {
        using var log = new CsvLogger(Path.Combine(_dir, "p.csv"));
        Assert.Contains("'step' is reserved", Assert.Throws<ArgumentException>(() => log.Write(1, M(("step", 1)))).Message);
    }

    [Fact]
    public void ReaderReportsRaggedRowsAndDropsAnUnfinishedLastRow()
    {
        var t = CsvTable.Parse(new StringReader("step,a\r\n1,2\r\n3,"), "live.csv");
        Assert.Equal(2, t.Rows.Count); // "3," has two fields: complete, a value not yet known
        var unfinished = CsvTable.Parse(new StringReader("step,a,b\n1,2,3\n4,5"), "live.csv");
        Assert.Single(unfinished.Rows);
        var ex = Assert.Throws<InvalidDataException>(() => CsvTable.Parse(new StringReader("step,a\n1,2,3\n4,5\n"), "bad.csv"));
        Assert.Contains("bad.csv:2", ex.Message);
        var missing = Assert.Throws<InvalidDataException>(() => CsvTable.Parse(new StringReader("step,a\n1,2\n"), "f.csv").ColumnIndex("zz"));
        Assert.Contains("f.csv has no column 'zz'", missing.Message);
        var nan = Assert.Throws<InvalidDataException>(() => CsvTable.Parse(new StringReader("step,a\n1,x\n"), "f.csv").GetDoubles("a"));
        Assert.Contains("'x' is not a number", nan.Message);
    }

    private static string ReadShared(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(s).ReadToEnd();
    }
}
