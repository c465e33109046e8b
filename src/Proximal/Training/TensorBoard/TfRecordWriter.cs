using System.Buffers.Binary;

namespace Proximal.Training.TensorBoard;

/// <summary>
/// Writes TFRecord framing: uint64 little-endian payload length, masked CRC-32C of those 8 bytes,
/// the payload, masked CRC-32C of the payload. Readers use the CRCs to detect torn or corrupt records.
/// </summary>
public sealed class TfRecordWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly byte[] _header = new byte[12];
    private readonly byte[] _footer = new byte[4];

    public TfRecordWriter(Stream stream, bool ownsStream = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("TFRecord output stream must be writable.", nameof(stream));
        _stream = stream;
        _ownsStream = ownsStream;
    }

    /// <summary>Appends one record holding <paramref name="payload"/>.</summary>
    public void Write(ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_header, (ulong)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(8), Crc32C.Mask(Crc32C.Compute(_header.AsSpan(0, 8))));
        BinaryPrimitives.WriteUInt32LittleEndian(_footer, Crc32C.Mask(Crc32C.Compute(payload)));
        _stream.Write(_header);
        _stream.Write(payload);
        _stream.Write(_footer);
    }

    public void Flush() => _stream.Flush();

    public void Dispose()
    {
        if (_ownsStream) _stream.Dispose();
    }
}
