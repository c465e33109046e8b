using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Proximal.Numerics;
using Proximal.Common.Persistence;

namespace Proximal.Tests.Training;

public sealed class ModelArchiveTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private static ModelArray[] SampleArrays(int seed = 1)
    {
        var rng = new Rng((ulong)seed);
        var f = new float[1000];
        for (int i = 0; i < f.Length; i++) f[i] = (float)(rng.NextGaussian() * 3);
        f[0] = float.NaN; f[1] = -0.0f; f[2] = float.Epsilon; f[3] = float.PositiveInfinity;
        var d = new double[33];
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() - 0.5;
        d[0] = BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_1234); // NaN payload must survive
        var l = new long[] { long.MinValue, -1, 0, 1, long.MaxValue };
        var u = rng.GetState();
        return [new("policy/params", f), new("obs_rms.mean", d), new("counters", l), new("rng_state", u), new("empty", Array.Empty<float>())];
    }

    private static JsonObject SampleMeta() => new()
    {
        ["algo"] = "ppo",
        ["env_id"] = "CartPole-v1",
        ["obs_dim"] = 4,
        ["hyperparameters"] = new JsonObject { ["learning_rate"] = 3e-4, ["hidden"] = new JsonArray(64, 64) },
    };

    [Fact]
    public void RoundTripIsBitExact()
    {
        string path = Path.Combine(_dir, "model.zip");
        var arrays = SampleArrays();
        var meta = SampleMeta();
        string metaBefore = meta.ToJsonString();
        ModelArchive.Save(path, meta, arrays);
        Assert.Equal(metaBefore, meta.ToJsonString()); // the caller's object is not modified

        var loaded = ModelArchive.Load(path);
        Assert.Equal(ModelArchive.FormatVersion, loaded.FormatVersion);
        Assert.Equal(metaBefore, loaded.Metadata.ToJsonString());
        Assert.Equal(arrays.Select(a => a.Name), loaded.Arrays.Select(a => a.Name));
        Assert.Equal(arrays[0].Float32.ToArray().Select(BitConverter.SingleToInt32Bits), loaded.GetFloat32("policy/params", 1000).ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(arrays[1].Float64.ToArray().Select(BitConverter.DoubleToInt64Bits), loaded.GetFloat64("obs_rms.mean").ToArray().Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(arrays[2].Int64.ToArray(), loaded.GetInt64("counters").ToArray());
        Assert.Equal(arrays[3].UInt64.ToArray(), loaded.GetUInt64("rng_state").ToArray());
        Assert.Equal(0, loaded.Get("empty").Length);

        // On disk: little-endian raw elements and a manifest naming dtype and length.
        using var zip = ZipFile.OpenRead(path);
        var raw = new byte[8];
        using (var s = zip.GetEntry("arrays/counters.bin")!.Open()) s.ReadExactly(raw);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x80 }, raw);
        var manifest = JsonNode.Parse(zip.GetEntry("metadata.json")!.Open())!;
        Assert.Equal(1, (int)manifest["format_version"]!);
        Assert.Equal("float32", (string)manifest["arrays"]![0]!["dtype"]!);
        Assert.Equal(1000, (int)manifest["arrays"]![0]!["length"]!);
    }

    [Fact]
    public void WrongDTypeOrLengthOnAccessIsNamed()
    {
        string path = Path.Combine(_dir, "m.zip");
        ModelArchive.Save(path, null, SampleArrays());
        var m = ModelArchive.Load(path);
        Assert.Contains("'policy/params' holds float32, expected float64", Assert.Throws<ModelFileException>(() => m.GetFloat64("policy/params")).Message);
        Assert.Contains("has 1000 elements, expected 999", Assert.Throws<ModelFileException>(() => m.GetFloat32("policy/params", 999)).Message);
        Assert.Contains("no array 'value/params' (arrays: policy/params, obs_rms.mean", Assert.Throws<ModelFileException>(() => m.Get("value/params")).Message);
    }

    [Fact]
    public void TruncatedOrForeignFilesAreNotProximalModels()
    {
        string path = Path.Combine(_dir, "m.zip");
        ModelArchive.Save(path, SampleMeta(), SampleArrays());
        byte[] full = File.ReadAllBytes(path);
        foreach (int keep in new[] { 0, 10, full.Length / 2, full.Length - 30, full.Length - 1 })
        {
            string cut = Path.Combine(_dir, $"cut{keep}.zip");
            File.WriteAllBytes(cut, full[..keep]);
            var e = Assert.Throws<ModelFileException>(() => ModelArchive.Load(cut));
            Assert.Contains($"model file {cut}", e.Message);
            Assert.Equal(cut, e.FilePath);
        }
        string text = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(text, "hello");
        Assert.Contains($"model file {text} is not a Proximal model (not a valid zip", Assert.Throws<ModelFileException>(() => ModelArchive.Load(text)).Message);

        string otherZip = Path.Combine(_dir, "other.zip");
        using (var z = ZipFile.Open(otherZip, ZipArchiveMode.Create)) z.CreateEntry("readme.md");
        Assert.Contains("is not a Proximal model (it has no metadata.json entry)", Assert.Throws<ModelFileException>(() => ModelArchive.Load(otherZip)).Message);
        Assert.Contains("does not exist", Assert.Throws<ModelFileException>(() => ModelArchive.Load(Path.Combine(_dir, "none.zip"))).Message);
    }

    [Fact]
    public void FlippedDataByteFailsTheChecksumAndNamesFileAndEntry()
    {
        string path = Path.Combine(_dir, "m.zip");
        var f = new float[256];
        for (int i = 0; i < f.Length; i++) f[i] = i * 0.25f;
        ModelArchive.Save(path, null, [new ModelArray("w", f)]);
        byte[] bytes = File.ReadAllBytes(path);
        // Locate the stored float data (entry is uncompressed) and flip one bit in the middle of it.
        byte[] needle = BitConverter.GetBytes(100 * 0.25f).Concat(BitConverter.GetBytes(101 * 0.25f)).ToArray();
        int at = bytes.AsSpan().IndexOf(needle);
        Assert.True(at > 0);
        bytes[at + 1] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFileException>(() => ModelArchive.Load(path));
        Assert.Contains($"model file {path}", e.Message);
        Assert.Contains("arrays/w.bin", e.Message);
    }

    [Fact]
    public void EveryFlippedByteEitherLoadsIdenticallyOrFailsWithModelFileException()
    {
        string path = Path.Combine(_dir, "m.zip");
        ModelArchive.Save(path, new JsonObject { ["k"] = "v" }, [new ModelArray("a", new float[] { 1, 2, 3 }), new ModelArray("b", new long[] { 7 })]);
        byte[] good = File.ReadAllBytes(path);
        string bad = Path.Combine(_dir, "bad.zip");
        int failures = 0;
        for (int i = 0; i < good.Length; i++)
        {
            var bytes = (byte[])good.Clone();
            bytes[i] ^= 0x04;
            File.WriteAllBytes(bad, bytes);
            try
            {
                var m = ModelArchive.Load(bad);
                // Undetected flips are only allowed where they cannot change what is loaded (timestamps, version-made-by...).
                Assert.Equal([1f, 2, 3], m.GetFloat32("a").ToArray());
                Assert.Equal([7L], m.GetInt64("b").ToArray());
                Assert.Equal("{\"k\":\"v\"}", m.Metadata.ToJsonString());
            }
            catch (ModelFileException e) { failures++; Assert.Contains(bad, e.Message); }
        }
        Assert.True(failures > good.Length / 3, $"only {failures} of {good.Length} flips detected");
    }

    [Fact]
    public void MissingEntryLengthMismatchUnknownDTypeAndNewerVersionAreNamed()
    {
        string Build(string name, Action<JsonObject> editMeta, Func<string, bool>? keepEntry = null, Func<string, byte[], byte[]>? editEntry = null)
        {
            string src = Path.Combine(_dir, "src.zip");
            ModelArchive.Save(src, SampleMeta(), SampleArrays());
            string dst = Path.Combine(_dir, name);
            using (var input = ZipFile.OpenRead(src))
            using (var output = ZipFile.Open(dst, ZipArchiveMode.Create))
            {
                foreach (var entry in input.Entries)
                {
                    if (keepEntry is not null && !keepEntry(entry.FullName)) continue;
                    using var ms = new MemoryStream();
                    using (var s = entry.Open()) s.CopyTo(ms);
                    byte[] data = ms.ToArray();
                    if (entry.FullName == "metadata.json")
                    {
                        var meta = JsonNode.Parse(data)!.AsObject();
                        editMeta(meta);
                        data = Encoding.UTF8.GetBytes(meta.ToJsonString());
                    }
                    if (editEntry is not null) data = editEntry(entry.FullName, data);
                    using var o = output.CreateEntry(entry.FullName).Open();
                    o.Write(data);
                }
            }
            return dst;
        }
        string Message(string p) => Assert.Throws<ModelFileException>(() => ModelArchive.Load(p)).Message;

        var missing = Build("missing.zip", _ => { }, n => n != "arrays/counters.bin");
        Assert.Contains("array 'counters' is listed in metadata.json but entry arrays/counters.bin is missing", Message(missing));

        var shorter = Build("short.zip", _ => { }, editEntry: (n, d) => n == "arrays/obs_rms.mean.bin" ? d[..^8] : d);
        Assert.Contains("entry arrays/obs_rms.mean.bin holds 256 bytes but the manifest says 33 x float64 = 264 bytes", Message(shorter));

        var dtype = Build("dtype.zip", m => m["arrays"]![1]!["dtype"] = "complex64");
        Assert.Contains("array 'obs_rms.mean' has unknown dtype 'complex64' (known: float32, float64, int64, uint64)", Message(dtype));

        var newer = Build("newer.zip", m => m["format_version"] = 2);
        Assert.Contains("has format_version 2, newer than this Proximal reads (up to 1)", Message(newer));

        var noVersion = Build("noversion.zip", m => m.Remove("format_version"));
        Assert.Contains("is not a Proximal model (metadata.json has no integer 'format_version')", Message(noVersion));

        var badLength = Build("badlen.zip", m => m["arrays"]![0]!["length"] = -5);
        Assert.Contains("array 'policy/params' has invalid 'length' -5", Message(badLength));

        var badName = Build("badname.zip", m => m["arrays"]![0]!["name"] = "../../etc/passwd");
        Assert.Contains("Array name '../../etc/passwd' is not allowed", Message(badName));

        var notJson = Build("notjson.zip", _ => { }, editEntry: (n, d) => n == "metadata.json" ? "{oops"u8.ToArray() : d);
        Assert.Contains("metadata.json is not valid JSON", Message(notJson));
    }

    [Fact]
    public void FailedSaveLeavesTheExistingFileIntactAndNoTempFiles()
    {
        string path = Path.Combine(_dir, "model.zip");
        ModelArchive.Save(path, new JsonObject { ["generation"] = 1 }, SampleArrays(1));
        byte[] before = File.ReadAllBytes(path);

        IEnumerable<ModelArray> Failing()
        {
            yield return new ModelArray("first", new float[100_000]); // partly written when the source fails
            throw new InvalidOperationException("simulated crash while producing arrays");
        }
        var e = Assert.Throws<InvalidOperationException>(() => ModelArchive.Save(path, new JsonObject { ["generation"] = 2 }, Failing()));
        Assert.Equal("simulated crash while producing arrays", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.zip"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal(1, (int)ModelArchive.Load(path).Metadata["generation"]!);

        // A successful save replaces it.
        ModelArchive.Save(path, new JsonObject { ["generation"] = 3 }, SampleArrays(2));
        Assert.Equal(3, (int)ModelArchive.Load(path).Metadata["generation"]!);
        Assert.Equal(["model.zip"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void InvalidInputsToSaveAreRejectedWithNames()
    {
        string path = Path.Combine(_dir, "m.zip");
        Assert.Contains("reserved key 'arrays'", Assert.Throws<ArgumentException>(() => ModelArchive.Save(path, new JsonObject { ["arrays"] = 1 }, [])).Message);
        Assert.Contains("Two arrays are named 'x'", Assert.Throws<ArgumentException>(() =>
            ModelArchive.Save(path, null, [new ModelArray("x", new float[1]), new ModelArray("x", new long[1])])).Message);
        Assert.Contains("'a b' is not allowed", Assert.Throws<ArgumentException>(() => new ModelArray("a b", new float[1])).Message);
        Assert.Throws<ArgumentException>(() => new ModelArray("a//b", new float[1]));
        Assert.Throws<ArgumentException>(() => new ModelArray("../x", new float[1]));
        Assert.False(File.Exists(path));
        Assert.Contains("holds float32, not int64", Assert.Throws<InvalidOperationException>(() => new ModelArray("f", new float[1]).Int64).Message);
    }
}
