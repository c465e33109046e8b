using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Proximal.Tests.Training;
using Proximal.Common.Persistence;

namespace Proximal.Tests.Cli;

/// <summary>
/// The `proximal` command as a user meets it: the built Proximal.Cli.dll run as a child process (issue 8: bad input is one
/// line and exit 2, never a stack trace; interrupts end with a saved model and the resume command).
/// </summary>
public sealed class CliProcessTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private static readonly string CliDll = FindCli();

    private static string FindCli()
    {
        // tests/Proximal.Tests/bin/<Configuration>/<tfm>/ → src/Proximal.Cli/bin/<Configuration>/<tfm>/Proximal.Cli.dll
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = baseDir.Name, configuration = baseDir.Parent!.Name;
        string root = baseDir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "src", "Proximal.Cli", "bin", configuration, tfm, "Proximal.Cli.dll");
    }

    private Process Start(params string[] args)
    {
        Assert.True(File.Exists(CliDll), $"{CliDll} is missing: build Proximal.sln first.");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PROXIMAL_LAUNCHER"] = "./proximal";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(psi)!;
    }

    private sealed record Outcome(int Code, string Out, string Err);

    private static Outcome Finish(Process p)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(entireProcessTree: true); Assert.Fail("the CLI did not exit"); }
        p.WaitForExit();
        return new Outcome(p.ExitCode, stdout.Result, stderr.Result);
    }

    private Outcome Run(params string[] args) { using var p = Start(args); return Finish(p); }

    /// <summary>Exit 2 and exactly one line on stderr, containing every fragment; no stack trace, no .NET type names.</summary>
    private static void BadInput(Outcome o, params string[] fragments)
    {
        Assert.True(o.Code == 2, $"exit {o.Code}; stdout: {o.Out}; stderr: {o.Err}");
        var lines = o.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got: {o.Err}");
        Assert.StartsWith("error: ", lines[0]);
        foreach (var f in fragments) Assert.Contains(f, lines[0]);
        foreach (var bad in new[] { "   at ", "Exception", "System.", "Int64", "Int32", "Nullable" }) Assert.DoesNotContain(bad, o.Err + o.Out);
    }

    [Fact]
    public void ConfigSyntaxErrorNamesFileKeyAndLine()
    {
        File.WriteAllText(Path.Combine(_dir, "bad.yaml"), "learning_rate: 1e-3\nn_steps: [32\ngamma: 0.99\n");
        BadInput(Run("train", "--env", "CartPole-v1", "--config", "bad.yaml"), "bad.yaml:2:", "'n_steps'", "never closed");
        Assert.False(Directory.Exists(Path.Combine(_dir, "runs")));
    }

    [Fact]
    public void RunDirThatCannotBeCreatedIsOneLine()
    {
        File.WriteAllText(Path.Combine(_dir, "afile"), "x");
        BadInput(Run("train", "--env", "CartPole-v1", "--steps", "256", "--run-dir", "afile/run"), "--run-dir afile/run", "is a file, not a folder");
    }

    [Fact]
    public void StepCountsTakeUserSpellingsAndBadOnesAreOneLine()
    {
        // 1e5 and 1_000_000 parse (the request then fails on the unknown env, before anything is written).
        BadInput(Run("train", "--env", "NoSuchEnv-v0", "--steps", "1e5"), "Unknown env id 'NoSuchEnv-v0'");
        BadInput(Run("train", "--env", "NoSuchEnv-v0", "--steps", "1_000_000", "--eval-every", "2.5e4", "--checkpoint-every", "5_000"), "Unknown env id");
        BadInput(Run("train", "--env", "CartPole-v1", "--steps", "1.5"), "--steps: '1.5' is not a whole number of steps");
        BadInput(Run("train", "--env", "CartPole-v1", "--eval-every", "often"), "--eval-every: 'often' is not a whole number");
        BadInput(Run("train", "--env", "CartPole-v1", "--set", "total_steps=1.5"), "key 'total_steps' has value '1.5' but expects an integer");
        BadInput(Run("eval", "model.zip", "--n-envs", "two"), "--n-envs: 'two' is not a whole number");
        BadInput(Run("train", "--env", "CartPole-v1", "--no-such-option"), "--no-such-option");
        BadInput(Run("eval", "missing.zip"), "missing.zip does not exist");
        BadInput(Run("plot", "missing-run"), "'missing-run' is neither a run folder nor a CSV file");
    }

    [Fact]
    public void BenchOffPolicyRejectsAStepCountOutOfRange()
    {
        BadInput(Run("bench", "offpolicy", "--steps", "5"), "--steps must be between 10 and 1,000,000; got 5.");
    }

    [Fact]
    public void BenchSelfPlayReportsTheProjectedWallTimeAndRejectsBadCounts()
    {
        BadInput(Run("bench", "selfplay", "--updates", "0"), "--updates must be between 1 and 100000 (got 0).");
        BadInput(Run("bench", "selfplay", "--threads", "0"), "--threads must be between 1 and 256 (got 0).");
        var run = Run("bench", "selfplay", "--updates", "1", "--threads", "1", "--json");
        Assert.True(run.Code == 0, run.Out + run.Err);
        var cases = run.Out.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!).ToList();
        var projected = Assert.Single(cases, c => ((string?)c["name"] ?? "").StartsWith("projected wall time of total_steps ")); // the count's digits follow the locale
        Assert.True((double)projected["value"]! > 0);
        Assert.Contains("61 ratings included", (string?)projected["note"]);
        Assert.Contains(cases, c => (string?)c["name"] == "self-play ppo end to end, pool full" && (double)c["value"]! > 0);
        Assert.Contains(cases, c => ((string?)c["name"] ?? "").StartsWith("one rating") && (double)c["value"]! > 0);
    }

    [Fact]
    public void BenchSelfPlayMeasuresAVariantOfTheConfigGivenBySet()
    {
        BadInput(Run("bench", "selfplay", "--set", "n_stepz=3"), "unknown key 'n_stepz'");
        var run = Run("bench", "selfplay", "--updates", "1", "--threads", "1", "--set", "n_epochs=1", "--set", "policy.shared_trunk=false", "--compare-dense");
        Assert.True(run.Code == 0, run.Out + run.Err);
        var section = Assert.Single(run.Out.Split('\n'), l => l.StartsWith("== ConnectFour-v0"));
        Assert.Contains(", 1 epochs, minibatch 2048, separate networks [256, 256],", section); // the overrides reached the measured options (the config: 4 epochs, a shared trunk)
        Assert.EndsWith("; --set n_epochs=1 policy.shared_trunk=false", section.TrimEnd());
        // --compare-dense: the same updates with the sparse input path off, and the ratio between the two
        var dense = Assert.Single(run.Out.Split('\n'), l => l.StartsWith("the same, dense input path (sparse path off), rounds alternated"));
        Assert.Contains("the sparse path is ", dense);
    }

    [Fact]
    public void BenchLearnRejectsABadRequestBeforeRunningAnything()
    {
        BadInput(Run("bench", "learn", "--tasks", "Nope-v0", "--seeds", "1"), "Unknown env id 'Nope-v0'");
        BadInput(Run("bench", "learn", "--tasks", "Pendulum-v1", "--seed-start", "-3"), "--seed-start must be >= 0 (got -3).");
        BadInput(Run("bench", "learn", "--tasks", "Pendulum-v1", "--set", "n_stepz=3"), "unknown key 'n_stepz'");
        BadInput(Run("bench", "learn", "--suite", "nope"), "unknown suite 'nope'");
        BadInput(Run("bench", "learn", "--algo", "ppo", "nope", "--tasks", "Pendulum-v1"), "unknown algorithm 'nope'");
        BadInput(Run("bench", "learn", "--tasks", "Pendulum-v1", "--checkpoint-every", "-1"), "--checkpoint-every must be >= 0 (got -1).");
    }

    [Fact]
    public void EvalTakesARunFolderAndAnEnvWithTheSameSpacesAndPlotKeepsItsInputs()
    {
        var train = Run("train", "--env", "CartPole-v1", "--steps", "512", "--run-dir", "run", "--eval-episodes", "1", "--checkpoint-every", "0", "--no-progress");
        Assert.True(train.Code == 0, train.Out + train.Err);

        var eval = Run("eval", "run", "--episodes", "2");
        Assert.True(eval.Code == 0, eval.Out + eval.Err);
        Assert.Contains("ppo on CartPole-v1, trained 512 steps; 2 episodes", eval.Out);
        var same = Run("eval", "run/model.zip", "--episodes", "1", "--env", "CartPole-v1");
        Assert.True(same.Code == 0, same.Out + same.Err);
        BadInput(Run("eval", "run", "--env", "Acrobot-v1"), "--env Acrobot-v1", "observation spaces differ");
        BadInput(Run("eval", "run", "--env", "Nope-v1"), "Unknown env id 'Nope-v1'");

        string csv = Path.Combine(_dir, "run", "progress.csv"), model = Path.Combine(_dir, "run", "model.zip");
        string csvBefore = File.ReadAllText(csv);
        byte[] modelBefore = File.ReadAllBytes(model);
        BadInput(Run("plot", "run", "--out", "run/progress.csv"), "one of the inputs");
        BadInput(Run("plot", "run", "--out", "run/progress.csv", "--force"), "one of the inputs");
        BadInput(Run("plot", "run", "--out", "run/model.zip"), "not a plot written by proximal", "--force");
        Assert.Equal(csvBefore, File.ReadAllText(csv));
        Assert.Equal(modelBefore, File.ReadAllBytes(model));
        var plot = Run("plot", "run", "--out", "run/curve.svg"); // its own plot from the training run: replaced
        Assert.True(plot.Code == 0, plot.Out + plot.Err);
    }

    [Fact]
    public void PpoWithTheNoVelConfigTrainsRecurrentPpoAndEvalCarriesItsState()
    {
        var train = Run("train", "--algo", "ppo", "--env", "CartPoleNoVel-v1", "--steps", "512", "--run-dir", "run", "--eval-episodes", "1",
            "--checkpoint-every", "0", "--no-progress");
        Assert.True(train.Code == 0, train.Out + train.Err);
        Assert.Contains("Training recurrent_ppo on CartPoleNoVel-v1", train.Out);
        var eval = Run("eval", "run", "--episodes", "2");
        Assert.True(eval.Code == 0, eval.Out + eval.Err);
        Assert.Contains("recurrent_ppo on CartPoleNoVel-v1, trained 512 steps; 2 episodes", eval.Out);
        BadInput(Run("train", "--algo", "a2c", "--env", "CartPole-v1", "--set", "policy.lstm_hidden_size=8"), "policy.lstm_hidden_size");
        BadInput(Run("train", "--env", "CartPoleNoVel-v1", "--set", "policy.lstm_sequence_length=5"), "policy.lstm_sequence_length 5 does not divide n_steps 32");
        BadInput(Run("bench", "recurrent", "--env", "CartPole-v1"), "not recurrent");
    }

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int kill(int pid, int signal);
    private const int SIGHUP = 1, SIGINT = 2, SIGTERM = 15;

    [Theory]
    [InlineData("SIGTERM", new[] { SIGTERM })]
    [InlineData("SIGHUP", new[] { SIGHUP })]
    [InlineData("Ctrl-C", new[] { SIGINT, SIGINT })] // a second Ctrl-C while stopping must not lose the model
    public async Task InterruptsSaveTheModelAndPrintTheResumeCommand(string name, int[] signals)
    {
        using var p = Start("train", "--env", "CartPole-v1", "--steps", "1e7", "--run-dir", "run", "--checkpoint-every", "0", "--eval-every", "0", "--no-progress");
        try
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            string csv = Path.Combine(_dir, "run", "progress.csv");
            // Wait (polling; the limit only guards against a hang) until training has logged two updates.
            var guard = Stopwatch.StartNew();
            while (!p.HasExited && !(File.Exists(csv) && ReadShared(csv).Count(c => c == '\n') >= 3) && guard.Elapsed < TimeSpan.FromMinutes(5))
                await Task.Delay(50);
            if (p.HasExited) Assert.Fail($"training ended before it was interrupted: {await stdout}{await stderr}");
            foreach (int s in signals) Assert.Equal(0, kill(p.Id, s));
            if (!p.WaitForExit(TimeSpan.FromMinutes(5))) Assert.Fail("training did not stop");
            await p.WaitForExitAsync();
            string output = await stdout + await stderr;

            Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: {output}");
            Assert.Contains($"Interrupted ({name}) at step ", output);
            string model = Path.Combine(_dir, "run", "model.zip");
            var saved = ModelArchive.Load(model);
            long steps = saved.Metadata["num_timesteps"]!.GetValue<long>();
            Assert.True(steps > 0);
            string resume = $"Resume with: ./proximal train --resume run/model.zip --steps {10_000_000 - steps}";
            Assert.Contains(resume, output);
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "run", "summary.json")))!;
            Assert.Equal(resume["Resume with: ".Length..], summary["resume_command"]!.GetValue<string>());
            Assert.DoesNotContain("   at ", output);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    private static string ReadShared(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StreamReader(s).ReadToEnd();
        }
        catch (IOException) { return ""; }
    }
}
