using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Proximal.Cli.Bench;

/// <summary>
/// What a benchmark figure needs beside it to be re-checked: the CPU (model name, and vendor/family/model/stepping
/// because VMs often report only "AMD EPYC"), the SIMD flags that matter to our kernels, the SIMD tier the GEMM
/// actually uses, the core count, the runtime, and the machine load when the benchmark started.
/// </summary>
public sealed record MachineInfo(
    string ModelName,
    string? Vendor,
    int? Family,
    int? Model,
    int? Stepping,
    string[] SimdFlags,
    string GemmTier,
    string[] RuntimeIsa,
    int Cores,
    double[]? LoadAverage,
    string Runtime)
{
    /// <summary>The /proc/cpuinfo flags that decide which of our kernels can run (listed in this order when present).</summary>
    public static readonly string[] RelevantFlags = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq"];

    /// <summary>
    /// The tier <c>Proximal.Numerics.Gemm</c> picks (its <c>BestTier</c>, internal to the core): Vector512 when the JIT
    /// accelerates Vector512, else Vector256 when it accelerates Vector256, else scalar. The same test, so the same answer
    /// (including under DOTNET_EnableAVX512=0 — .NET 10's switch; EnableAVX512F is no longer read — or DOTNET_PreferredVectorBitWidth, which change IsHardwareAccelerated).
    /// </summary>
    public static string CurrentGemmTier =>
        Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar";

    /// <summary>This machine, now: /proc/cpuinfo and /proc/loadavg where they exist (Linux), else what .NET knows.</summary>
    public static MachineInfo Current()
    {
        string? cpuinfo = null;
        try { cpuinfo = File.ReadAllText("/proc/cpuinfo"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        string? loadavg = null;
        try { loadavg = File.ReadAllText("/proc/loadavg"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return FromText(cpuinfo, loadavg, CurrentGemmTier, CurrentRuntimeIsa(), Environment.ProcessorCount,
            $"{RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier}");
    }

    /// <summary>The instruction sets the .NET runtime reports as usable in this process (what the JIT may emit).</summary>
    public static string[] CurrentRuntimeIsa()
    {
        var isa = new List<string>();
        if (Avx.IsSupported) isa.Add("Avx");
        if (Avx2.IsSupported) isa.Add("Avx2");
        if (Fma.IsSupported) isa.Add("Fma");
        if (Avx512F.IsSupported) isa.Add("Avx512F");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) isa.Add("AdvSimd");
        return isa.ToArray();
    }

    /// <summary>
    /// Builds the record from the text of /proc/cpuinfo and /proc/loadavg (either may be null: the fields become
    /// "unknown"/null). Only the first processor block of cpuinfo is read; all cores of one machine report the same.
    /// </summary>
    public static MachineInfo FromText(string? cpuinfo, string? loadavg, string gemmTier, string[] runtimeIsa, int cores, string runtime)
    {
        var fields = ParseFirstProcessor(cpuinfo);
        string model = fields.TryGetValue("model name", out var m) && m.Length > 0 ? m
            : fields.TryGetValue("Processor", out var p) && p.Length > 0 ? p  // some ARM kernels
            : RuntimeInformation.ProcessArchitecture.ToString();
        string? vendor = fields.TryGetValue("vendor_id", out var v) ? v : null;
        var flagSet = new HashSet<string>(
            (fields.TryGetValue("flags", out var f) ? f : fields.TryGetValue("Features", out var af) ? af : "")
                .Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        return new MachineInfo(model, vendor, Int(fields, "cpu family"), Int(fields, "model"), Int(fields, "stepping"),
            RelevantFlags.Where(flagSet.Contains).ToArray(), gemmTier, runtimeIsa, cores, ParseLoadAverage(loadavg), runtime);
    }

    /// <summary>"key : value" lines of the first processor block (up to the first blank line after content).</summary>
    internal static Dictionary<string, string> ParseFirstProcessor(string? cpuinfo)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (cpuinfo is null) return fields;
        foreach (string raw in cpuinfo.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                if (fields.Count > 0) break;
                continue;
            }
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            string key = line[..colon].Trim();
            if (key.Length > 0) fields.TryAdd(key, line[(colon + 1)..].Trim());
        }
        return fields;
    }

    /// <summary>The 1, 5 and 15 minute load averages from the text of /proc/loadavg, or null.</summary>
    internal static double[]? ParseLoadAverage(string? loadavg)
    {
        if (loadavg is null) return null;
        var parts = loadavg.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3) return null;
        var values = new double[3];
        for (int i = 0; i < 3; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])) return null;
        return values;
    }

    private static int? Int(Dictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out var s) && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;

    /// <summary>"AMD EPYC (AuthenticAMD family 25 model 1 stepping 1)"; the parenthesis lists only what is known.</summary>
    public string CpuDescription
    {
        get
        {
            var id = new List<string>();
            if (Vendor is not null) id.Add(Vendor);
            if (Family is { } fa) id.Add($"family {fa}");
            if (Model is { } mo) id.Add($"model {mo}");
            if (Stepping is { } st) id.Add($"stepping {st}");
            return id.Count == 0 ? ModelName : $"{ModelName} ({string.Join(' ', id)})";
        }
    }

    /// <summary>The block printed above every benchmark table, one "key: value" line each.</summary>
    public IEnumerable<(string Key, string Value)> Lines()
    {
        yield return ("cpu", CpuDescription);
        yield return ("cpu flags", SimdFlags.Length == 0 ? "none of " + string.Join(' ', RelevantFlags) : string.Join(' ', SimdFlags)
            + (SimdFlags.Contains("avx512f") ? "" : " (no avx512f)"));
        yield return ("simd tier used by gemm", $"{GemmTier} (runtime ISA: {(RuntimeIsa.Length == 0 ? "none" : string.Join(' ', RuntimeIsa))})");
        yield return ("cores", $"{Cores} (Environment.ProcessorCount)");
        yield return ("load average at start", LoadAverage is { } l
            ? string.Create(CultureInfo.InvariantCulture, $"{l[0]:F2} {l[1]:F2} {l[2]:F2} (1/5/15 min{(l[0] >= 0.5 * Cores ? "; other work holds cores: figures may be disturbed" : "")})")
            : "unknown");
        yield return ("runtime", Runtime);
    }
}
