using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Proximal.Training.TensorBoard;

namespace Proximal.Tests.Training;

public sealed class TensorBoardWriterTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    [Fact]
    public void Crc32CMatchesKnownVectors()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute(ReadOnlySpan<byte>.Empty));
        // RFC 3720 (iSCSI) B.4 test vectors: 32 zero bytes and 32 0xFF bytes.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
    }

    [Fact]
    public void HardwareSoftwareAndBitwiseAgreeOnEveryLengthAndSplit()
    {
        var data = new byte[300];
        var rng = new Proximal.Numerics.Rng(5);
        for (int i = 0; i < data.Length; i++) data[i] = (byte)rng.NextInt(256);
        for (int n = 0; n <= data.Length; n += 7)
        {
            var span = data.AsSpan(0, n);
            uint expected = BitwiseCrc32C(span);
            Assert.Equal(expected, ~Crc32C.UpdateSoftware(~0u, span));
            if (System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported) Assert.Equal(expected, ~Crc32C.UpdateHardware(~0u, span));
            int split = n / 3;
            Assert.Equal(expected, Crc32C.Append(Crc32C.Compute(span[..split]), span[split..]));
        }
    }

    [Fact]
    public void MaskMatchesFormulaAndUnmaskInverts()
    {
        foreach (uint crc in new uint[] { 0, 1, 0xE3069283, 0xFFFFFFFF, 0x12345678 })
        {
            Assert.Equal(unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u), Crc32C.Mask(crc));
            Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
        }
    }

    [Fact]
    public void EventFileReadsBackRecordByRecord()
    {
        var clock = new FixedClock(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250));
        string path;
        using (var tb = new TensorBoardWriter(_dir, clock))
        {
            path = tb.FilePath;
            tb.AddScalar("train/loss", 0.5f, 10);
            clock.Now = clock.Now.AddSeconds(1.5);
            tb.AddScalar("rollout/ep_rew_mean", -123.25f, 2048);
            tb.Write(4096, new Dictionary<string, double> { ["a"] = 1.0, ["b/c"] = double.NaN });
        }
        Assert.Equal($"events.out.tfevents.1700000000.", Path.GetFileName(path)[..31]);
        Assert.StartsWith(Path.Combine(_dir, "events.out.tfevents.1700000000."), path);

        var events = ReadRecords(File.ReadAllBytes(path)).Select(ParseEvent).ToList();
        Assert.Equal(5, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(1_700_000_000.25, events[0].WallTime, 9);
        Assert.Null(events[0].Tag);

        Assert.Equal((1_700_000_000.25, 10L, "train/loss", 0.5f), (events[1].WallTime, events[1].Step, events[1].Tag, events[1].Value));
        Assert.Equal((1_700_000_001.75, 2048L, "rollout/ep_rew_mean", -123.25f), (events[2].WallTime, events[2].Step, events[2].Tag, events[2].Value));
        Assert.Equal(("a", 1f, 4096L), (events[3].Tag, events[3].Value, events[3].Step));
        Assert.Equal("b/c", events[4].Tag);
        Assert.True(float.IsNaN(events[4].Value));
        Assert.All(events.Skip(1), e => Assert.Null(e.FileVersion));
    }

    [Fact]
    public void FlushMakesRecordsVisibleWhileOpen()
    {
        using var tb = new TensorBoardWriter(_dir);
        tb.AddScalar("x", 3f, 1);
        tb.Flush();
        using var read = new FileStream(tb.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[read.Length];
        read.ReadExactly(bytes);
        Assert.Equal(2, ReadRecords(bytes).Count());
    }

    [Fact]
    public void TwoWritersInTheSameSecondGetDistinctFiles()
    {
        var clock = new FixedClock(DateTimeOffset.FromUnixTimeSeconds(1_600_000_000));
        using var a = new TensorBoardWriter(_dir, clock);
        using var b = new TensorBoardWriter(_dir, clock);
        Assert.NotEqual(a.FilePath, b.FilePath);
        Assert.Contains("tfevents", Path.GetFileName(b.FilePath));
    }

    [Fact]
    public void CorruptedPayloadIsDetectedByTheReaderCheck()
    {
        string path;
        using (var tb = new TensorBoardWriter(_dir)) { path = tb.FilePath; tb.AddScalar("x", 1f, 1); }
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0x01; // inside the last payload
        Assert.Throws<InvalidDataException>(() => ReadRecords(bytes).ToList());
    }

    // --- an independent reader: TFRecord framing and the three protobuf messages, decoded field by field ---

    private static IEnumerable<byte[]> ReadRecords(byte[] file)
    {
        int pos = 0;
        while (pos < file.Length)
        {
            if (file.Length - pos < 12) throw new InvalidDataException("truncated header");
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(pos));
            uint lenCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos + 8));
            if (Crc32C.Unmask(lenCrc) != BitwiseCrc32C(file.AsSpan(pos, 8))) throw new InvalidDataException("length crc");
            pos += 12;
            var payload = file.AsSpan(pos, checked((int)len)).ToArray();
            pos += (int)len;
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos));
            if (Crc32C.Unmask(dataCrc) != BitwiseCrc32C(payload)) throw new InvalidDataException("data crc");
            pos += 4;
            yield return payload;
        }
    }

    private sealed record Event(double WallTime, long Step, string? FileVersion, string? Tag, float Value);

    private static Event ParseEvent(byte[] payload)
    {
        var input = new CodedInputStream(payload);
        double wall = double.NaN; long step = -1; string? version = null, tag = null; float value = float.NaN;
        uint t;
        while ((t = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(t))
            {
                case 1: Assert.Equal(WireFormat.WireType.Fixed64, WireFormat.GetTagWireType(t)); wall = input.ReadDouble(); break;
                case 2: Assert.Equal(WireFormat.WireType.Varint, WireFormat.GetTagWireType(t)); step = input.ReadInt64(); break;
                case 3: version = input.ReadString(); break;
                case 5:
                    var summary = new CodedInputStream(input.ReadBytes().ToByteArray());
                    uint st;
                    int values = 0;
                    while ((st = summary.ReadTag()) != 0)
                    {
                        Assert.Equal(1, WireFormat.GetTagFieldNumber(st));
                        values++;
                        var v = new CodedInputStream(summary.ReadBytes().ToByteArray());
                        uint vt;
                        while ((vt = v.ReadTag()) != 0)
                        {
                            if (WireFormat.GetTagFieldNumber(vt) == 1) tag = v.ReadString();
                            else if (WireFormat.GetTagFieldNumber(vt) == 2)
                            {
                                Assert.Equal(WireFormat.WireType.Fixed32, WireFormat.GetTagWireType(vt));
                                value = v.ReadFloat();
                            }
                            else Assert.Fail($"unexpected Summary.Value field {WireFormat.GetTagFieldNumber(vt)}");
                        }
                    }
                    Assert.Equal(1, values);
                    break;
                default: Assert.Fail($"unexpected Event field {WireFormat.GetTagFieldNumber(t)}"); break;
            }
        }
        return new Event(wall, step, version, tag, value);
    }

    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class TestDirs
{
    public static string Create()
    {
        string dir = Path.Combine(Path.GetTempPath(), "proximal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void Delete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
