using System.Diagnostics;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Algorithms.SelfPlay;
using Proximal.Envs.Games;
using Proximal.Tests.Training;

namespace Proximal.Tests.Cli;

/// <summary>`proximal play` as a child process with scripted stdin: a game against a saved agent, bad input re-prompts.</summary>
public sealed class PlayCommandTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private static string CliDll()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = baseDir.Name, configuration = baseDir.Parent!.Name;
        string root = baseDir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "src", "Proximal.Cli", "bin", configuration, tfm, "Proximal.Cli.dll");
    }

    private (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        string dll = CliDll();
        Assert.True(File.Exists(dll), $"{dll} is missing: build Proximal.sln first.");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = _dir, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) { p.Kill(entireProcessTree: true); Assert.Fail("play did not exit"); }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private string SaveAgent(out Ppo keep)
    {
        var o = new PpoOptions { NEnvs = 2, NSteps = 16, MinibatchSize = 32, NEpochs = 1, Seed = 4, Policy = new PolicyOptions { HiddenSizes = [16] } };
        keep = Ppo.Create("ConnectFour-v0", o);
        keep.Learn(64);
        string path = Path.Combine(_dir, "c4.zip");
        keep.Save(path);
        return path;
    }

    [Fact]
    public void APersonPlaysTheAgentAndBadInputIsAClearLineAndARePrompt()
    {
        string model = SaveAgent(out var ppo);
        using var _ = ppo;
        // The script: the human (first, X) blocks the agent's wins in one, else plays the lowest column that does not win
        // at once, so column 1 fills up; the first time it is full, the script tries it once (expect a re-prompt).
        var agent = new PolicyPlayer(ppo.Policy, deterministic: true);
        var board = new ConnectFour();
        var lines = new List<string> { "abc", "0", "9" }; // not a number, out of range, out of range
        bool triedFull = false;
        string expectedEnd;
        while (true)
        {
            int col;
            if (board.PlayerToMove == 0)
            {
                if (!triedFull && !board.IsLegal(0)) { lines.Add("1"); triedFull = true; }
                col = Block(board) ?? Enumerable.Range(0, 7).First(c => board.IsLegal(c) && !Wins(board, c) || c == 6);
                if (!board.IsLegal(col)) col = Enumerable.Range(0, 7).First(board.IsLegal);
                lines.Add((col + 1).ToString());
            }
            else col = agent.ChooseMove(board);
            var outcome = board.Play(col);
            if (outcome == GameOutcome.Ongoing) continue;
            expectedEnd = outcome == GameOutcome.Draw ? "Draw" : board.PlayerToMove == 1 ? "You win!" : "The agent wins.";
            break;
        }
        Assert.True(triedFull, "the scripted game never filled column 1; pick another seed for the test agent");

        var r = Run(string.Join("\n", lines) + "\n", "play", model, "--first", "human");
        Assert.True(r.Code == 0, $"exit {r.Code}: {r.Err}");
        Assert.Equal("", r.Err);
        Assert.Contains("you are X and move first", r.Out);
        Assert.Contains("'abc' is not a column: type a number from 1 to 7", r.Out);
        Assert.Contains("'0' is not a column", r.Out);
        Assert.Contains("'9' is not a column", r.Out);
        Assert.Contains("Column 1 is full: choose another.", r.Out);
        Assert.Contains("  1 2 3 4 5 6 7", r.Out);
        Assert.Contains("Agent plays column", r.Out);
        Assert.Contains(expectedEnd, r.Out);
    }

    private static bool Wins(ConnectFour b, int c) { if (!b.IsLegal(c)) return false; var x = b; return x.Play(c) == GameOutcome.Win; }

    /// <summary>The column where the agent (O) would win next move, if any; called on the human's (X's) turn.</summary>
    private static int? Block(ConnectFour b)
    {
        var (p0, p1, m) = b.ToBits();
        var swapped = ConnectFour.FromBits(p1, p0, m); // colours swapped (equal counts on X's turn): O's pieces move now
        for (int c = 0; c < 7; c++) if (Wins(swapped, c)) return c;
        return null;
    }

    [Fact]
    public void AgentFirstEndOfInputAndRatingMode()
    {
        string model = SaveAgent(out var ppo);
        ppo.Dispose();
        var r = Run("", "play", model, "--first", "agent");
        Assert.Equal(0, r.Code);
        Assert.Contains("you are O and move second", r.Out);
        Assert.Contains("Agent plays column", r.Out);
        Assert.Contains("Game abandoned.", r.Out);

        r = Run("", "play", model, "--against", "random", "--games", "3");
        Assert.Equal(0, r.Code);
        Assert.Contains("random", r.Out);
        Assert.Contains("as first", r.Out);
        Assert.DoesNotContain("minimax4", r.Out);
        Assert.Contains("distinct games", r.Out);

        r = Run("", "play", model, "--against", "minimax1", "--games", "2", "--search-depth", "2");
        Assert.Equal(0, r.Code);
        Assert.Contains("agent searches 2 plies on its critic's values", r.Out);
        Assert.Contains("minimax1", r.Out);

        foreach (var (args, fragment) in new[]
        {
            (new[] { "play", model, "--first", "nobody" }, "--first must be human or agent"),
            (new[] { "play", model, "--against", "minimax3" }, "--against must be one of"),
            (new[] { "play", Path.Combine(_dir, "missing.zip") }, "does not exist"),
            (new[] { "play", model, "--search-depth", "9" }, "--search-depth must be 0 (no search) to 8"),
            (new[] { "play", model, "--search-depth", "2", "--stochastic" }, "--stochastic and --search-depth exclude each other"),
        })
        {
            var bad = Run("", args);
            Assert.Equal(2, bad.Code);
            var errLines = bad.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(errLines);
            Assert.Contains(fragment, errLines[0]);
        }
    }

    [Fact]
    public void AReferencePlayerCanBeTheSubjectOfTheRatingTable()
    {
        var r = Run("", "play", "minimax4", "--against", "minimax2", "--games", "6", "--random-opening", "2", "--seed", "3");
        Assert.True(r.Code == 0, $"exit {r.Code}: {r.Err}");
        Assert.Contains("Reference player minimax4 (alpha-beta depth 4 with the references' heuristic); 6 games per colour", r.Out);
        Assert.Contains("subject's one-move tactics", r.Out);
        // The same match in process, with the generators split in the command's order: the subject's first, then the reference's.
        var rng = new Proximal.Numerics.Rng(3);
        var subject = new MinimaxPlayer(4, rng.Split());
        var m = Matches.Play(subject, new MinimaxPlayer(2, rng.Split()), 6, 2, Matches.OpeningGenerator(3), out _, out _);
        string row = r.Out.Split('\n').Single(l => l.StartsWith("minimax2", StringComparison.Ordinal));
        var c = System.Globalization.CultureInfo.InvariantCulture;
        var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Format(c, "{0:P1}", m.AsFirst.WinRate), cells[1] + " " + cells[2]);
        Assert.Equal((m.AsFirst.Draws, m.AsFirst.Losses), (int.Parse(cells[3], c), int.Parse(cells[4], c)));
        Assert.Equal(string.Format(c, "{0:P1}", m.AsSecond.WinRate), cells[5] + " " + cells[6]);
        Assert.Equal((m.AsSecond.Draws, m.AsSecond.Losses), (int.Parse(cells[7], c), int.Parse(cells[8], c)));

        Assert.True(ReferencePlayer.TryParseAnyDepth("minimax12", out var deep) && deep!.Depth == 12);
        Assert.True(ReferencePlayer.TryParseAnyDepth("random", out var random) && random!.Depth == 0);
        foreach (var name in new[] { "minimax", "minimax0", "minimax13", "minimax04", "minimax-1", "Minimax2", "minimax2x" })
            Assert.False(ReferencePlayer.TryParseAnyDepth(name, out _), name);

        foreach (var (args, fragment) in new[]
        {
            (new[] { "play", "minimax2", "--search-depth", "2" }, "apply to a trained agent, not to the reference player minimax2"),
            (new[] { "play", "minimax2", "--stochastic" }, "apply to a trained agent"),
            (new[] { "play", "minimax13", "--against", "random" }, "minimax13 is neither a model file nor a reference player (random, or minimax<d> with d 1-12)"),
            (new[] { "play", "Random" }, "Random is neither a model file nor a reference player"),
        })
        {
            var bad = Run("", args);
            Assert.Equal(2, bad.Code);
            var errLines = bad.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(errLines);
            Assert.Contains(fragment, errLines[0]);
        }
    }

    [Fact]
    public void AModelOfAnotherEnvIsRefusedInOneLine()
    {
        using var cart = Ppo.Create("CartPole-v1", new PpoOptions { NEnvs = 1, NSteps = 16, MinibatchSize = 16, NEpochs = 1 });
        string path = Path.Combine(_dir, "cart.zip");
        cart.Save(path);
        var r = Run("", "play", path);
        Assert.Equal(2, r.Code);
        Assert.Contains("play needs a ConnectFour-v0 model", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
