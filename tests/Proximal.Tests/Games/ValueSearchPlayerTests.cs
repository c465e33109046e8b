using Proximal.Algorithms.Policies;
using Proximal.Algorithms.SelfPlay;
using Proximal.Envs.Games;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Games;

public class ValueSearchPlayerTests
{
    private static ActorCritic SmallPolicy(ulong seed) =>
        new(new Box(0f, 1f, ConnectFour.FeaturePlanesSize), new Discrete(ConnectFour.Columns), new PolicyOptions { HiddenSizes = [16] }, new Rng(seed));

    /// <summary>Plain negamax without pruning or batching, one critic call per leaf, accumulated in double.</summary>
    private static double ReferenceValue(ActorCritic policy, in ConnectFour board, int column, int depthLeft, int ply)
    {
        var child = board;
        var outcome = child.Play(column);
        if (outcome == GameOutcome.Win) return ValueSearchPlayer.WinValue - 0.001 * (ply + 1);
        if (outcome == GameOutcome.Draw) return 0;
        if (depthLeft == 1)
        {
            var obs = new float[policy.ObservationSize];
            child.WriteObservation(obs);
            return -policy.Values(obs, 1)[0];
        }
        double best = double.NegativeInfinity;
        for (int c = 0; c < ConnectFour.Columns; c++)
            if (child.IsLegal(c)) best = Math.Max(best, ReferenceValue(policy, child, c, depthLeft - 1, ply + 1));
        return -best;
    }

    private static ConnectFour RandomPosition(Rng rng, int moves)
    {
        while (true)
        {
            var b = new ConnectFour();
            bool over = false;
            for (int m = 0; m < moves && !over; m++) over = b.Play(RandomPlayer.RandomLegal(b, rng)) != GameOutcome.Ongoing;
            if (!over) return b;
        }
    }

    [Fact]
    public void RootValuesAndMovesMatchAPlainNegamaxOverTheSameCritic()
    {
        var policy = SmallPolicy(3);
        var rng = new Rng(2026);
        int compared = 0, movesCompared = 0;
        for (int depth = 1; depth <= 3; depth++)
        {
            var player = new ValueSearchPlayer(policy, depth);
            for (int p = 0; p < 12; p++)
            {
                var board = RandomPosition(rng, rng.NextInt(20));
                var values = new double[ConnectFour.Columns];
                for (int c = 0; c < ConnectFour.Columns; c++)
                {
                    values[c] = double.NegativeInfinity;
                    if (!board.IsLegal(c)) continue;
                    values[c] = ReferenceValue(policy, board, c, depth, 0);
                    Assert.Equal(values[c], player.RootValue(board, c), 4);
                    compared++;
                }
                var sorted = values.OrderDescending().ToArray();
                if (sorted[0] - sorted[1] > 1e-3) // a clear best column: the player must choose it
                {
                    Assert.Equal(Array.IndexOf(values, sorted[0]), player.ChooseMove(board));
                    movesCompared++;
                }
            }
        }
        Assert.True(compared > 200 && movesCompared > 20, $"{compared} values, {movesCompared} moves compared");
    }

    [Fact]
    public void TakesAWinInOneAndBlocksOneWhateverTheCriticSays()
    {
        var policy = SmallPolicy(9);
        // Player 0 has three in column 0 (player 1 stacks in column 6): depth 1 plays column 0 and wins.
        var b = new ConnectFour();
        foreach (int c in new[] { 0, 6, 0, 6, 0, 5 }) b.Play(c);
        Assert.Equal(0, b.PlayerToMove);
        Assert.Equal(0, new ValueSearchPlayer(policy, 1).ChooseMove(b));
        // Player 1 to move with player 0 threatening column 0 (and no win of its own): depth 2 blocks.
        var d = new ConnectFour();
        foreach (int c in new[] { 0, 6, 0, 5, 0 }) d.Play(c);
        Assert.Equal(1, d.PlayerToMove);
        Assert.Equal(0, new ValueSearchPlayer(policy, 2).ChooseMove(d));
        Assert.Equal(-(ValueSearchPlayer.WinValue - 0.002f), new ValueSearchPlayer(policy, 2).RootValue(d, 3), 5); // any other move loses at ply 2
    }

    [Fact]
    public void BadDepthsAndPoliciesAreRefused()
    {
        var policy = SmallPolicy(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ValueSearchPlayer(policy, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ValueSearchPlayer(policy, 9));
        var notAGame = new ActorCritic(new Box(0f, 1f, 4), new Discrete(2), new PolicyOptions { HiddenSizes = [4] }, new Rng(1));
        Assert.Throws<ArgumentException>(() => new ValueSearchPlayer(notAGame, 2));
    }
}
