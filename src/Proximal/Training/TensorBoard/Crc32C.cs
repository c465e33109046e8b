using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace Proximal.Training.TensorBoard;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord framing uses.
/// Uses the SSE4.2 <c>crc32</c> instruction when present (it computes exactly this polynomial),
/// else a slicing-by-8 table.
/// </summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;
    private const uint MaskDelta = 0xA282EAD8u;

    // Table[k][b]: CRC of byte b followed by k zero bytes; lets the software path consume 8 bytes per step.
    private static readonly uint[][] Table = BuildTable();

    /// <summary>CRC-32C of <paramref name="data"/> (initial value and final xor 0xFFFFFFFF, as in the standard).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC previously returned by <see cref="Compute"/> or <see cref="Append"/> over more data.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        state = Sse42.X64.IsSupported ? UpdateHardware(state, data) : UpdateSoftware(state, data);
        return ~state;
    }

    /// <summary>TFRecord's masked CRC: rotate right by 15 and add a constant, so CRCs of CRCs stay well distributed.</summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    /// <summary>Inverse of <see cref="Mask"/>.</summary>
    public static uint Unmask(uint masked)
    {
        uint rotated = masked - MaskDelta;
        return (rotated >> 17) | (rotated << 15);
    }

    internal static uint UpdateSoftware(uint state, ReadOnlySpan<byte> data)
    {
        uint[] t0 = Table[0], t1 = Table[1], t2 = Table[2], t3 = Table[3],
               t4 = Table[4], t5 = Table[5], t6 = Table[6], t7 = Table[7];
        while (data.Length >= 8)
        {
            uint lo = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ state;
            uint hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            state = t7[lo & 0xFF] ^ t6[(lo >> 8) & 0xFF] ^ t5[(lo >> 16) & 0xFF] ^ t4[lo >> 24]
                  ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24];
            data = data[8..];
        }
        foreach (byte b in data) state = (state >> 8) ^ t0[(state ^ b) & 0xFF];
        return state;
    }

    internal static uint UpdateHardware(uint state, ReadOnlySpan<byte> data)
    {
        ulong s = state;
        while (data.Length >= 8)
        {
            s = Sse42.X64.Crc32(s, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        uint s32 = (uint)s;
        foreach (byte b in data) s32 = Sse42.Crc32(s32, b);
        return s32;
    }

    private static uint[][] BuildTable()
    {
        var table = new uint[8][];
        for (int k = 0; k < 8; k++) table[k] = new uint[256];
        for (uint b = 0; b < 256; b++)
        {
            uint c = b;
            for (int i = 0; i < 8; i++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            table[0][b] = c;
        }
        for (int k = 1; k < 8; k++)
            for (int b = 0; b < 256; b++)
                table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xFF];
        return table;
    }
}
