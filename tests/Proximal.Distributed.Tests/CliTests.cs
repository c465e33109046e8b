using System.Diagnostics;

namespace Proximal.Distributed.Tests;

/// <summary>`proximal train --distributed` as a user meets it: the built Proximal.Cli.dll, with and without mpirun.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proximal-mpi-cli-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private static readonly string CliDll = FindCli();

    private static string FindCli()
    {
        // tests/Proximal.Distributed.Tests/bin/<Configuration>/<tfm>/ → src/Proximal.Cli/bin/<Configuration>/<tfm>/Proximal.Cli.dll
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = baseDir.Name, configuration = baseDir.Parent!.Name;
        string root = baseDir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "src", "Proximal.Cli", "bin", configuration, tfm, "Proximal.Cli.dll");
    }

    private sealed record Outcome(int Code, string Out, string Err);

    /// <summary>Runs the CLI, under <c>mpirun</c> with the given rank groups (MPMD: "np args…" per group) or alone.</summary>
    private Outcome Run(IReadOnlyList<(int Ranks, string[] Args)>? groups, params string[] args)
    {
        Assert.True(File.Exists(CliDll), $"{CliDll} is missing: build Proximal.sln first.");
        var psi = new ProcessStartInfo(groups is null ? "dotnet" : MpiRun.Mpirun)
        {
            WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        if (groups is null)
        {
            psi.ArgumentList.Add(CliDll);
            foreach (var a in args) psi.ArgumentList.Add(a);
        }
        else
        {
            foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader,tcp", "--mca", "btl_tcp_if_include", "lo" }) psi.ArgumentList.Add(a);
            for (int g = 0; g < groups.Count; g++)
            {
                if (g > 0) psi.ArgumentList.Add(":");
                psi.ArgumentList.Add("-np");
                psi.ArgumentList.Add(groups[g].Ranks.ToString(System.Globalization.CultureInfo.InvariantCulture));
                psi.ArgumentList.Add("dotnet");
                psi.ArgumentList.Add(CliDll);
                foreach (var a in groups[g].Args) psi.ArgumentList.Add(a);
            }
        }
        psi.Environment["PROXIMAL_LAUNCHER"] = "./proximal";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) { p.Kill(entireProcessTree: true); Assert.Fail("the CLI did not exit"); }
        p.WaitForExit();
        return new Outcome(p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void DistributedWithoutMpirunIsOneClearLine()
    {
        var o = Run(null, "train", "--algo", "ppo", "--env", "CartPole-v1", "--distributed", "--steps", "1000");
        Assert.Equal(2, o.Code);
        var lines = o.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, o.Err);
        Assert.StartsWith("error: --distributed", lines[0]);
        Assert.Contains("mpirun -np", lines[0]);
        Assert.Empty(Directory.GetFileSystemEntries(_dir)); // nothing written
    }

    [Fact]
    public void RanksStartedWithDifferentConfigsStopWithOneLine()
    {
        string[] common = ["train", "--algo", "ppo", "--env", "CartPole-v1", "--distributed", "--steps", "1024"];
        var o = Run([(1, [.. common, "--seed", "1"]), (1, [.. common, "--seed", "2"])]);
        Assert.NotEqual(0, o.Code);
        var ours = (o.Out + o.Err).Split('\n').Where(l => l.Contains("error:", StringComparison.Ordinal)).ToList();
        Assert.True(ours.Count == 1, o.Out + o.Err);
        Assert.Contains("rank 1 was started with a different configuration than rank 0", ours[0]);
        Assert.False(Directory.Exists(Path.Combine(_dir, "runs")), "no run folder for a refused job");
    }

    /// <summary>2 ranks train; only rank 0 writes (one run folder, its progress.csv says 2 ranks); the model resumes on 3 ranks.</summary>
    [Fact]
    public void TwoRanksTrainRankZeroWritesAndTheModelResumesOnThreeRanks()
    {
        var a = Run([(2, ["train", "--algo", "ppo", "--env", "CartPole-v1", "--distributed", "--steps", "1024", "--run-dir", "first", "--eval-episodes", "1"])]);
        Assert.True(a.Code == 0, a.Out + a.Err);
        Assert.Single(Directory.GetDirectories(_dir));
        var csv = File.ReadAllLines(Path.Combine(_dir, "first", "progress.csv"));
        int col = Array.IndexOf(csv[0].Split(','), "distributed/ranks");
        Assert.True(col >= 0, csv[0]);
        Assert.Equal("2", csv[^1].Split(',')[col]);
        Assert.Contains("Distributed: 2 ranks", a.Out);

        var b = Run([(3, ["train", "--resume", "first", "--distributed", "--steps", "768", "--run-dir", "second", "--eval-episodes", "1"])]);
        Assert.True(b.Code == 0, b.Out + b.Err);
        Assert.Contains("resuming", b.Out);
        var csv2 = File.ReadAllLines(Path.Combine(_dir, "second", "progress.csv"));
        int step = Array.IndexOf(csv2[0].Split(','), "step");
        Assert.Equal("1792", csv2[^1].Split(',')[step]); // 1,024 + one iteration of 3 ranks × 8 envs × 32 steps
    }
}
