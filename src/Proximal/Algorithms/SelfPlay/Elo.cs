namespace Proximal.Algorithms.SelfPlay;

/// <summary>
/// Elo ratings (Elo 1978; the FIDE formulas). The expected score of A against B is
/// E_A = 1 / (1 + 10^((R_B − R_A)/400)); after a game with score S_A (1 win, ½ draw, 0 loss) the update is
/// R_A' = R_A + K·(S_A − E_A). A checkpoint's rating from a set of matches against opponents of fixed rating is the
/// maximum-likelihood rating under the same logistic model (<see cref="PerformanceRating"/>).
/// </summary>
public static class Elo
{
    /// <summary>Expected score of a player rated <paramref name="ra"/> against one rated <paramref name="rb"/>.</summary>
    public static double Expected(double ra, double rb) => 1.0 / (1.0 + Math.Pow(10.0, (rb - ra) / 400.0));

    /// <summary>Both ratings after one game; <paramref name="scoreA"/> is A's result (1, 0.5 or 0), K the step.</summary>
    public static (double A, double B) Update(double ra, double rb, double scoreA, double k = 32)
    {
        if (scoreA is < 0 or > 1 || double.IsNaN(scoreA)) throw new ArgumentOutOfRangeException(nameof(scoreA), scoreA, "A game's score is 0, 0.5 or 1.");
        double ea = Expected(ra, rb);
        double delta = k * (scoreA - ea);
        return (ra + delta, rb - delta);
    }

    /// <summary>
    /// The rating r that maximises the likelihood of the results: Σ_j (s_j − g_j·E(r, R_j)) = 0, where opponent j has
    /// rating R_j and the player scored s_j points in g_j games. Every opponent also counts one virtual draw (s += ½,
    /// g += 1) — a weak prior that keeps the rating finite after all wins or all losses (then it lands within a few hundred
    /// points of the strongest beaten or weakest unbeaten opponent, not at ±∞). Solved by bisection on [−4000, 6000].
    /// </summary>
    public static double PerformanceRating(ReadOnlySpan<double> opponentRatings, ReadOnlySpan<double> scores, ReadOnlySpan<int> games)
    {
        if (opponentRatings.Length != scores.Length || scores.Length != games.Length || scores.Length == 0)
            throw new ArgumentException("PerformanceRating needs one rating, score and game count per opponent, at least one opponent.");
        double lo = -4000, hi = 6000;
        for (int it = 0; it < 200; it++)
        {
            double mid = 0.5 * (lo + hi), f = 0;
            for (int j = 0; j < scores.Length; j++) f += scores[j] + 0.5 - (games[j] + 1) * Expected(mid, opponentRatings[j]);
            if (f > 0) lo = mid; else hi = mid; // f decreases in r: positive means the rating is still too low
        }
        return 0.5 * (lo + hi);
    }
}
