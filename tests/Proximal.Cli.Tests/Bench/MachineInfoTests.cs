using System.Reflection;
using Proximal.Cli.Bench;
using Proximal.Numerics;

namespace Proximal.Cli.Tests.Bench;

public class MachineInfoTests
{
    // The first block of this project's VM (it reports only "AMD EPYC"; family 25 model 1 is Zen 3), flags shortened.
    private const string EpycAvx2 = """
        processor	: 0
        vendor_id	: AuthenticAMD
        cpu family	: 25
        model		: 1
        model name	: AMD EPYC
        stepping	: 1
        microcode	: 0x1000065
        cpu MHz		: 2445.430
        flags		: fpu vme sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand sse4a bmi1 avx2 bmi2

        processor	: 1
        vendor_id	: AuthenticAMD
        cpu family	: 99
        model name	: second block must not be read
        flags		: avx512f

        """;

    private const string XeonAvx512 = """
        processor	: 0
        vendor_id	: GenuineIntel
        cpu family	: 6
        model		: 106
        model name	: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
        stepping	: 6
        flags		: fpu sse sse2 fma sse4_2 avx avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni
        """;

    [Fact]
    public void Parses_model_family_model_stepping_and_the_flags_that_matter_from_the_first_block()
    {
        var m = MachineInfo.FromText(EpycAvx2, "3.55 1.48 0.63 3/412 9999\n", "Vector256", ["Avx", "Avx2", "Fma"], 2, ".NET 10");
        Assert.Equal("AMD EPYC", m.ModelName);
        Assert.Equal("AuthenticAMD", m.Vendor);
        Assert.Equal(25, m.Family);
        Assert.Equal(1, m.Model);
        Assert.Equal(1, m.Stepping);
        Assert.Equal(["sse4_2", "avx", "avx2", "fma"], m.SimdFlags);
        Assert.Equal("AMD EPYC (AuthenticAMD family 25 model 1 stepping 1)", m.CpuDescription);
        Assert.Equal([3.55, 1.48, 0.63], m.LoadAverage!);
        Assert.Equal(2, m.Cores);
        Assert.Equal("Vector256", m.GemmTier);
    }

    [Fact]
    public void Lists_avx512_flags_and_says_when_avx512f_is_absent()
    {
        var xeon = MachineInfo.FromText(XeonAvx512, null, "Vector512", ["Avx512F"], 4, "r");
        Assert.Equal(["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512dq"], xeon.SimdFlags);
        Assert.Equal(106, xeon.Model);
        Assert.DoesNotContain("no avx512f", xeon.Lines().Single(l => l.Key == "cpu flags").Value);

        var epyc = MachineInfo.FromText(EpycAvx2, null, "Vector256", [], 2, "r");
        Assert.Contains("(no avx512f)", epyc.Lines().Single(l => l.Key == "cpu flags").Value);
    }

    [Fact]
    public void Missing_or_malformed_proc_files_give_unknowns_not_exceptions()
    {
        var m = MachineInfo.FromText(null, "garbage", "scalar", [], 1, "r");
        Assert.False(string.IsNullOrEmpty(m.ModelName)); // the process architecture
        Assert.Null(m.Vendor);
        Assert.Null(m.Family);
        Assert.Empty(m.SimdFlags);
        Assert.Null(m.LoadAverage);
        Assert.Equal("unknown", m.Lines().Single(l => l.Key == "load average at start").Value);
        Assert.Equal(m.ModelName, m.CpuDescription);
    }

    [Fact]
    public void Reported_tier_is_the_tier_the_gemm_picks()
    {
        // Gemm.BestTier is internal to the core; read it so the CLI's copy of the decision cannot drift from it.
        var property = typeof(Gemm).GetProperty("BestTier", BindingFlags.NonPublic | BindingFlags.Static);
        Assert.NotNull(property);
        string core = property!.GetValue(null)!.ToString()!;
        string expected = core switch { "V512" => "Vector512", "V256" => "Vector256", "Scalar" => "scalar", _ => core };
        Assert.Equal(expected, MachineInfo.CurrentGemmTier);
        Assert.Equal(expected, MachineInfo.Current().GemmTier);
    }
}
