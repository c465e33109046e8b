using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Proximal.Distributed.Tests;

/// <summary>Runs this test assembly's <see cref="Worker"/> as K ranks under mpirun on loopback, as a child process.</summary>
internal static class MpiRun
{
    internal sealed record Outcome(int ExitCode, string Output, JsonObject? Result, TimeSpan Elapsed);

    public static string Mpirun =>
        new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("mpirun not found: the distributed tests need Open MPI (sudo apt-get install openmpi-bin libopenmpi-dev, or run scripts/setup.sh).");

    public static Outcome Worker(string scenario, int ranks = 2, double rankTimeoutSeconds = 30, int killAfterSeconds = 90)
    {
        string outDir = Path.Combine(Path.GetTempPath(), $"proximal-mpi-{scenario}-{Guid.NewGuid():N}");
        string dll = typeof(Worker).Assembly.Location;
        var psi = new ProcessStartInfo(Mpirun)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // Loopback only; root is allowed (CI containers), more ranks than cores allowed.
        foreach (var a in new[] { "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "--allow-run-as-root", "--oversubscribe",
                     "--mca", "btl", "self,vader,tcp", "--mca", "btl_tcp_if_include", "lo",
                     "dotnet", dll, "worker", scenario, outDir, rankTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(killAfterSeconds)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        string output = stdout.Result + stderr.Result;
        JsonObject? result = null;
        string file = Path.Combine(outDir, "result.json");
        if (File.Exists(file)) result = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        try { Directory.Delete(outDir, recursive: true); } catch (DirectoryNotFoundException) { }
        return new Outcome(p.HasExited ? p.ExitCode : -1, output, result, clock.Elapsed);
    }
}
