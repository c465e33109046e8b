using Proximal.Numerics;

namespace Proximal.Envs.Games;

/// <summary>A Connect Four player that picks a legal column for the player to move.</summary>
public interface IConnectFourPlayer
{
    /// <summary>A legal column (0..6) for <see cref="ConnectFour.PlayerToMove"/>; the game must not be over.</summary>
    int ChooseMove(in ConnectFour board);
}

/// <summary>Uniformly random legal column, drawn from its own seeded generator.</summary>
public sealed class RandomPlayer(Rng rng) : IConnectFourPlayer
{
    private readonly Rng _rng = rng ?? throw new ArgumentNullException(nameof(rng));

    public int ChooseMove(in ConnectFour board) => RandomLegal(board, _rng);

    /// <summary>One uniform draw among the legal columns.</summary>
    public static int RandomLegal(in ConnectFour board, Rng rng)
    {
        Span<int> legal = stackalloc int[ConnectFour.Columns];
        int k = 0;
        for (int c = 0; c < ConnectFour.Columns; c++) if (board.IsLegal(c)) legal[k++] = c;
        if (k == 0) throw new InvalidOperationException("No legal move: the board is full.");
        return legal[rng.NextInt(k)];
    }
}

/// <summary>
/// Depth-limited negamax with alpha-beta pruning, a reference opponent for ratings.
/// <para>Depth d searches d plies: depth 1 sees its own move (takes a win in one), depth 2 also the reply
/// (avoids a loss in one), depth 4 two moves each.</para>
/// <para>Values: a win found k plies ahead scores <see cref="WinScore"/> − k (sooner wins are better, later losses
/// less bad); a draw 0; a leaf that is not over scores <see cref="Evaluate"/> from the side to move.</para>
/// <para>Tie-breaking: each root column gets its exact value (its own full-window search); the player draws uniformly
/// among the columns with the best value from its seeded generator, so repeated games differ but a seed replays them.</para>
/// </summary>
public sealed class MinimaxPlayer : IConnectFourPlayer
{
    public const int WinScore = 1_000_000;
    private static readonly int[] Order = [3, 2, 4, 1, 5, 0, 6]; // centre first: better pruning, same values
    private static readonly ulong[] Windows = BuildWindows();
    private readonly Rng _rng;

    public MinimaxPlayer(int depth, Rng rng)
    {
        if (depth < 1 || depth > 12) throw new ArgumentOutOfRangeException(nameof(depth), depth, "Minimax depth must be 1..12.");
        Depth = depth;
        _rng = rng ?? throw new ArgumentNullException(nameof(rng));
    }

    public int Depth { get; }

    public int ChooseMove(in ConnectFour board)
    {
        Span<int> best = stackalloc int[ConnectFour.Columns];
        int k = 0, bestValue = int.MinValue;
        for (int c = 0; c < ConnectFour.Columns; c++)
        {
            if (!board.IsLegal(c)) continue;
            int v = RootValue(board, c, Depth);
            if (v > bestValue) { bestValue = v; k = 0; }
            if (v == bestValue) best[k++] = c;
        }
        if (k == 0) throw new InvalidOperationException("No legal move: the board is full.");
        return best[k == 1 ? 0 : _rng.NextInt(k)];
    }

    /// <summary>The negamax value, for the player to move, of playing <paramref name="column"/> and searching depth − 1 more plies.</summary>
    public static int RootValue(in ConnectFour board, int column, int depth)
    {
        var child = board;
        var outcome = child.Play(column);
        if (outcome == GameOutcome.Win) return WinScore - 1;
        if (outcome == GameOutcome.Draw) return 0;
        return -Negamax(child, depth - 1, -int.MaxValue, int.MaxValue, 1);
    }

    private static int Negamax(ConnectFour board, int depth, int alpha, int beta, int ply)
    {
        if (depth == 0) return Evaluate(board);
        int best = -int.MaxValue;
        foreach (int c in Order)
        {
            if (!board.IsLegal(c)) continue;
            var child = board;
            var outcome = child.Play(c);
            int v = outcome switch
            {
                GameOutcome.Win => WinScore - (ply + 1),
                GameOutcome.Draw => 0,
                _ => -Negamax(child, depth - 1, -beta, -alpha, ply + 1),
            };
            if (v > best) best = v;
            if (v > alpha) alpha = v;
            if (alpha >= beta) break;
        }
        return best;
    }

    /// <summary>
    /// Heuristic value for the player to move: over the 69 lines of four cells, a line holding only that player's
    /// pieces adds 1, 4 or 16 for 1, 2 or 3 pieces, one holding only the opponent's subtracts the same; each piece in
    /// the centre column adds 3 (own) or subtracts 3 (opponent's). Lines with both colours are dead and count 0.
    /// </summary>
    public static int Evaluate(in ConnectFour board)
    {
        ulong own = board.PiecesOf(board.PlayerToMove), other = board.PiecesOf(1 - board.PlayerToMove);
        int score = 0;
        foreach (ulong w in Windows)
        {
            int a = System.Numerics.BitOperations.PopCount(own & w), b = System.Numerics.BitOperations.PopCount(other & w);
            if (b == 0) score += Weight(a);
            else if (a == 0) score -= Weight(b);
        }
        const ulong centre = 0b111111UL << (3 * 7);
        score += 3 * (System.Numerics.BitOperations.PopCount(own & centre) - System.Numerics.BitOperations.PopCount(other & centre));
        return score;
    }

    private static int Weight(int pieces) => pieces switch { 1 => 1, 2 => 4, 3 => 16, _ => 0 };

    private static ulong[] BuildWindows()
    {
        var list = new List<ulong>();
        ReadOnlySpan<(int Dc, int Dr)> dirs = [(1, 0), (0, 1), (1, 1), (1, -1)];
        foreach (var (dc, dr) in dirs)
            for (int c = 0; c < ConnectFour.Columns; c++)
                for (int r = 0; r < ConnectFour.Rows; r++)
                {
                    int ec = c + 3 * dc, er = r + 3 * dr;
                    if (ec < 0 || ec >= ConnectFour.Columns || er < 0 || er >= ConnectFour.Rows) continue;
                    ulong w = 0;
                    for (int k = 0; k < 4; k++) w |= 1UL << ((c + k * dc) * 7 + r + k * dr);
                    list.Add(w);
                }
        return list.ToArray(); // 24 horizontal + 21 vertical + 12 + 12 diagonal = 69
    }

    /// <summary>The 69 four-cell lines as bitboards (for tests).</summary>
    public static IReadOnlyList<ulong> Lines => Windows;
}
