using Google.Protobuf;
using Proximal.Training.Logging;

namespace Proximal.Training.TensorBoard;

/// <summary>
/// Writes scalar summaries to a TensorBoard event file (<c>events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;</c>)
/// that TensorBoard reads while training runs. Each scalar is one <c>tensorflow.Event</c> record; the protobuf
/// is encoded by hand (field numbers from tensorflow/core/util/event.proto and summary.proto) so no generated
/// code is needed. Not thread-safe: one writer per training loop.
/// </summary>
public sealed class TensorBoardWriter : IMetricsSink
{
    // tensorflow.Event field numbers.
    private const int EventWallTime = 1, EventStep = 2, EventFileVersion = 3, EventSummary = 5;
    // tensorflow.Summary / Summary.Value field numbers.
    private const int SummaryValue = 1, ValueTag = 1, ValueSimpleValue = 2;
    /// <summary>The version string TensorBoard expects in the first record of every event file.</summary>
    public const string FileVersion = "brain.Event:2";

    private readonly TfRecordWriter _records;
    private readonly TimeProvider _time;
    private byte[] _buffer = new byte[256];
    private bool _disposed;

    /// <summary>Creates <paramref name="directory"/> if needed and a new event file in it.</summary>
    /// <param name="directory">Folder TensorBoard is pointed at (e.g. the run's <c>tb/</c>).</param>
    /// <param name="time">Clock for wall times and the file name; the system clock when null.</param>
    public TensorBoardWriter(string directory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(directory);
        var now = _time.GetUtcNow();
        string host = SanitizeHost(Environment.MachineName);
        string baseName = $"events.out.tfevents.{now.ToUnixTimeSeconds()}.{host}";
        // Two writers started in the same second in one folder must not clobber each other.
        FileStream? stream = null;
        string path = "";
        for (int attempt = 0; stream is null; attempt++)
        {
            path = Path.Combine(directory, attempt == 0 ? baseName : $"{baseName}.{attempt}");
            try { stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read); }
            catch (IOException) when (File.Exists(path) && attempt < 1000) { }
        }
        FilePath = path;
        _records = new TfRecordWriter(stream);
        WriteEvent(WallTime(), 0, null, 0f, FileVersion);
        _records.Flush();
    }

    /// <summary>Full path of the event file being written.</summary>
    public string FilePath { get; }

    /// <summary>Records <paramref name="value"/> under <paramref name="tag"/> (e.g. <c>train/policy_loss</c>) at <paramref name="step"/>.</summary>
    public void AddScalar(string tag, float value, long step) => AddScalar(tag, value, step, WallTime());

    /// <summary>As <see cref="AddScalar(string, float, long)"/> with an explicit wall time (seconds since the Unix epoch).</summary>
    public void AddScalar(string tag, float value, long step, double wallTime)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(tag);
        WriteEvent(wallTime, step, tag, value, null);
    }

    /// <summary>Writes every metric as a scalar at <paramref name="step"/> (one wall time for the whole set).</summary>
    public void Write(long step, IReadOnlyDictionary<string, double> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        double wall = WallTime();
        foreach (var (key, value) in metrics) AddScalar(key, (float)value, step, wall);
    }

    /// <summary>Pushes buffered records to the operating system so TensorBoard sees them.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _records.Flush();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _records.Flush();
        _records.Dispose();
    }

    private double WallTime() => (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    private void WriteEvent(double wallTime, long step, string? tag, float value, string? fileVersion)
    {
        int valueSize = 0, summarySize = 0;
        int size = CodedOutputStream.ComputeTagSize(EventWallTime) + CodedOutputStream.ComputeDoubleSize(wallTime)
                 + CodedOutputStream.ComputeTagSize(EventStep) + CodedOutputStream.ComputeInt64Size(step);
        if (fileVersion is not null)
            size += CodedOutputStream.ComputeTagSize(EventFileVersion) + CodedOutputStream.ComputeStringSize(fileVersion);
        if (tag is not null)
        {
            valueSize = CodedOutputStream.ComputeTagSize(ValueTag) + CodedOutputStream.ComputeStringSize(tag)
                      + CodedOutputStream.ComputeTagSize(ValueSimpleValue) + CodedOutputStream.ComputeFloatSize(value);
            summarySize = CodedOutputStream.ComputeTagSize(SummaryValue) + CodedOutputStream.ComputeLengthSize(valueSize) + valueSize;
            size += CodedOutputStream.ComputeTagSize(EventSummary) + CodedOutputStream.ComputeLengthSize(summarySize) + summarySize;
        }
        if (_buffer.Length < size) _buffer = new byte[Math.Max(size, _buffer.Length * 2)];

        var output = new CodedOutputStream(_buffer);
        output.WriteTag(EventWallTime, WireFormat.WireType.Fixed64);
        output.WriteDouble(wallTime);
        output.WriteTag(EventStep, WireFormat.WireType.Varint);
        output.WriteInt64(step);
        if (fileVersion is not null)
        {
            output.WriteTag(EventFileVersion, WireFormat.WireType.LengthDelimited);
            output.WriteString(fileVersion);
        }
        if (tag is not null)
        {
            output.WriteTag(EventSummary, WireFormat.WireType.LengthDelimited);
            output.WriteLength(summarySize);
            output.WriteTag(SummaryValue, WireFormat.WireType.LengthDelimited);
            output.WriteLength(valueSize);
            output.WriteTag(ValueTag, WireFormat.WireType.LengthDelimited);
            output.WriteString(tag);
            output.WriteTag(ValueSimpleValue, WireFormat.WireType.Fixed32);
            output.WriteFloat(value);
        }
        output.Flush();
        _records.Write(_buffer.AsSpan(0, size));
    }

    // Host names can in principle carry characters that are awkward in file names.
    private static string SanitizeHost(string host)
    {
        var chars = host.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] is '-' or '_' or '.')) chars[i] = '_';
        return chars.Length == 0 ? "localhost" : new string(chars);
    }
}
