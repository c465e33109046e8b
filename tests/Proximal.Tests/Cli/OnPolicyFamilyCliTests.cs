using System.Diagnostics;
using Proximal.Tests.Training;

namespace Proximal.Tests.Cli;

/// <summary>
/// `proximal train --algo a2c|trpo|acktr` through the real CLI (the built Proximal.Cli.dll as a child process): each picks
/// up its built-in config, writes a model that `eval` loads, and bad ACKTR options or bench arguments are one line, exit 2.
/// </summary>
public sealed class OnPolicyFamilyCliTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private static string CliDll()
    {
        // tests/Proximal.Tests/bin/<Configuration>/<tfm>/ → src/Proximal.Cli/bin/<Configuration>/<tfm>/Proximal.Cli.dll
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = baseDir.Name, configuration = baseDir.Parent!.Name;
        string root = baseDir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "src", "Proximal.Cli", "bin", configuration, tfm, "Proximal.Cli.dll");
    }

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        string dll = CliDll();
        Assert.True(File.Exists(dll), $"{dll} is missing: build Proximal.sln first.");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PROXIMAL_LAUNCHER"] = "./proximal";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(entireProcessTree: true); Assert.Fail("the CLI did not exit"); }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Theory]
    [InlineData("a2c")]
    [InlineData("trpo")]
    [InlineData("acktr")]
    public void TrainWritesAModelThatEvalLoads(string algo)
    {
        var train = Run("train", "--algo", algo, "--env", "CartPole-v1", "--steps", "1024", "--run-dir", "run", "--eval-episodes", "1",
            "--checkpoint-every", "0", "--no-progress");
        Assert.True(train.Code == 0, train.Out + train.Err);
        Assert.DoesNotContain("no built-in", train.Err); // configs/<algo>/CartPole-v1.yaml was found
        Assert.True(File.Exists(Path.Combine(_dir, "run", "model.zip")));

        var eval = Run("eval", "run", "--episodes", "2");
        Assert.True(eval.Code == 0, eval.Out + eval.Err);
        Assert.Contains($"{algo} on CartPole-v1, trained", eval.Out);
    }

    [Fact]
    public void BadAcktrOptionsAndBenchArgumentsAreOneLineAndExit2()
    {
        foreach (var (o, fragment) in new[]
        {
            (Run("train", "--algo", "acktr", "--env", "CartPole-v1", "--steps", "512", "--set", "kfac_damping=0"), "kfac_damping"),
            (Run("bench", "algos", "--rounds", "0"), "--rounds must be at least 1"),
            (Run("bench", "algos", "--env", "Nope-v0"), "Unknown env id 'Nope-v0'"),
        })
        {
            Assert.True(o.Code == 2, $"exit {o.Code}; stdout: {o.Out}; stderr: {o.Err}");
            var lines = o.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, $"expected one line, got: {o.Err}");
            Assert.Contains(fragment, lines[0]);
            Assert.DoesNotContain("   at ", o.Err + o.Out);
        }
        Assert.False(Directory.Exists(Path.Combine(_dir, "runs"))); // nothing written for a refused run
    }
}
