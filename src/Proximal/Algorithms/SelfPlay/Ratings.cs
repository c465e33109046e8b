using Proximal.Algorithms.Policies;
using Proximal.Envs.Games;
using Proximal.Numerics;

namespace Proximal.Algorithms.SelfPlay;

/// <summary>A fixed reference player: uniform random (depth 0) or alpha-beta minimax of a depth.</summary>
public sealed record ReferencePlayer(string Name, int Depth)
{
    public IConnectFourPlayer Create(Rng rng) => Depth == 0 ? new RandomPlayer(rng) : new MinimaxPlayer(Depth, rng);

    /// <summary>random, minimax1, minimax2, minimax4 — the issue's fixed references.</summary>
    public static readonly IReadOnlyList<ReferencePlayer> All =
        [new("random", 0), new("minimax1", 1), new("minimax2", 2), new("minimax4", 4)];

    public static ReferencePlayer Parse(string name) => All.FirstOrDefault(r => r.Name == name)
        ?? throw new ArgumentException($"Unknown reference player '{name}'; known: {string.Join(", ", All.Select(r => r.Name))}.");

    /// <summary>
    /// random, or minimax&lt;d&gt; for any depth the minimax player supports (1..12): a reference of another depth, e.g. to
    /// measure what a deeper search with the same heuristic scores against the fixed references.
    /// </summary>
    public static bool TryParseAnyDepth(string name, out ReferencePlayer? reference)
    {
        reference = null;
        if (name == "random") { reference = All[0]; return true; }
        if (!name.StartsWith("minimax", StringComparison.Ordinal)) return false;
        string digits = name["minimax".Length..];
        if (digits.Length is 0 or > 2 || digits[0] == '0' || !digits.All(char.IsAsciiDigit)) return false;
        int depth = int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        if (depth > 12) return false;
        reference = new ReferencePlayer(name, depth);
        return true;
    }
}

/// <summary>One rating of a policy: its results against each reference and its Elo.</summary>
public sealed record RatingReport(IReadOnlyList<(ReferencePlayer Reference, double ReferenceElo, MatchResult Result)> Matches, double Elo);

/// <summary>
/// Elo of policies against the fixed references. The scale: random = 0. The references' own ratings are measured
/// once (per process), each from matches against the weaker ones already rated (performance rating, seed fixed):
/// minimax1 vs random, minimax2 vs both, minimax4 vs all three, <see cref="ReferenceGames"/> games per colour each.
/// A policy's rating is then its performance rating from its games against all four.
/// </summary>
public static class Ratings
{
    public const int ReferenceGames = 100;
    private static readonly Lazy<double[]> ReferenceElos = new(MeasureReferences);

    /// <summary>The references' Elo (random = 0), in the order of <see cref="ReferencePlayer.All"/>.</summary>
    public static IReadOnlyList<double> References => ReferenceElos.Value;

    private static double[] MeasureReferences()
    {
        var all = ReferencePlayer.All;
        var elo = new double[all.Count];
        var rng = new Rng(20261201);
        for (int i = 1; i < all.Count; i++)
        {
            var ratings = new double[i];
            var scores = new double[i];
            var games = new int[i];
            for (int j = 0; j < i; j++)
            {
                var r = Matches.Play(all[i].Create(rng.Split()), all[j].Create(rng.Split()), ReferenceGames).Total;
                ratings[j] = elo[j];
                scores[j] = r.Wins + 0.5 * r.Draws;
                games[j] = r.Games;
            }
            elo[i] = Elo.PerformanceRating(ratings, scores, games);
        }
        return elo;
    }

    /// <summary>
    /// Plays <paramref name="gamesPerColour"/> games per colour against each reference (policy deterministic) and rates it;
    /// with <paramref name="openingPlies"/> &gt; 0 each pair of games starts from a random opening, the same openings for
    /// every reference (drawn from <paramref name="seed"/>).
    /// </summary>
    public static RatingReport Rate(ActorCritic policy, int gamesPerColour, ulong seed, int openingPlies = 0)
    {
        var refs = ReferencePlayer.All;
        var elos = References;
        var rng = new Rng(seed);
        var player = new PolicyPlayer(policy, deterministic: true);
        var rows = new List<(ReferencePlayer, double, MatchResult)>();
        var scores = new double[refs.Count];
        var games = new int[refs.Count];
        for (int j = 0; j < refs.Count; j++)
        {
            var m = Matches.Play(player, refs[j].Create(rng.Split()), gamesPerColour, openingPlies, Matches.OpeningGenerator(seed), out _, out _);
            rows.Add((refs[j], elos[j], m));
            scores[j] = m.Total.Wins + 0.5 * m.Total.Draws;
            games[j] = m.Total.Games;
        }
        return new RatingReport(rows, Elo.PerformanceRating(elos.ToArray(), scores, games));
    }
}
