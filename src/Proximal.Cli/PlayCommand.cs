using System.CommandLine;
using System.Globalization;
using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Registry;
using Proximal.Algorithms.SelfPlay;
using Proximal.Common.Persistence;
using Proximal.Envs.Games;
using Proximal.Envs.Registry;
using Proximal.Numerics;
using Proximal.Training.Runs;

namespace Proximal.Cli;

/// <summary>
/// <c>proximal play MODEL|RUN_DIR [--first human|agent] [--stochastic] [--seed S]</c>: a person plays Connect Four against a
/// trained self-play agent in the terminal. <c>--against random|minimax1|minimax2|minimax4|all --games N</c> instead plays
/// the agent against the reference players and prints its results as first and as second player. In place of a model,
/// <c>random</c> or <c>minimax&lt;d&gt;</c> (d 1..12) makes a reference player the subject: the same table for a
/// deeper search with the references' own heuristic, to calibrate what the targets ask.
/// </summary>
internal static class PlayCommand
{
    public const string GameEnvId = "ConnectFour-v0";

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A Connect Four model written by `proximal train --env ConnectFour-v0` (model.zip or a checkpoint), or its run folder; or, where no such file exists, a reference player as the subject: random or minimax<d> (d 1-12)." };
        var first = new Option<string>("--first") { Description = "Who moves first: human (default) or agent.", DefaultValueFactory = _ => "human" };
        var stochastic = new Option<bool>("--stochastic") { Description = "The agent samples its moves instead of playing its most likely legal move." };
        var seed = CliParsing.WholeOption("--seed", "Seed of the agent's sampling and of the reference players' tie-breaks (default 1).");
        var against = new Option<string?>("--against") { Description = "No person: play the agent against random, minimax1, minimax2, minimax4 or all of them." };
        var games = CliParsing.IntOption("--games", "-n", "Games per colour with --against.", 100);
        var opening = CliParsing.IntOption("--random-opening", "", "With --against: start each pair of games (agent first, agent second) from the same random opening of this many plies (0-8; 0: the empty board). Measures strength over many positions instead of a few replayed lines.", 0);
        var searchDepth = CliParsing.IntOption("--search-depth", "", "Look ahead this many plies (1-8), scoring the leaves with the agent's own critic (alpha-beta negamax; 0: no search, the policy's most likely move).", 0);
        var cmd = new Command("play", "Play Connect Four against a trained agent in the terminal (or rate it against reference players with --against).");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { first, stochastic, seed, against, games, searchDepth, opening }) cmd.Options.Add(o);
        cmd.SetAction(pr => Run(pr.GetValue(model)!, pr.GetValue(first)!, pr.GetValue(stochastic), pr.GetValue(seed) ?? 1, pr.GetValue(against), pr.GetValue(games), pr.GetValue(searchDepth), pr.GetValue(opening)));
        return cmd;
    }

    private static int Run(string path, string first, bool stochastic, long seed, string? against, int games, int searchDepth, int openingPlies)
    {
        if (openingPlies is < 0 or > 8) return CliParsing.UsageError($"--random-opening must be 0 to 8 plies (got {openingPlies}).");
        if (openingPlies > 0 && against is null) return CliParsing.UsageError("--random-opening needs --against (a person chooses their own opening).");
        if (searchDepth is < 0 or > 8) return CliParsing.UsageError($"--search-depth must be 0 (no search) to 8 (got {searchDepth}).");
        if (searchDepth > 0 && stochastic) return CliParsing.UsageError("--stochastic and --search-depth exclude each other: the search plays its best-valued move.");
        if (first is not ("human" or "agent")) return CliParsing.UsageError($"--first must be human or agent (got '{first}').");
        if (seed < 0) return CliParsing.UsageError($"--seed must be >= 0 (got {seed}).");
        if (games <= 0) return CliParsing.UsageError($"--games must be at least 1 (got {games}).");
        if (against is not null && against != "all" && ReferencePlayer.All.All(r => r.Name != against))
            return CliParsing.UsageError($"--against must be one of {string.Join(", ", ReferencePlayer.All.Select(r => r.Name))} or all (got '{against}').");
        if (!Directory.Exists(path) && !File.Exists(path) && ReferencePlayer.TryParseAnyDepth(path, out var reference))
        {
            if (stochastic || searchDepth > 0) return CliParsing.UsageError($"--stochastic and --search-depth apply to a trained agent, not to the reference player {path}.");
            var refRng = new Rng((ulong)seed);
            var subject = reference!.Create(refRng.Split()); // split first, as for an agent: the opponents' tie-breaks are the same
            string what = reference.Depth == 0 ? "uniform random moves" : $"alpha-beta depth {reference.Depth} with the references' heuristic";
            return against is null ? Interactive(subject, first == "human")
                : Rate(subject, against, games, refRng, $"Reference player {path} ({what})", "subject", openingPlies, (ulong)seed);
        }
        if (Directory.Exists(path))
        {
            string inFolder = Path.Combine(path, RunDirectory.ModelFileName);
            if (!File.Exists(inFolder)) return CliParsing.UsageError($"{path} is a folder without a {RunDirectory.ModelFileName}; give a run folder or a model file.");
            path = inFolder;
        }
        if (!File.Exists(path))
            return CliParsing.UsageError(path.StartsWith("minimax", StringComparison.OrdinalIgnoreCase) || path.Equals("random", StringComparison.OrdinalIgnoreCase)
                ? $"{path} is neither a model file nor a reference player (random, or minimax<d> with d 1-12)."
                : $"model file {path} does not exist.");

        BaseAlgorithm loaded;
        try { loaded = AlgorithmRegistry.Load(path); }
        catch (ModelFileException e) { return CliParsing.UsageError(e.Message); }
        catch (Exception e) when (e is ArgumentException or UnknownEnvException or NotSupportedException or InvalidDataException)
        { return CliParsing.UsageError($"cannot load {path}: {e.Message}"); }
        using (loaded)
        {
            if (loaded is not OnPolicyAlgorithm agent || loaded.EnvId != GameEnvId)
                return CliParsing.UsageError($"{path} was trained on {loaded.EnvId ?? "an unregistered env"} with {loaded.Algorithm}; play needs a {GameEnvId} model of an on-policy algorithm (ppo).");
            var rng = new Rng((ulong)seed);
            var sampler = rng.Split(); // split even with search, so the references' tie-breaks do not depend on the option
            IConnectFourPlayer player = searchDepth > 0 ? new ValueSearchPlayer(agent.Policy, searchDepth) : new PolicyPlayer(agent.Policy, deterministic: !stochastic, sampler);
            string how = searchDepth > 0 ? $"agent searches {searchDepth} plies on its critic's values" : "agent deterministic unless --stochastic";
            string subject = string.Format(CultureInfo.InvariantCulture, "Agent trained {0:N0} steps", agent.NumTimesteps);
            return against is null ? Interactive(player, first == "human") : Rate(player, against, games, rng, subject, "agent", openingPlies, (ulong)seed, how);
        }
    }

    private static int Rate(IConnectFourPlayer player, string against, int games, Rng rng, string subject, string who, int openingPlies, ulong seed, string? how = null)
    {
        var c = CultureInfo.InvariantCulture;
        string from = openingPlies > 0 ? $"each pair from a random {openingPlies}-ply opening, the same openings for every reference" : "";
        string notes = string.Join("; ", new[] { how, from }.Where(x => !string.IsNullOrEmpty(x)));
        Console.WriteLine(string.Format(c, "{0}; {1} games per colour against each reference{2}.", subject, games, notes.Length > 0 ? $" ({notes})" : ""));
        Console.WriteLine($"opponent    as first: win  draw  loss    as second: win  draw  loss    distinct games 1st/2nd    {who}'s one-move tactics");
        var opponents = new List<double>();
        var scores = new List<double>();
        var played = new List<int>();
        for (int j = 0; j < ReferencePlayer.All.Count; j++)
        {
            var r = ReferencePlayer.All[j];
            if (against != "all" && against != r.Name) continue;
            var tactics = new TacticsCounter(player);
            var openings = Matches.OpeningGenerator(seed); // one per reference: the same openings for every reference
            var m = Matches.Play(tactics, r.Create(rng.Split()), games, openingPlies, openings, out int distinct1, out int distinct2);
            Console.WriteLine(string.Format(c, "{0,-10}  {1,14:P1} {2,5} {3,5}    {4,15:P1} {5,5} {6,5}    {7,11} / {8,-10}    missed wins {9}/{10}, missed blocks {11}/{12}, wins handed {13}/{14}", r.Name,
                m.AsFirst.WinRate, m.AsFirst.Draws, m.AsFirst.Losses, m.AsSecond.WinRate, m.AsSecond.Draws, m.AsSecond.Losses, distinct1, distinct2,
                tactics.WinsMissed, tactics.WinsAvailable, tactics.BlocksMissed, tactics.BlocksNeeded, tactics.WinsHanded, tactics.SafeMovesAvailable));
            if (against != "all") continue;
            opponents.Add(Ratings.References[j]);
            scores.Add(m.Total.Wins + 0.5 * m.Total.Draws);
            played.Add(m.Total.Games);
        }
        if (against == "all")
            Console.WriteLine(string.Format(c, "Elo {0:F0} (random 0; references {1})", Elo.PerformanceRating(opponents.ToArray(), scores.ToArray(), played.ToArray()),
                string.Join(", ", ReferencePlayer.All.Select((r, j) => $"{r.Name} {Ratings.References[j]:F0}"))));
        return 0;
    }

    private static int Interactive(IConnectFourPlayer agent, bool humanFirst)
    {
        int human = humanFirst ? 0 : 1;
        Console.WriteLine($"Connect Four: you are {(human == 0 ? 'X' : 'O')} and move {(humanFirst ? "first" : "second")}. Type a column number 1-7 (q quits).");
        var board = new ConnectFour();
        while (true)
        {
            int column;
            if (board.PlayerToMove == human)
            {
                Console.Write(board.ToString());
                int? chosen = ReadMove(board);
                if (chosen is null) { Console.WriteLine("Game abandoned."); return 0; }
                column = chosen.Value;
            }
            else
            {
                column = agent.ChooseMove(board);
                Console.WriteLine($"Agent plays column {column + 1}.");
            }
            var outcome = board.Play(column);
            if (outcome == GameOutcome.Ongoing) continue;
            Console.Write(board.ToString());
            Console.WriteLine(outcome == GameOutcome.Draw ? "Draw: the board is full." : board.PlayerToMove == human ? "The agent wins." : "You win!");
            return 0;
        }
    }

    /// <summary>A legal column (0-based) from stdin, re-prompting after bad input; null on q or end of input.</summary>
    private static int? ReadMove(in ConnectFour board)
    {
        while (true)
        {
            Console.Write("Your move (1-7): ");
            string? line = Console.ReadLine();
            if (line is null) { Console.WriteLine(); return null; }
            line = line.Trim();
            if (line is "q" or "quit") return null;
            if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > ConnectFour.Columns)
            {
                Console.WriteLine($"'{line}' is not a column: type a number from 1 to 7 (or q to quit).");
                continue;
            }
            if (!board.IsLegal(n - 1))
            {
                Console.WriteLine($"Column {n} is full: choose another.");
                continue;
            }
            return n - 1;
        }
    }
}
