namespace Proximal.Common.Persistence;

/// <summary>
/// CRC-32 as zip uses it (IEEE 802.3, reflected polynomial 0xEDB88320), slicing-by-8. Loading checks each entry
/// against the CRC the zip records, so a flipped bit in a stored (uncompressed) entry cannot go unnoticed.
/// </summary>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint[] t = Table;
        uint crc = ~0u;
        while (data.Length >= 8)
        {
            uint lo = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            uint hi = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[7 * 256 + (lo & 0xFF)] ^ t[6 * 256 + ((lo >> 8) & 0xFF)] ^ t[5 * 256 + ((lo >> 16) & 0xFF)] ^ t[4 * 256 + (lo >> 24)]
                ^ t[3 * 256 + (hi & 0xFF)] ^ t[2 * 256 + ((hi >> 8) & 0xFF)] ^ t[256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24];
            data = data[8..];
        }
        foreach (byte b in data) crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF];
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[8 * 256];
        for (uint b = 0; b < 256; b++)
        {
            uint c = b;
            for (int i = 0; i < 8; i++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            t[b] = c;
        }
        for (int k = 1; k < 8; k++)
            for (int b = 0; b < 256; b++)
                t[k * 256 + b] = (t[(k - 1) * 256 + b] >> 8) ^ t[t[(k - 1) * 256 + b] & 0xFF];
        return t;
    }
}
