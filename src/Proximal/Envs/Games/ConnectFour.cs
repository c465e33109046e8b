using System.Numerics;

namespace Proximal.Envs.Games;

/// <summary>How a move left the game: still going, won by the player who moved, or drawn (board full, nobody won).</summary>
public enum GameOutcome { Ongoing, Win, Draw }

/// <summary>
/// Connect Four on the standard 7-column × 6-row board as a value type of three 64-bit words (bitboards), so a
/// search copies a position for free and nothing allocates.
/// <para>Rules: players alternate dropping a piece into a column that is not full; it falls to the lowest free
/// row. Four of one player's pieces in a line — horizontal, vertical or either diagonal — win for that player.
/// A full board (42 pieces) without a line is a draw. Player 0 moves first.</para>
/// <para>Bit layout: cell (column c, row r), row 0 at the bottom, is bit c·7 + r. Each column has one spare bit
/// on top (r = 6) that stays empty, so the shifts of the line test never carry from one column into the next.</para>
/// </summary>
public struct ConnectFour
{
    public const int Columns = 7;
    public const int Rows = 6;
    public const int Cells = Columns * Rows;
    private const int Stride = Rows + 1;
    private const ulong BottomRow = 0b0000001_0000001_0000001_0000001_0000001_0000001_0000001UL;
    private const ulong FullBoard = BottomRow * ((1UL << Rows) - 1);

    private ulong _p0, _p1, _occupied;

    /// <summary>Pieces on the board so far (0..42).</summary>
    public int MoveCount { get; private set; }

    /// <summary>0 or 1: whose turn it is.</summary>
    public readonly int PlayerToMove => MoveCount & 1;

    /// <summary>True when <paramref name="column"/> is on the board and not full.</summary>
    public readonly bool IsLegal(int column) => (uint)column < Columns && (_occupied & TopCell(column)) == 0;

    /// <summary>The empty board (player 0 to move).</summary>
    public void Clear() { _p0 = _p1 = _occupied = 0; MoveCount = 0; }

    /// <summary>
    /// Drops the piece of the player to move into <paramref name="column"/>. Throws for an illegal column (off the
    /// board or full); callers that must not throw check <see cref="IsLegal"/> first.
    /// </summary>
    public GameOutcome Play(int column)
    {
        if (!IsLegal(column))
            throw new ArgumentOutOfRangeException(nameof(column), column,
                (uint)column < Columns ? $"Column {column} is full." : $"Column {column} is off the board; columns are 0..{Columns - 1}.");
        ulong cell = (_occupied + BottomCell(column)) & ColumnMask(column); // lowest empty cell of the column
        _occupied |= cell;
        ulong mine;
        if (PlayerToMove == 0) mine = _p0 |= cell; else mine = _p1 |= cell;
        MoveCount++;
        if (HasLine(mine)) return GameOutcome.Win;
        return MoveCount == Cells ? GameOutcome.Draw : GameOutcome.Ongoing;
    }

    /// <summary>The player (0 or 1) holding (column, row), or −1 for an empty cell; row 0 is the bottom.</summary>
    public readonly int At(int column, int row)
    {
        if ((uint)column >= Columns || (uint)row >= Rows) throw new ArgumentOutOfRangeException(nameof(column), $"({column}, {row}) is off the 7×6 board.");
        ulong bit = 1UL << (column * Stride + row);
        return (_p0 & bit) != 0 ? 0 : (_p1 & bit) != 0 ? 1 : -1;
    }

    /// <summary>Pieces in <paramref name="column"/> (0..6).</summary>
    public readonly int Height(int column) => BitOperations.PopCount(_occupied & ColumnMask(column));

    /// <summary>The bitboard of <paramref name="player"/>'s pieces (layout in the type's remarks).</summary>
    public readonly ulong PiecesOf(int player) => player == 0 ? _p0 : _p1;

    /// <summary>True when <paramref name="player"/> has four in a line.</summary>
    public readonly bool HasWon(int player) => HasLine(PiecesOf(player));

    /// <summary>True when the board is full.</summary>
    public readonly bool IsFull => _occupied == FullBoard;

    /// <summary>Floats in the plain observation: two planes of 42 (own pieces, opponent's pieces).</summary>
    public const int PiecePlanesSize = 2 * Cells;
    /// <summary>
    /// Floats in the observation with tactical feature planes (what ConnectFour-v0 gives): five planes of 42.
    /// </summary>
    public const int FeaturePlanesSize = 5 * Cells;

    /// <summary>
    /// The board as the player to move sees it. Both players therefore learn one policy: "me" and "them", never
    /// "first" and "second". The length of <paramref name="observation"/> picks the encoding:
    /// <see cref="PiecePlanesSize"/> (84) writes planes 0–1, <see cref="FeaturePlanesSize"/> (210) all five:
    /// <list type="number">
    /// <item>plane 0: that player's own pieces;</item>
    /// <item>plane 1: the opponent's pieces;</item>
    /// <item>plane 2: the empty cells where the player's own piece would complete four (its threats, <see cref="WinningCells"/>);</item>
    /// <item>plane 3: the same for the opponent;</item>
    /// <item>plane 4: the cells a piece would land in now (the lowest empty cell of every column that is not full).</item>
    /// </list>
    /// Each plane is row-major with row 0 at the bottom (index row·7 + column).
    /// <para>WHY planes 2–4: an MLP on the pieces alone has to learn each "three with an open end" pattern separately
    /// for every place on the board, and self-play did not find them in the time available (docs/benchmarks.md, "Self-play on Connect Four, round 3").
    /// These planes are a static function of the position, not a search: "win now" is plane 2 ∩ plane 4, "must block"
    /// plane 3 ∩ plane 4, "do not play under the opponent's threat" plane 3 one row above plane 4.</para>
    /// </summary>
    public readonly void WriteObservation(Span<float> observation) => WriteObservation(observation, PlayerToMove);

    /// <summary>The board as <paramref name="perspective"/> (0 or 1) sees it, in the encoding of <see cref="WriteObservation(Span{float})"/>.</summary>
    public readonly void WriteObservation(Span<float> observation, int perspective)
    {
        if (observation.Length != PiecePlanesSize && observation.Length != FeaturePlanesSize)
            throw new ArgumentException($"observation has {observation.Length} values; Connect Four writes {PiecePlanesSize} (pieces) or {FeaturePlanesSize} (pieces and feature planes).", nameof(observation));
        if ((uint)perspective > 1) throw new ArgumentOutOfRangeException(nameof(perspective), perspective, "A player is 0 or 1.");
        ulong own = PiecesOf(perspective), other = PiecesOf(1 - perspective);
        WritePlane(observation.Slice(0, Cells), own);
        WritePlane(observation.Slice(Cells, Cells), other);
        if (observation.Length == PiecePlanesSize) return;
        WritePlane(observation.Slice(2 * Cells, Cells), WinningCells(own, _occupied));
        WritePlane(observation.Slice(3 * Cells, Cells), WinningCells(other, _occupied));
        WritePlane(observation.Slice(4 * Cells, Cells), LandingCells);
    }

    /// <summary>The cells a piece would land in now: the lowest empty cell of each column that is not full.</summary>
    public readonly ulong LandingCells => (_occupied + BottomRow) & FullBoard;

    /// <summary>
    /// The empty cells (playable now or not) where a piece of the player holding <paramref name="pieces"/> would
    /// complete four in a line, given the occupied cells <paramref name="occupied"/>. Shift form of the line test: for
    /// each direction, a cell wins when the three cells on one side, or two on one side and one on the other, are the
    /// player's.
    /// </summary>
    public static ulong WinningCells(ulong pieces, ulong occupied)
    {
        ulong p = pieces;
        ulong r = (p << 1) & (p << 2) & (p << 3); // vertical: only three below can be filled
        ReadOnlySpan<int> shifts = [Stride, Stride + 1, Stride - 1];
        foreach (int s in shifts)
        {
            ulong p2 = (p << s) & (p << (2 * s));
            r |= p2 & (p << (3 * s));
            r |= p2 & (p >> s);
            p2 = (p >> s) & (p >> (2 * s));
            r |= p2 & (p << s);
            r |= p2 & (p >> (3 * s));
        }
        return r & FullBoard & ~occupied;
    }

    private static void WritePlane(Span<float> plane, ulong bits)
    {
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
                plane[r * Columns + c] = (bits >> (c * Stride + r) & 1) != 0 ? 1f : 0f;
    }

    /// <summary>The legal moves as a mask of 7 (true = the column is not full).</summary>
    public readonly void WriteLegalMask(Span<bool> mask)
    {
        if (mask.Length != Columns) throw new ArgumentException($"mask has {mask.Length} values; Connect Four has {Columns} columns.", nameof(mask));
        for (int c = 0; c < Columns; c++) mask[c] = (_occupied & TopCell(c)) == 0;
    }

    /// <summary>The position as three words and the move count, for snapshots; <see cref="FromBits"/> restores it.</summary>
    public readonly (ulong P0, ulong P1, int Moves) ToBits() => (_p0, _p1, MoveCount);

    /// <summary>Rebuilds a position from <see cref="ToBits"/>; throws when the words are not a reachable-shaped board.</summary>
    public static ConnectFour FromBits(ulong p0, ulong p1, int moves)
    {
        ulong occ = p0 | p1;
        bool ok = (p0 & p1) == 0 && (occ & ~FullBoard) == 0 && BitOperations.PopCount(occ) == moves
            && BitOperations.PopCount(p0) - BitOperations.PopCount(p1) == (moves & 1);
        for (int c = 0; ok && c < Columns; c++)
        {
            ulong col = (occ & ColumnMask(c)) >> (c * Stride);
            ok = (col & (col + 1)) == 0; // pieces stacked from the bottom, no gaps
        }
        if (!ok) throw new ArgumentException("Not a Connect Four position: overlapping or floating pieces, or a piece count that does not match the turn.");
        return new ConnectFour { _p0 = p0, _p1 = p1, _occupied = occ, MoveCount = moves };
    }

    /// <summary>Four in a line in any of the four directions: vertical (1), horizontal (7), diagonal ↗ (8), diagonal ↘ (6).</summary>
    public static bool HasLine(ulong b)
    {
        ulong m = b & (b >> 1); if ((m & (m >> 2)) != 0) return true;
        m = b & (b >> Stride); if ((m & (m >> (2 * Stride))) != 0) return true;
        m = b & (b >> (Stride + 1)); if ((m & (m >> (2 * (Stride + 1)))) != 0) return true;
        m = b & (b >> (Stride - 1)); return (m & (m >> (2 * (Stride - 1)))) != 0;
    }

    private static ulong BottomCell(int c) => 1UL << (c * Stride);
    private static ulong TopCell(int c) => 1UL << (c * Stride + Rows - 1);
    private static ulong ColumnMask(int c) => ((1UL << Rows) - 1) << (c * Stride);

    /// <summary>The board in text, top row first: X = player 0, O = player 1, . = empty, column numbers 1..7 underneath.</summary>
    public readonly override string ToString()
    {
        var sb = new System.Text.StringBuilder();
        for (int r = Rows - 1; r >= 0; r--)
        {
            sb.Append('|');
            for (int c = 0; c < Columns; c++) sb.Append(' ').Append(At(c, r) switch { 0 => 'X', 1 => 'O', _ => '.' });
            sb.Append(" |\n");
        }
        sb.Append("  1 2 3 4 5 6 7\n");
        return sb.ToString();
    }
}
