using System.Text.Json;
using Proximal.Cli.Bench;

namespace Proximal.Cli.Tests.Bench;

public class BenchReportTests
{
    private static readonly MachineInfo Sample = MachineInfo.FromText(
        "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nstepping\t: 1\nflags\t\t: avx avx2 fma\n",
        "1.25 0.50 0.25 1/100 42", "Vector256", ["Avx", "Avx2", "Fma"], 2, ".NET 10.0.0, linux-x64");

    [Fact]
    public void Json_header_is_the_first_line_and_carries_the_cpu_block()
    {
        var text = new StringWriter();
        var report = new BenchReport(json: true, text);
        report.Header(Sample, "proximal bench nn --json");
        report.Add(new BenchCase("gemm 64x64x64, 1 thread", 100, "GFLOP/s", PercentOfPeak: 90));
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);

        using var header = JsonDocument.Parse(lines[0]);
        Assert.Equal("proximal bench nn --json", header.RootElement.GetProperty("command").GetString());
        var machine = header.RootElement.GetProperty("machine");
        Assert.Equal("AMD EPYC", machine.GetProperty("model_name").GetString());
        Assert.Equal(25, machine.GetProperty("family").GetInt32());
        Assert.Equal(1, machine.GetProperty("model").GetInt32());
        Assert.Equal(1, machine.GetProperty("stepping").GetInt32());
        Assert.Equal("Vector256", machine.GetProperty("gemm_tier").GetString());
        Assert.Equal(2, machine.GetProperty("cores").GetInt32());
        Assert.Equal(1.25, machine.GetProperty("load_average")[0].GetDouble());
        Assert.Equal(["avx", "avx2", "fma"], machine.GetProperty("simd_flags").EnumerateArray().Select(e => e.GetString()));

        using var figure = JsonDocument.Parse(lines[1]);
        Assert.True(figure.RootElement.GetProperty("measured").GetBoolean());
    }

    [Fact]
    public void Text_header_names_cpu_tier_cores_and_load()
    {
        var text = new StringWriter();
        new BenchReport(json: false, text).Header(Sample, "proximal bench envs");
        string s = text.ToString();
        Assert.Contains("proximal bench envs", s);
        Assert.Contains("AMD EPYC (AuthenticAMD family 25 model 1 stepping 1)", s);
        Assert.Contains("Vector256", s);
        Assert.Contains("2 (Environment.ProcessorCount)", s);
        Assert.Contains("1.25 0.50 0.25", s);
        Assert.Contains("other work holds cores", s); // 1.25 ≥ half of 2 cores
    }

    [Fact]
    public void External_reference_is_labelled_and_never_printed_as_a_ratio()
    {
        var text = new StringWriter();
        new BenchReport(json: false, text).Add(new BenchCase("CleanRL ppo.py on CartPole-v1", 8300, "steps/s", ExternalSource: "issue 4"));
        string line = text.ToString();
        Assert.StartsWith("external reference (not measured here): CleanRL ppo.py on CartPole-v1", line);
        Assert.Contains("source: issue 4", line);
        Assert.DoesNotContain("×", line);

        var json = new StringWriter();
        new BenchReport(json: true, json).Add(new BenchCase("CleanRL ppo.py on CartPole-v1", 8300, "steps/s", ExternalSource: "issue 4"));
        using var doc = JsonDocument.Parse(json.ToString());
        Assert.False(doc.RootElement.GetProperty("measured").GetBoolean());
        Assert.Equal("issue 4", doc.RootElement.GetProperty("external_source").GetString());
        Assert.False(doc.RootElement.TryGetProperty("ratio", out _));
    }
}
