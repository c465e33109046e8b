using Proximal.Algorithms.Policies;
using Proximal.Envs.Games;
using Proximal.Numerics;

namespace Proximal.Algorithms.SelfPlay;

/// <summary>Wins, draws and losses of one player over a set of games.</summary>
public readonly record struct MatchRecord(int Wins, int Draws, int Losses)
{
    public int Games => Wins + Draws + Losses;
    /// <summary>Points per game: a win 1, a draw ½.</summary>
    public double Score => Games == 0 ? double.NaN : (Wins + 0.5 * Draws) / Games;
    public double WinRate => Games == 0 ? double.NaN : (double)Wins / Games;
    public static MatchRecord operator +(MatchRecord a, MatchRecord b) => new(a.Wins + b.Wins, a.Draws + b.Draws, a.Losses + b.Losses);
}

/// <summary>A player's results against one opponent, moving first and moving second reported apart.</summary>
public readonly record struct MatchResult(MatchRecord AsFirst, MatchRecord AsSecond)
{
    public MatchRecord Total => AsFirst + AsSecond;
}

/// <summary>Plays Connect Four games between two players.</summary>
public static class Matches
{
    /// <summary>One game; returns 0 when <paramref name="first"/> wins, 1 when <paramref name="second"/> wins, −1 for a draw.</summary>
    public static int PlayGame(IConnectFourPlayer first, IConnectFourPlayer second) => PlayGame(first, second, out _);

    /// <summary>One game, also returning a hash of its move sequence (FNV-1a over the columns played), so callers can count distinct games.</summary>
    public static int PlayGame(IConnectFourPlayer first, IConnectFourPlayer second, out ulong movesHash) =>
        PlayGame(first, second, ReadOnlySpan<int>.Empty, out movesHash);

    /// <summary>
    /// One game from the position after <paramref name="opening"/> (columns played alternately from the empty board,
    /// none of them finishing the game); <paramref name="first"/> is the player who moved first in the opening, and the
    /// hash covers the opening's moves too.
    /// </summary>
    public static int PlayGame(IConnectFourPlayer first, IConnectFourPlayer second, ReadOnlySpan<int> opening, out ulong movesHash)
    {
        var board = new ConnectFour();
        movesHash = 14695981039346656037UL;
        foreach (int column in opening)
        {
            if (board.Play(column) != GameOutcome.Ongoing) throw new ArgumentException("The opening must not finish the game.", nameof(opening));
            movesHash = MixMove(movesHash, column);
        }
        while (true)
        {
            var mover = board.PlayerToMove == 0 ? first : second;
            int column = mover.ChooseMove(board);
            int player = board.PlayerToMove;
            var outcome = board.Play(column); // an illegal choice throws: players must respect the rules
            movesHash = MixMove(movesHash, column);
            if (outcome == GameOutcome.Win) return player;
            if (outcome == GameOutcome.Draw) return -1;
        }
    }

    /// <summary>One FNV-1a step over a played column.</summary>
    private static ulong MixMove(ulong hash, int column) => (hash ^ (ulong)(column + 1)) * 1099511628211UL;

    /// <summary><paramref name="gamesPerColour"/> games with <paramref name="player"/> first and as many with it second.</summary>
    public static MatchResult Play(IConnectFourPlayer player, IConnectFourPlayer opponent, int gamesPerColour) =>
        Play(player, opponent, gamesPerColour, out _, out _);

    /// <summary>
    /// As <see cref="Play(IConnectFourPlayer, IConnectFourPlayer, int)"/>, also counting the distinct games (move sequences)
    /// per colour: a deterministic player against references that differ only by tie-breaks replays few lines, and
    /// a win rate over 100 games of 3 distinct lines says less than one over 100 distinct games.
    /// </summary>
    public static MatchResult Play(IConnectFourPlayer player, IConnectFourPlayer opponent, int gamesPerColour, out int distinctAsFirst, out int distinctAsSecond) =>
        Play(player, opponent, gamesPerColour, 0, null, out distinctAsFirst, out distinctAsSecond);

    /// <summary>
    /// As above, each pair of games starting from a random opening of <paramref name="openingPlies"/> uniformly drawn legal
    /// moves (both sides; redrawn if one would end the game), played once with <paramref name="player"/> as first and once
    /// as second player from the same opening, so neither colour gets the easier positions. An engine-match practice:
    /// it measures strength over many positions instead of a few replayed lines. 0 plies: every game from the empty board.
    /// </summary>
    public static MatchResult Play(IConnectFourPlayer player, IConnectFourPlayer opponent, int gamesPerColour, int openingPlies, Rng? openingRng,
        out int distinctAsFirst, out int distinctAsSecond)
    {
        if (gamesPerColour < 0) throw new ArgumentOutOfRangeException(nameof(gamesPerColour), gamesPerColour, "games must be ≥ 0.");
        if (openingPlies is < 0 or > 8) throw new ArgumentOutOfRangeException(nameof(openingPlies), openingPlies, "opening plies must be 0..8.");
        if (openingPlies > 0 && openingRng is null) throw new ArgumentNullException(nameof(openingRng), "a random opening needs a generator.");
        int w1 = 0, d1 = 0, l1 = 0, w2 = 0, d2 = 0, l2 = 0;
        var first = new HashSet<ulong>();
        var second = new HashSet<ulong>();
        var opening = new int[openingPlies];
        for (int g = 0; g < gamesPerColour; g++)
        {
            if (openingPlies > 0) DrawOpening(openingRng!, opening);
            int r = PlayGame(player, opponent, opening, out ulong h);
            first.Add(h);
            if (r == 0) w1++; else if (r == 1) l1++; else d1++;
            r = PlayGame(opponent, player, opening, out h);
            second.Add(h);
            if (r == 1) w2++; else if (r == 0) l2++; else d2++;
        }
        distinctAsFirst = first.Count;
        distinctAsSecond = second.Count;
        return new MatchResult(new MatchRecord(w1, d1, l1), new MatchRecord(w2, d2, l2));
    }

    /// <summary>The generator of a match's openings for <paramref name="seed"/>: a fresh one per reference gives every reference the same openings.</summary>
    public static Rng OpeningGenerator(ulong seed) => new(seed ^ 0x0BE1_1C0D_E5EE_D000UL);

    /// <summary>Uniformly random legal moves from the empty board, none of which ends the game (such a move is redrawn).</summary>
    public static void DrawOpening(Rng rng, Span<int> opening)
    {
        var board = new ConnectFour();
        Span<int> ok = stackalloc int[ConnectFour.Columns];
        for (int i = 0; i < opening.Length; i++)
        {
            int n = 0;
            for (int c = 0; c < ConnectFour.Columns; c++)
            {
                if (!board.IsLegal(c)) continue;
                var probe = board;
                if (probe.Play(c) == GameOutcome.Ongoing) ok[n++] = c;
            }
            if (n == 0) throw new InvalidOperationException("No opening move keeps the game going."); // cannot happen within 8 plies
            opening[i] = ok[rng.NextInt(n)];
            board.Play(opening[i]);
        }
    }
}

/// <summary>
/// A trained actor-critic as a Connect Four player: it sees the board from its own side (as in training) and plays
/// the most probable legal column (deterministic), or samples among the legal columns from <paramref name="rng"/>.
/// </summary>
public sealed class PolicyPlayer(ActorCritic policy, bool deterministic = true, Rng? rng = null) : IConnectFourPlayer
{
    private readonly float[] _obs = new float[policy.ObservationSize]; // 84 or 210: a model trained on the plain planes still plays
    private readonly bool[] _mask = new bool[ConnectFour.Columns];
    private readonly float[] _action = new float[1];
    private readonly Rng _rng = rng ?? new Rng(0);

    public int ChooseMove(in ConnectFour board)
    {
        board.WriteObservation(_obs);
        board.WriteLegalMask(_mask);
        var outputs = policy.ActorOutputs(_obs, 1);
        if (deterministic) policy.Head.Mode(outputs, _action, _mask);
        else policy.Head.Sample(outputs, _rng, _action, _mask);
        return (int)_action[0];
    }
}

/// <summary>
/// Wraps a player and counts its one-move tactics, for diagnosis: positions where it could win at once and how often
/// it did not; positions where the opponent threatened to win at once (and it could not win itself) and how often
/// it did not block; and positions where neither side could win at once and some move kept it so, and how often its
/// move handed the opponent a win in one anyway (by filling the cell under one of the opponent's threats).
/// </summary>
public sealed class TacticsCounter(IConnectFourPlayer player) : IConnectFourPlayer
{
    public int WinsAvailable { get; private set; }
    public int WinsMissed { get; private set; }
    public int BlocksNeeded { get; private set; }
    public int BlocksMissed { get; private set; }
    public int SafeMovesAvailable { get; private set; }
    public int WinsHanded { get; private set; }

    public int ChooseMove(in ConnectFour board)
    {
        int move = player.ChooseMove(board);
        int me = board.PlayerToMove;
        ulong wins = WinsInOne(board, me);
        ulong blocks = WinsInOne(board, 1 - me);
        ulong played = board.LandingCells & (((1UL << ConnectFour.Rows) - 1) << (move * (ConnectFour.Rows + 1)));
        if (wins != 0)
        {
            WinsAvailable++;
            if ((wins & played) == 0) WinsMissed++;
        }
        else if (blocks != 0)
        {
            BlocksNeeded++;
            if ((blocks & played) == 0) BlocksMissed++;
        }
        else if (HasSafeMove(board))
        {
            SafeMovesAvailable++;
            if (HandsAWin(board, move)) WinsHanded++;
        }
        return move;
    }

    /// <summary>Whether playing <paramref name="column"/> leaves the opponent a win in one.</summary>
    private static bool HandsAWin(ConnectFour board, int column)
    {
        int me = board.PlayerToMove;
        if (board.Play(column) != GameOutcome.Ongoing) return false;
        return WinsInOne(board, 1 - me) != 0;
    }

    /// <summary>The cells where <paramref name="player"/> would complete four with the next piece dropped there.</summary>
    private static ulong WinsInOne(in ConnectFour board, int player) =>
        ConnectFour.WinningCells(board.PiecesOf(player), board.PiecesOf(0) | board.PiecesOf(1)) & board.LandingCells;

    private static bool HasSafeMove(in ConnectFour board)
    {
        for (int c = 0; c < ConnectFour.Columns; c++)
            if (board.IsLegal(c) && !HandsAWin(board, c)) return true;
        return false;
    }
}
