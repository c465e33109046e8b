using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proximal.Common.Persistence;

/// <summary>
/// A model file: one zip holding <c>metadata.json</c> and one entry per named array (<c>arrays/&lt;name&gt;.bin</c>,
/// raw little-endian elements). <c>metadata.json</c> is the caller's JSON object plus <c>format_version</c> and
/// an <c>arrays</c> manifest (<c>[{"name", "dtype", "length"}]</c>).
/// <para>Saving is atomic: the zip is written to a temporary file in the same folder, flushed to disk and then
/// moved over the target, so an interrupted save never destroys the previous file.</para>
/// <para>Loading only reads data (nothing in the file is executed or deserialized into types) and checks every
/// part: zip structure and CRCs, the manifest, each entry's size. Any problem is a <see cref="ModelFileException"/>
/// whose message names the file and, where it applies, the entry or field.</para>
/// </summary>
public static class ModelArchive
{
    /// <summary>Format version this build writes; files with a higher version are refused.</summary>
    public const int FormatVersion = 1;
    public const string MetadataEntry = "metadata.json";
    public const string FormatVersionKey = "format_version";
    public const string ArraysKey = "arrays";
    private const string ArrayPrefix = "arrays/";
    private const string ArraySuffix = ".bin";

    /// <summary>
    /// Writes <paramref name="arrays"/> and <paramref name="metadata"/> to <paramref name="path"/> atomically.
    /// <paramref name="arrays"/> is enumerated once, while writing; if it (or anything else) throws, the temporary
    /// file is removed, the exception propagates and an existing file at <paramref name="path"/> is untouched.
    /// </summary>
    /// <param name="metadata">Any JSON object (e.g. algorithm, env id, spaces, hyperparameters); not modified.
    /// It must not use the reserved keys <c>format_version</c> and <c>arrays</c>.</param>
    public static void Save(string path, JsonObject? metadata, IEnumerable<ModelArray> arrays)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(arrays);
        var meta = (JsonObject?)metadata?.DeepClone() ?? new JsonObject();
        foreach (var reserved in new[] { FormatVersionKey, ArraysKey })
            if (meta.ContainsKey(reserved))
                throw new ArgumentException($"Model metadata must not contain the reserved key '{reserved}'; the archive writes it.", nameof(metadata));

        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        RemoveStaleTemporaryFiles(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                using (var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true))
                {
                    var manifest = new JsonArray();
                    var names = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var array in arrays)
                    {
                        ArgumentNullException.ThrowIfNull(array, nameof(arrays));
                        if (!names.Add(array.Name)) throw new ArgumentException($"Two arrays are named '{array.Name}'.", nameof(arrays));
                        // Parameters are close to random bits: deflate costs time and saves little.
                        var entry = zip.CreateEntry(EntryName(array.Name), CompressionLevel.NoCompression);
                        using (var stream = entry.Open()) WriteLittleEndian(stream, array);
                        manifest.Add(new JsonObject
                        {
                            ["name"] = array.Name,
                            ["dtype"] = ModelArray.DTypeName(array.DType),
                            ["length"] = array.Length,
                        });
                    }
                    var root = new JsonObject { [FormatVersionKey] = FormatVersion, [ArraysKey] = manifest };
                    foreach (var (key, value) in meta.ToList())
                    {
                        meta.Remove(key);
                        root[key] = value;
                    }
                    var metaEntry = zip.CreateEntry(MetadataEntry, CompressionLevel.Optimal);
                    using var metaStream = metaEntry.Open();
                    JsonSerializer.Serialize(metaStream, root, new JsonSerializerOptions { WriteIndented = true });
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporary files (<c>.&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.tmp</c>) that saves of processes no longer alive left in
    /// <paramref name="dir"/> (a <c>kill -9</c> during a save). Files of live processes, including this one, are kept.
    /// Best effort: a file that cannot be inspected or deleted stays. Returns how many were deleted.
    /// </summary>
    public static int RemoveStaleTemporaryFiles(string dir)
    {
        int removed = 0;
        try
        {
            foreach (var path in Directory.EnumerateFiles(dir, ".*.tmp"))
            {
                var m = TempFileName.Match(Path.GetFileName(path));
                if (!m.Success || !int.TryParse(m.Groups[1].ValueSpan, out int pid)) continue;
                if (pid == Environment.ProcessId || IsProcessAlive(pid)) continue;
                try { File.Delete(path); removed++; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return removed;
    }

    private static readonly System.Text.RegularExpressions.Regex TempFileName =
        new(@"^\..+\.([0-9]{1,10})\.[0-9a-f]{32}\.tmp$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static bool IsProcessAlive(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Reads and validates a model file. Throws <see cref="ModelFileException"/> for any problem with it.</summary>
    public static LoadedModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new ModelFileException(path, $"model file {path} does not exist.");
        string? entryName = null;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            ZipArchive zip;
            try { zip = new ZipArchive(file, ZipArchiveMode.Read); }
            catch (InvalidDataException e)
            { throw new ModelFileException(path, $"model file {path} is not a Proximal model (not a valid zip archive: {e.Message}).", null, e); }
            using (zip)
            {
                entryName = MetadataEntry;
                var metaEntry = zip.GetEntry(MetadataEntry)
                    ?? throw new ModelFileException(path, $"model file {path} is not a Proximal model (it has no {MetadataEntry} entry).", MetadataEntry);
                JsonObject meta = ReadMetadata(path, metaEntry);
                int version = ReadVersion(path, meta);
                var manifest = ReadManifest(path, meta);

                var arrays = new List<ModelArray>(manifest.Count);
                foreach (var (name, dtype, length) in manifest)
                {
                    entryName = EntryName(name);
                    var entry = zip.GetEntry(entryName)
                        ?? throw new ModelFileException(path, $"model file {path}: array '{name}' is listed in {MetadataEntry} but entry {entryName} is missing.", entryName);
                    arrays.Add(ReadArray(path, entry, name, dtype, length));
                }
                meta.Remove(FormatVersionKey);
                meta.Remove(ArraysKey);
                return new LoadedModel(Path.GetFullPath(path), version, meta, arrays);
            }
        }
        catch (ModelFileException) { throw; }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or ArgumentException
                                      or InvalidOperationException or NotSupportedException or OverflowException)
        {
            string where = entryName is null ? "" : $" in entry {entryName}";
            throw new ModelFileException(path, $"model file {path} is corrupt{where}: {e.Message}", entryName, e);
        }
    }

    internal static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool ok = name.Length is > 0 and <= 200;
        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part is "." or "..") { ok = false; break; }
            foreach (char c in part)
                if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')) { ok = false; break; }
        }
        if (!ok)
            throw new ArgumentException(
                $"Array name '{name}' is not allowed: use 1-200 characters from letters, digits, '_', '-', '.', with '/' between non-empty parts.", nameof(name));
    }

    private static string EntryName(string arrayName) => ArrayPrefix + arrayName + ArraySuffix;

    private static void WriteLittleEndian(Stream stream, ModelArray array)
    {
        if (BitConverter.IsLittleEndian) { stream.Write(array.Bytes); return; }
        // Big-endian hosts: swap a copy, never the caller's data.
        var copy = array.Bytes.ToArray();
        SwapInPlace(copy, ModelArray.ElementSize(array.DType));
        stream.Write(copy);
    }

    private static void SwapInPlace(Span<byte> bytes, int elementSize)
    {
        if (elementSize == 4) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(bytes), MemoryMarshal.Cast<byte, uint>(bytes));
        else BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(bytes), MemoryMarshal.Cast<byte, ulong>(bytes));
    }

    private static JsonObject ReadMetadata(string path, ZipArchiveEntry entry)
    {
        const long maxMetadataBytes = 64L << 20; // anything larger is not metadata we wrote
        if (entry.Length > maxMetadataBytes)
            throw new ModelFileException(path, $"model file {path}: {MetadataEntry} is {entry.Length} bytes, more than the {maxMetadataBytes} allowed.", MetadataEntry);
        byte[] bytes = ReadEntry(path, entry, checked((int)entry.Length));
        JsonNode? node;
        try { node = JsonNode.Parse(bytes); }
        catch (JsonException e)
        { throw new ModelFileException(path, $"model file {path}: {MetadataEntry} is not valid JSON ({e.Message}).", MetadataEntry, e); }
        return node as JsonObject
            ?? throw new ModelFileException(path, $"model file {path}: {MetadataEntry} must hold a JSON object.", MetadataEntry);
    }

    private static int ReadVersion(string path, JsonObject meta)
    {
        if (meta[FormatVersionKey] is not JsonValue v || !v.TryGetValue(out int version))
            throw new ModelFileException(path,
                $"model file {path} is not a Proximal model ({MetadataEntry} has no integer '{FormatVersionKey}').", MetadataEntry);
        if (version > FormatVersion)
            throw new ModelFileException(path,
                $"model file {path} has {FormatVersionKey} {version}, newer than this Proximal reads (up to {FormatVersion}); use a newer Proximal.", MetadataEntry);
        if (version < 1)
            throw new ModelFileException(path, $"model file {path} has invalid {FormatVersionKey} {version} (must be >= 1).", MetadataEntry);
        return version;
    }

    private static List<(string Name, ArrayDType DType, int Length)> ReadManifest(string path, JsonObject meta)
    {
        string prefix = $"model file {path}: {MetadataEntry}";
        if (meta[ArraysKey] is not JsonArray list)
            throw new ModelFileException(path, $"{prefix} has no '{ArraysKey}' list.", MetadataEntry);
        var result = new List<(string, ArrayDType, int)>(list.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < list.Count; i++)
        {
            string at = $"{prefix}: {ArraysKey}[{i}]";
            if (list[i] is not JsonObject item) throw new ModelFileException(path, $"{at} is not an object.", MetadataEntry);
            if (item["name"] is not JsonValue nv || !nv.TryGetValue(out string? name) || name is null)
                throw new ModelFileException(path, $"{at} has no string 'name'.", MetadataEntry);
            try { ValidateName(name); }
            catch (ArgumentException e) { throw new ModelFileException(path, $"{at}: {e.Message}", MetadataEntry, e); }
            if (!seen.Add(name)) throw new ModelFileException(path, $"{at}: array '{name}' is listed twice.", MetadataEntry);
            string? dtypeText = item["dtype"] is JsonValue dv && dv.TryGetValue(out string? s) ? s : null;
            if (!ModelArray.TryParseDType(dtypeText, out var dtype))
                throw new ModelFileException(path,
                    $"{at}: array '{name}' has unknown dtype '{dtypeText ?? item["dtype"]?.ToJsonString()}' (known: float32, float64, int64, uint64).", MetadataEntry);
            if (item["length"] is not JsonValue lv || !lv.TryGetValue(out long length) || length < 0 || length > Array.MaxLength)
                throw new ModelFileException(path,
                    $"{at}: array '{name}' has invalid 'length' {item["length"]?.ToJsonString() ?? "(missing)"} (expected an integer 0..{Array.MaxLength}).", MetadataEntry);
            result.Add((name, dtype, (int)length));
        }
        return result;
    }

    private static ModelArray ReadArray(string path, ZipArchiveEntry entry, string name, ArrayDType dtype, int length)
    {
        long expectedBytes = (long)length * ModelArray.ElementSize(dtype);
        // Refuse sizes the file cannot hold before allocating (deflate expands at most ~1032:1).
        if (entry.CompressedLength > new FileInfo(path).Length || entry.Length > 1032 * entry.CompressedLength + 1024)
            throw new ModelFileException(path,
                $"model file {path} is corrupt: entry {entry.FullName} claims {entry.Length} bytes from {entry.CompressedLength} stored bytes.", entry.FullName);
        if (entry.Length != expectedBytes)
            throw new ModelFileException(path,
                $"model file {path}: entry {entry.FullName} holds {entry.Length} bytes but the manifest says {length} x {ModelArray.DTypeName(dtype)} = {expectedBytes} bytes.",
                entry.FullName);
        switch (dtype)
        {
            case ArrayDType.Float32: { var a = new float[length]; Fill(path, entry, MemoryMarshal.AsBytes(a.AsSpan()), 4); return new ModelArray(name, a); }
            case ArrayDType.Float64: { var a = new double[length]; Fill(path, entry, MemoryMarshal.AsBytes(a.AsSpan()), 8); return new ModelArray(name, a); }
            case ArrayDType.Int64: { var a = new long[length]; Fill(path, entry, MemoryMarshal.AsBytes(a.AsSpan()), 8); return new ModelArray(name, a); }
            default: { var a = new ulong[length]; Fill(path, entry, MemoryMarshal.AsBytes(a.AsSpan()), 8); return new ModelArray(name, a); }
        }
    }

    private static void Fill(string path, ZipArchiveEntry entry, Span<byte> destination, int elementSize)
    {
        using (var stream = entry.Open())
        {
            stream.ReadExactly(destination);
            EnsureAtEnd(path, entry, stream);
        }
        VerifyCrc(path, entry, destination);
        if (!BitConverter.IsLittleEndian) SwapInPlace(destination, elementSize);
    }

    private static byte[] ReadEntry(string path, ZipArchiveEntry entry, int length)
    {
        var bytes = new byte[length];
        using (var stream = entry.Open())
        {
            stream.ReadExactly(bytes);
            EnsureAtEnd(path, entry, stream);
        }
        VerifyCrc(path, entry, bytes);
        return bytes;
    }

    private static void EnsureAtEnd(string path, ZipArchiveEntry entry, Stream stream)
    {
        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0)
            throw new ModelFileException(path, $"model file {path}: entry {entry.FullName} holds more data than its recorded size.", entry.FullName);
    }

    private static void VerifyCrc(string path, ZipArchiveEntry entry, ReadOnlySpan<byte> data)
    {
        uint actual = Crc32.Compute(data);
        if (actual != entry.Crc32)
            throw new ModelFileException(path,
                $"model file {path} is corrupt: entry {entry.FullName} fails its checksum (CRC-32 {actual:x8}, recorded {entry.Crc32:x8}).", entry.FullName);
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A model file's contents after <see cref="ModelArchive.Load"/>.</summary>
public sealed class LoadedModel
{
    private readonly Dictionary<string, ModelArray> _byName;

    internal LoadedModel(string path, int formatVersion, JsonObject metadata, IReadOnlyList<ModelArray> arrays)
    {
        FilePath = path;
        FormatVersion = formatVersion;
        Metadata = metadata;
        Arrays = arrays;
        _byName = arrays.ToDictionary(a => a.Name, StringComparer.Ordinal);
    }

    public string FilePath { get; }
    public int FormatVersion { get; }

    /// <summary>The caller's metadata as saved (without <c>format_version</c> and <c>arrays</c>).</summary>
    public JsonObject Metadata { get; }

    /// <summary>Arrays in the order they were saved.</summary>
    public IReadOnlyList<ModelArray> Arrays { get; }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The array called <paramref name="name"/>; throws <see cref="ModelFileException"/> listing the names present.</summary>
    public ModelArray Get(string name) =>
        _byName.TryGetValue(name, out var a) ? a
        : throw new ModelFileException(FilePath,
            $"model file {FilePath} has no array '{name}' (arrays: {string.Join(", ", Arrays.Select(x => x.Name))}).");

    /// <summary>The float32 array called <paramref name="name"/>, checking its dtype and, if given, its length.</summary>
    public ReadOnlyMemory<float> GetFloat32(string name, int? expectedLength = null) => Check(Get(name), ArrayDType.Float32, expectedLength).Float32;
    public ReadOnlyMemory<double> GetFloat64(string name, int? expectedLength = null) => Check(Get(name), ArrayDType.Float64, expectedLength).Float64;
    public ReadOnlyMemory<long> GetInt64(string name, int? expectedLength = null) => Check(Get(name), ArrayDType.Int64, expectedLength).Int64;
    public ReadOnlyMemory<ulong> GetUInt64(string name, int? expectedLength = null) => Check(Get(name), ArrayDType.UInt64, expectedLength).UInt64;

    private ModelArray Check(ModelArray a, ArrayDType dtype, int? expectedLength)
    {
        if (a.DType != dtype)
            throw new ModelFileException(FilePath,
                $"model file {FilePath}: array '{a.Name}' holds {ModelArray.DTypeName(a.DType)}, expected {ModelArray.DTypeName(dtype)}.");
        if (expectedLength is int n && a.Length != n)
            throw new ModelFileException(FilePath,
                $"model file {FilePath}: array '{a.Name}' has {a.Length} elements, expected {n} (was it saved for a different network?).");
        return a;
    }
}
