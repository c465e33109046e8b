using Proximal.Envs.Games;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Xunit;

namespace Proximal.Tests.Games;

public class ConnectFourTests
{
    /// <summary>Plays the columns in order and returns the board and the last outcome.</summary>
    private static (ConnectFour Board, GameOutcome Last) PlayAll(params int[] columns)
    {
        var b = new ConnectFour();
        var last = GameOutcome.Ongoing;
        for (int k = 0; k < columns.Length; k++)
        {
            Assert.True(last == GameOutcome.Ongoing, $"the game ended before move {k}");
            last = b.Play(columns[k]);
        }
        return (b, last);
    }

    [Fact]
    public void VerticalWin() // X stacks column 2, O plays column 3
    {
        var (b, last) = PlayAll(2, 3, 2, 3, 2, 3, 2);
        Assert.Equal(GameOutcome.Win, last);
        Assert.True(b.HasWon(0));
        Assert.False(b.HasWon(1));
    }

    [Fact]
    public void HorizontalWin() // X on the bottom row 3..6, O above
    {
        var (b, last) = PlayAll(3, 3, 4, 4, 5, 5, 6);
        Assert.Equal(GameOutcome.Win, last);
        Assert.True(b.HasWon(0));
    }

    [Fact]
    public void HorizontalWinAtTheLeftEdgeAndForTheSecondPlayer()
    {
        // O takes the bottom row 0..3 while X wastes moves in column 6 (X never gets four there: O wins first).
        var (b, last) = PlayAll(6, 0, 6, 1, 6, 2, 5, 3);
        Assert.Equal(GameOutcome.Win, last);
        Assert.True(b.HasWon(1));
        Assert.False(b.HasWon(0));
    }

    [Fact]
    public void RisingDiagonalWin() // X at (0,0), (1,1), (2,2), (3,3)
    {
        var (b, last) = PlayAll(0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3);
        Assert.Equal(GameOutcome.Win, last);
        Assert.True(b.HasWon(0));
        Assert.Equal(0, b.At(0, 0)); Assert.Equal(0, b.At(1, 1)); Assert.Equal(0, b.At(2, 2)); Assert.Equal(0, b.At(3, 3));
    }

    [Fact]
    public void FallingDiagonalWin() // X at (6,0), (5,1), (4,2), (3,3): the mirror image of the rising one
    {
        var (b, last) = PlayAll(6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3);
        Assert.Equal(GameOutcome.Win, last);
        Assert.True(b.HasWon(0));
        Assert.Equal(0, b.At(6, 0)); Assert.Equal(0, b.At(5, 1)); Assert.Equal(0, b.At(4, 2)); Assert.Equal(0, b.At(3, 3));
    }

    [Fact]
    public void ThreeInALineOrLinesBrokenAcrossColumnsDoNotWin()
    {
        // Four pieces "in a row" of bit positions across a column boundary: column 0 rows 3,4,5 and column 1 row 0
        // are consecutive bit indices only if the spare bit were missing.
        ulong b = (1UL << 3) | (1UL << 4) | (1UL << 5) | (1UL << 7);
        Assert.False(ConnectFour.HasLine(b));
        ulong three = (1UL << 0) | (1UL << 7) | (1UL << 14);
        Assert.False(ConnectFour.HasLine(three));
        Assert.True(ConnectFour.HasLine(three | (1UL << 21)));
    }

    [Fact]
    public void EveryLineOfFourIsAWinAndThereAre69()
    {
        Assert.Equal(69, MinimaxPlayer.Lines.Count);
        foreach (ulong line in MinimaxPlayer.Lines)
        {
            Assert.True(ConnectFour.HasLine(line));
            // any three of its four cells are not a win
            for (int drop = 0; drop < 64; drop++)
                if ((line & (1UL << drop)) != 0) Assert.False(ConnectFour.HasLine(line & ~(1UL << drop)));
        }
    }

    [Fact]
    public void FullBoardWithoutALineIsADraw()
    {
        int[] seq = [4, 3, 6, 0, 1, 4, 5, 5, 1, 1, 5, 0, 1, 6, 0, 1, 5, 5, 1, 0, 4, 6, 3, 2, 6, 6, 0, 4, 6, 5, 2, 0, 4, 2, 4, 2, 2, 2, 3, 3, 3, 3];
        var b = new ConnectFour();
        for (int k = 0; k < 41; k++) Assert.Equal(GameOutcome.Ongoing, b.Play(seq[k]));
        Assert.Equal(GameOutcome.Draw, b.Play(seq[41]));
        Assert.True(b.IsFull);
        Assert.False(b.HasWon(0));
        Assert.False(b.HasWon(1));
        for (int c = 0; c < 7; c++) Assert.False(b.IsLegal(c));
    }

    [Fact]
    public void IllegalMovesThrowAndLeaveTheBoardUnchanged()
    {
        var b = new ConnectFour();
        for (int k = 0; k < 6; k++) b.Play(0); // fills column 0 (alternating colours: no win)
        Assert.False(b.IsLegal(0));
        var before = b.ToBits();
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Play(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Play(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Play(-1));
        Assert.Equal(before, b.ToBits());
        Span<bool> mask = stackalloc bool[7];
        b.WriteLegalMask(mask);
        Assert.Equal([false, true, true, true, true, true, true], mask.ToArray());
    }

    [Fact]
    public void ObservationIsFromThePlayerToMovesPerspective()
    {
        var b = new ConnectFour();
        b.Play(3); // X at (3,0); O to move
        var obs = new float[84];
        b.WriteObservation(obs);
        Assert.Equal(1f, obs[42 + 3]); // O sees X's piece as the opponent's
        Assert.Equal(1f, obs.Sum());
        b.Play(2); // O at (2,0); X to move
        b.WriteObservation(obs);
        Assert.Equal(1f, obs[3]);      // X's own piece
        Assert.Equal(1f, obs[42 + 2]); // O's piece
        Assert.Equal(2f, obs.Sum());
        b.Play(3); // X at (3,1): row 1 → index 7 + 3
        b.WriteObservation(obs);
        Assert.Equal(1f, obs[2]);
        Assert.Equal(1f, obs[42 + 3]);
        Assert.Equal(1f, obs[42 + 7 + 3]);
        // Swapping colours swaps the planes.
        var x = new float[84];
        b.WriteObservation(x, perspective: 0);
        Assert.Equal(obs.AsSpan(0, 42).ToArray(), x.AsSpan(42, 42).ToArray());
        Assert.Equal(obs.AsSpan(42, 42).ToArray(), x.AsSpan(0, 42).ToArray());
    }

    [Fact]
    public void FeaturePlanesMatchABruteForceReference()
    {
        // Over random positions: plane 2 (3) holds exactly the empty cells where the player's (opponent's) piece makes
        // four, found by placing a piece there and running the line test; plane 4 the lowest empty cell per column.
        var rng = new Rng(5);
        var obs = new float[ConnectFour.FeaturePlanesSize];
        var plain = new float[ConnectFour.PiecePlanesSize];
        int threatsSeen = 0;
        for (int game = 0; game < 300; game++)
        {
            var b = new ConnectFour();
            for (int ply = 0; ply < 42; ply++)
            {
                int me = b.PlayerToMove;
                b.WriteObservation(obs);
                b.WriteObservation(plain);
                Assert.Equal(plain, obs.AsSpan(0, 84).ToArray()); // the plain encoding is the first two planes
                for (int c = 0; c < 7; c++)
                    for (int r = 0; r < 6; r++)
                    {
                        int at = r * 7 + c;
                        bool empty = b.At(c, r) < 0;
                        ulong bit = 1UL << (c * 7 + r);
                        bool mineWins = empty && ConnectFour.HasLine(b.PiecesOf(me) | bit);
                        bool theirsWins = empty && ConnectFour.HasLine(b.PiecesOf(1 - me) | bit);
                        Assert.Equal(mineWins ? 1f : 0f, obs[2 * 42 + at]);
                        Assert.Equal(theirsWins ? 1f : 0f, obs[3 * 42 + at]);
                        Assert.Equal(empty && r == b.Height(c) ? 1f : 0f, obs[4 * 42 + at]);
                        if (mineWins || theirsWins) threatsSeen++;
                    }
                var legal = Enumerable.Range(0, 7).Where(c => b.IsLegal(c)).ToArray();
                if (b.Play(legal[rng.NextInt(legal.Length)]) != GameOutcome.Ongoing) break;
            }
        }
        Assert.True(threatsSeen > 1000, $"only {threatsSeen} threat cells met: the check saw too few");
        Assert.Throws<ArgumentException>(() => new ConnectFour().WriteObservation(new float[100]));
    }

    [Fact]
    public void MirroredEpisodesShowTheBoardReversedAndPlayTheMirroredColumn()
    {
        // 4 envs: env i's first episode is mirrored when ⌊i / 2⌋ is odd (envs 2 and 3), colour by i's parity.
        using var env = new ConnectFourSelfPlayVecEnv(4) { Mirror = true };
        const int od = ConnectFour.FeaturePlanesSize;
        var obs = new float[4 * od];
        env.Reset(obs, 3);
        Assert.Equal([false, false, true, true], Enumerable.Range(0, 4).Select(env.IsMirrored).ToArray());
        var rewards = new float[4]; var term = new bool[4]; var trunc = new bool[4];
        env.Step([0f, 0f, 0f, 0f], obs, rewards, term, trunc); // every learner plays its column 0
        var expected = new float[od];
        for (int i = 0; i < 4; i++)
        {
            var (board, learner) = env.Game(i);
            // The learner's piece is in column 0 of the real board, or column 6 when mirrored.
            int column = env.IsMirrored(i) ? 6 : 0;
            Assert.Equal(learner, board.At(column, 0));
            board.WriteObservation(expected, learner);
            var mask = new bool[7];
            board.WriteLegalMask(mask);
            if (env.IsMirrored(i)) ConnectFourSelfPlayVecEnv.MirrorView(expected, mask);
            Assert.Equal(expected, obs.AsSpan(i * od, od).ToArray());
            Assert.Equal(mask, env.ActionMasks.Slice(i * 7, 7).ToArray());
        }
        var plane = Enumerable.Range(0, od).Select(k => (float)k).ToArray();
        ConnectFourSelfPlayVecEnv.MirrorView(plane, Span<bool>.Empty);
        Assert.Equal(6f, plane[0]);
        Assert.Equal(42f + 7 + 6, plane[42 + 7]); // row 1 of plane 1 starts with its last column
    }

    [Fact]
    public void BitsRoundTripAndRejectFloatingPieces()
    {
        var (b, _) = PlayAll(3, 3, 4, 2);
        var (p0, p1, m) = b.ToBits();
        var c = ConnectFour.FromBits(p0, p1, m);
        Assert.Equal(b.ToBits(), c.ToBits());
        Assert.Throws<ArgumentException>(() => ConnectFour.FromBits(1UL << 1, 0, 1)); // a piece in row 1 over an empty cell
    }

    [Fact]
    public void MinimaxTakesAWinInOneAndBlocksALossInOne()
    {
        // X has three on the bottom row 0..2, X to move: every depth plays column 3.
        var (win, _) = PlayAll(0, 0, 1, 1, 2, 6);
        for (int d = 1; d <= 4; d += d == 2 ? 2 : 1) Assert.Equal(3, new MinimaxPlayer(d, new Rng(1)).ChooseMove(win));
        // O to move after X's three in a row with one open end (columns 0..2, column 3 open): depth ≥ 2 blocks at 3.
        var (block, _) = PlayAll(0, 6, 1, 6, 2);
        for (int trial = 0; trial < 10; trial++)
        {
            Assert.Equal(3, new MinimaxPlayer(2, new Rng((ulong)trial)).ChooseMove(block));
            Assert.Equal(3, new MinimaxPlayer(4, new Rng((ulong)trial)).ChooseMove(block));
        }
    }

    [Fact]
    public void MinimaxValuesMatchAPlainNegamaxWithoutPruning()
    {
        var rng = new Rng(5);
        for (int game = 0; game < 20; game++)
        {
            var b = new ConnectFour();
            int moves = rng.NextInt(12);
            bool over = false;
            for (int k = 0; k < moves && !over; k++) over = b.Play(RandomPlayer.RandomLegal(b, rng)) != GameOutcome.Ongoing;
            if (over) continue;
            for (int c = 0; c < 7; c++)
                if (b.IsLegal(c)) Assert.Equal(PlainRoot(b, c, 3), MinimaxPlayer.RootValue(b, c, 3));
        }
    }

    // Reference: the same values by exhaustive negamax, no pruning, no move ordering.
    private static int PlainRoot(ConnectFour b, int c, int depth)
    {
        var o = b.Play(c);
        if (o == GameOutcome.Win) return MinimaxPlayer.WinScore - 1;
        if (o == GameOutcome.Draw) return 0;
        return -Plain(b, depth - 1, 1);
    }

    private static int Plain(ConnectFour b, int depth, int ply)
    {
        if (depth == 0) return MinimaxPlayer.Evaluate(b);
        int best = int.MinValue;
        for (int c = 0; c < 7; c++)
        {
            if (!b.IsLegal(c)) continue;
            var child = b;
            var o = child.Play(c);
            int v = o == GameOutcome.Win ? MinimaxPlayer.WinScore - (ply + 1) : o == GameOutcome.Draw ? 0 : -Plain(child, depth - 1, ply + 1);
            best = Math.Max(best, v);
        }
        return best;
    }

    [Fact]
    public void EvaluationCountsOpenLinesForTheSideToMove()
    {
        var (b, _) = PlayAll(3); // X in the centre bottom; O to move
        // X's piece at (3,0) lies in 7 lines that hold no O piece: horizontal 4, vertical 1, diagonals 1 + 1 → −7, centre −3.
        Assert.Equal(-(7 + 3), MinimaxPlayer.Evaluate(b));
    }

    [Fact]
    public void SelfPlayVecEnvAlternatesColoursMasksAndScores()
    {
        using var env = new ConnectFourSelfPlayVecEnv(2);
        const int od = ConnectFour.FeaturePlanesSize;
        var obs = new float[2 * od];
        env.Reset(obs, 7);
        Assert.Equal(0, env.Game(0).LearnerPlayer);
        Assert.Equal(1, env.Game(1).LearnerPlayer);
        Assert.Equal(0f, obs.AsSpan(0, 84).ToArray().Sum());     // env 0: learner first, empty board
        Assert.Equal(1f, obs.AsSpan(od, 84).ToArray().Sum());    // env 1: the opponent opened
        Assert.Equal(1f, obs.AsSpan(od + 42, 42).ToArray().Sum()); // ... and its piece is in the opponent plane
        Assert.Equal(14, env.ActionMasks.Length);
        var rewards = new float[2]; var term = new bool[2]; var trunc = new bool[2];
        // An illegal (non-integer) move loses at once.
        env.Step([0.5f, 0f], obs, rewards, term, trunc);
        Assert.True(term[0]);
        Assert.Equal(-1f, rewards[0]);
        Assert.True(env.HasFinalObservation[0]);
        Assert.Equal(1, env.Game(0).LearnerPlayer); // next episode of env 0: the other colour
    }

    private sealed class StackingOpponent(int column) : IBatchOpponent
    {
        public List<float[]> Seen { get; } = [];
        public int DrawSlot() => 0;
        public void Act(ReadOnlySpan<float> observations, ReadOnlySpan<bool> legal, ReadOnlySpan<int> slots, Span<int> actions)
        {
            for (int i = 0; i < slots.Length; i++)
            {
                Seen.Add(observations.Slice(i * ConnectFour.FeaturePlanesSize, ConnectFour.FeaturePlanesSize).ToArray());
                actions[i] = column;
            }
        }
    }

    [Fact]
    public void TheOpponentSeesItsOwnSideAndItsWinningReplyEndsTheLearnersEpisodeWithMinusOne()
    {
        // Env 0, learner first: it plays 0, 1, 0, 1 (no line); the opponent stacks column 6 and wins on its 4th move.
        var opponent = new StackingOpponent(6);
        using var env = new ConnectFourSelfPlayVecEnv(1) { Opponent = opponent };
        var obs = new float[ConnectFour.FeaturePlanesSize];
        var r = new float[1]; var term = new bool[1]; var trunc = new bool[1];
        env.Reset(obs, 1);
        Assert.Equal(0, env.Game(0).LearnerPlayer);
        float[] moves = [0, 1, 0, 1];
        for (int k = 0; k < 4; k++)
        {
            env.Step([moves[k]], obs, r, term, trunc);
            Assert.Equal(k == 3, term[0]);
            Assert.Equal(k == 3 ? -1f : 0f, r[0]);
        }
        // Before its 4th move the opponent saw its own three pieces in plane 0 (column 6), the learner's in plane 1,
        // and its winning cell (6, 3) in plane 2 (its threats).
        var seen = opponent.Seen[3];
        Assert.Equal([1f, 1f, 1f, 0f], new[] { seen[6], seen[7 + 6], seen[14 + 6], seen[21 + 6] });
        Assert.Equal(4f, seen.AsSpan(42, 42).ToArray().Sum());
        Assert.Equal(1f, seen[2 * 42 + 21 + 6]);
        // The final observation is the learner's view of the lost board: the opponent's four in plane 1.
        Assert.True(env.HasFinalObservation[0]);
        Assert.Equal(4f, env.FinalObservations.Slice(42, 42).ToArray().Sum());
    }

    [Fact]
    public void RegisteredSingleEnvPlaysARandomOpponentWithMasksAndPassesTheChecker()
    {
        using var env = Proximal.Envs.Registry.EnvRegistry.Make("ConnectFour-v0");
        var report = Proximal.Envs.EnvChecker.Check(Proximal.Envs.Registry.EnvRegistry.Make("ConnectFour-v0"));
        Assert.True(report.Passed, report.ToString());
        var c4 = Assert.IsType<ConnectFourEnv>(env);
        var obs = new float[ConnectFour.FeaturePlanesSize];
        var rng = new Rng(3);
        int episodes = 0;
        c4.Reset(obs, 11);
        for (int step = 0; step < 2000 && episodes < 30; step++)
        {
            var legal = Enumerable.Range(0, 7).Where(c => c4.LegalMask[c]).ToArray();
            Assert.NotEmpty(legal);
            var r = c4.Step([legal[rng.NextInt(legal.Length)]], obs);
            Assert.Contains(r.Reward, new[] { -1.0, 0.0, 1.0 });
            if (r.Reward != 0) Assert.True(r.Terminated);
            if (r.Terminated) { episodes++; c4.Reset(obs); }
        }
        Assert.Equal(30, episodes);
        // A move that is not a column (6.5) is illegal: the learner loses at once, as with a full column.
        c4.Reset(obs, 1);
        var s = c4.Step([6.5f], obs);
        Assert.Equal(-1.0, s.Reward);
        Assert.True(s.Terminated);
    }
}
