using Proximal.Nn;
using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Algorithms.Registry;
using Proximal.Algorithms.SelfPlay;
using Proximal.Common.Callbacks;
using Proximal.Envs.Games;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Games;

public class SelfPlayTests
{
    [Fact]
    public void EloExpectedScoreAndUpdateMatchHandComputedValues()
    {
        // Equal ratings: E = 0.5; a win with K = 32 moves each by 16.
        Assert.Equal(0.5, Elo.Expected(1500, 1500), 15);
        var (a, b) = Elo.Update(1500, 1500, 1.0, 32);
        Assert.Equal(1516, a, 12);
        Assert.Equal(1484, b, 12);
        // 400 points apart: E = 1/(1 + 10^-1) = 10/11. The stronger player's loss costs 32·10/11 = 29.0909...
        Assert.Equal(10.0 / 11.0, Elo.Expected(1900, 1500), 15);
        (a, b) = Elo.Update(1900, 1500, 0.0, 32);
        Assert.Equal(1900 - 320.0 / 11.0, a, 10);
        Assert.Equal(1500 + 320.0 / 11.0, b, 10);
        // A draw between 1600 and 1400 with K = 20: E = 1/(1 + 10^-0.5) = 0.759747...; change 20·(0.5 − E) = −5.19494...
        double e = 1 / (1 + Math.Pow(10, -0.5));
        Assert.Equal(0.7597469266479578, e, 14);
        (a, _) = Elo.Update(1600, 1400, 0.5, 20);
        Assert.Equal(1600 - 5.194938532959156, a, 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => Elo.Update(0, 0, 1.5));
    }

    [Fact]
    public void PerformanceRatingSolvesTheLikelihoodEquation()
    {
        // 75 % against a 0-rated opponent over 99 games (+ the virtual draw: 74.75 of 100): E = 0.7475 → r = 400·log10(E/(1−E)).
        double r = Elo.PerformanceRating([0.0], [74.25], [99]);
        Assert.Equal(400 * Math.Log10(0.7475 / 0.2525), r, 6);
        // Even score against two opponents symmetric about 100 gives 100.
        Assert.Equal(100, Elo.PerformanceRating([0.0, 200.0], [10, 10], [20, 20]), 6);
        // All wins stay finite.
        Assert.InRange(Elo.PerformanceRating([0.0], [50], [50]), 500, 1000);
    }

    [Fact]
    public void PoolSamplingProportionsMatchTheMix()
    {
        var policy = new ActorCritic(new Box(0f, 1f, 84), new Discrete(7), new PolicyOptions { HiddenSizes = [4] }, new Rng(1));
        var league = new SelfPlayLeague(policy, new SelfPlayOptions { LatestProbability = 0.8, PoolSize = 4 }, seed: 12345, maxBatch: 1);
        for (int k = 0; k < 5; k++) league.AddSnapshot(); // 6 snapshots into a pool of 4: bounded
        Assert.Equal(4, league.PoolCount);
        const int n = 200_000;
        var counts = new int[5];
        for (int i = 0; i < n; i++) counts[league.DrawSlot()]++;
        // Each count is binomial(n, p): allow 4.5 standard deviations (a false alarm about 1 in 150 000 per check).
        void Check(int count, double p, string what)
        {
            double sd = Math.Sqrt(n * p * (1 - p));
            Assert.True(Math.Abs(count - n * p) <= 4.5 * sd, $"{what}: {count} of {n}, expected {n * p} ± {4.5 * sd:F0}");
        }
        Check(counts[0], 0.8, "latest");
        for (int s = 1; s <= 4; s++) Check(counts[s], 0.2 / 4, $"snapshot {s}");
    }

    [Fact]
    public void PfspDrawsSnapshotsInProportionToTheirWeights()
    {
        var policy = new ActorCritic(new Box(0f, 1f, 84), new Discrete(7), new PolicyOptions { HiddenSizes = [4] }, new Rng(1));
        var o = new SelfPlayOptions { LatestProbability = 0.5, PoolSize = 3, PfspExponent = 2, PfspScoreRate = 0.5 };
        var league = new SelfPlayLeague(policy, o, seed: 77, maxBatch: 1);
        league.AddSnapshot(); league.AddSnapshot(); // 3 snapshots, each at score ½
        // Snapshot 1 (pool position 0): two wins → ½ → ¾ → 7/8. Snapshot 2: one loss → ¼. Snapshot 3: a draw → ½.
        league.GameEnded(1, 1f); league.GameEnded(1, 1f);
        league.GameEnded(2, 0f);
        league.GameEnded(3, 0.5f);
        league.GameEnded(0, 0f); // the latest policy keeps no score
        Assert.Equal(0.875f, league.Score(0));
        Assert.Equal(0.25f, league.Score(1));
        Assert.Equal(0.5f, league.Score(2));
        // Weights (1 − s)² + 0.01: 1/64 + 0.01, 9/16 + 0.01, 1/4 + 0.01.
        double[] w = [1.0 / 64 + 0.01, 9.0 / 16 + 0.01, 0.25 + 0.01];
        const int n = 200_000;
        var counts = new int[4];
        for (int i = 0; i < n; i++) counts[league.DrawSlot()]++;
        void Check(int count, double p, string what)
        {
            double sd = Math.Sqrt(n * p * (1 - p));
            Assert.True(Math.Abs(count - n * p) <= 4.5 * sd, $"{what}: {count} of {n}, expected {n * p:F0} ± {4.5 * sd:F0}");
        }
        Check(counts[0], 0.5, "latest");
        for (int k = 0; k < 3; k++) Check(counts[k + 1], 0.5 * w[k] / w.Sum(), $"snapshot {k + 1}");
        // A new snapshot replacing the oldest starts again at ½.
        league.AddSnapshot();
        Assert.Equal(0.5f, league.Score(0));
    }

    [Fact]
    public void AnAnnealedRandomMoveProbabilityFollowsTheSchedule()
    {
        var policy = new ActorCritic(new Box(0f, 1f, 84), new Discrete(7), new PolicyOptions { HiddenSizes = [4] }, new Rng(1));
        var annealed = new SelfPlayLeague(policy, new SelfPlayOptions { OpponentRandomMove = 0.3, OpponentRandomMoveFinal = 0.05 }, seed: 1, maxBatch: 1);
        Assert.Equal(0.3, annealed.OpponentRandomMoveNow); // before any schedule: the start value
        annealed.SetScheduleFraction(1); Assert.Equal(0.3, annealed.OpponentRandomMoveNow, 15);
        annealed.SetScheduleFraction(0.5); Assert.Equal(0.175, annealed.OpponentRandomMoveNow, 15);
        annealed.SetScheduleFraction(0); Assert.Equal(0.05, annealed.OpponentRandomMoveNow, 15);
        var constant = new SelfPlayLeague(policy, new SelfPlayOptions { OpponentRandomMove = 0.3 }, seed: 1, maxBatch: 1);
        constant.SetScheduleFraction(0.2); Assert.Equal(0.3, constant.OpponentRandomMoveNow);
    }

    [Fact]
    public void OpponentRandomMovesAreUniformOverTheLegalColumns()
    {
        var policy = new ActorCritic(new Box(0f, 1f, 84), new Discrete(7), new PolicyOptions { HiddenSizes = [4] }, new Rng(1));
        var league = new SelfPlayLeague(policy, new SelfPlayOptions { OpponentRandomMove = 1 }, seed: 5, maxBatch: 2);
        var obs = new float[2 * 84];
        bool[] mask = [false, true, false, false, true, false, true, /* row 2: */ true, false, false, false, false, false, false];
        var actions = new int[2];
        var counts = new int[7];
        const int n = 30_000;
        for (int i = 0; i < n; i++)
        {
            league.Act(obs, mask, [0, 1], actions);
            counts[actions[0]]++;
            Assert.Equal(0, actions[1]); // the only legal column
        }
        double sd = Math.Sqrt(n / 3.0 * (2 / 3.0));
        foreach (int c in new[] { 1, 4, 6 }) Assert.True(Math.Abs(counts[c] - n / 3.0) <= 4.5 * sd, $"column {c}: {counts[c]} of {n}");
        Assert.Equal(n, counts[1] + counts[4] + counts[6]);
    }

    private sealed class FixedColumn(int column) : IConnectFourPlayer
    {
        public int ChooseMove(in ConnectFour board) => column;
    }

    [Fact]
    public void TacticsCounterCountsMissedWinsAndBlocks()
    {
        // X holds (0,0),(1,0),(2,0): X to move can win in column 3.
        var b = new ConnectFour();
        foreach (int c in new[] { 0, 6, 1, 6, 2, 5 }) b.Play(c);
        var takes = new TacticsCounter(new FixedColumn(3));
        var misses = new TacticsCounter(new FixedColumn(4));
        takes.ChooseMove(b); misses.ChooseMove(b);
        Assert.Equal((1, 0, 0, 0), (takes.WinsAvailable, takes.WinsMissed, takes.BlocksNeeded, takes.BlocksMissed));
        Assert.Equal((1, 1, 0, 0), (misses.WinsAvailable, misses.WinsMissed, misses.BlocksNeeded, misses.BlocksMissed));
        // After X plays column 4 instead, O must block column 3 (O has no win of its own).
        b.Play(4);
        var blocks = new TacticsCounter(new FixedColumn(3));
        var ignores = new TacticsCounter(new FixedColumn(6));
        blocks.ChooseMove(b); ignores.ChooseMove(b);
        Assert.Equal((0, 0, 1, 0), (blocks.WinsAvailable, blocks.WinsMissed, blocks.BlocksNeeded, blocks.BlocksMissed));
        Assert.Equal((0, 0, 1, 1), (ignores.WinsAvailable, ignores.WinsMissed, ignores.BlocksNeeded, ignores.BlocksMissed));
    }

    [Fact]
    public void TacticsCounterCountsWinsHandedToTheOpponent()
    {
        // O holds (0,1),(1,1),(2,1): its four would land at (3,1), which is not playable while column 3 is empty.
        // X to move, no win or threat in one for either side: column 3 hands O the win, column 5 does not.
        var b = new ConnectFour();
        foreach (int c in new[] { 0, 1, 2, 0, 6, 2, 6, 1 }) b.Play(c);
        Assert.Equal(0, b.PlayerToMove);
        var hands = new TacticsCounter(new FixedColumn(3));
        var safe = new TacticsCounter(new FixedColumn(5));
        hands.ChooseMove(b); safe.ChooseMove(b);
        Assert.Equal((0, 0, 1, 1), (hands.WinsAvailable, hands.BlocksNeeded, hands.SafeMovesAvailable, hands.WinsHanded));
        Assert.Equal((0, 0, 1, 0), (safe.WinsAvailable, safe.BlocksNeeded, safe.SafeMovesAvailable, safe.WinsHanded));
        // Once X has played column 3, O's win is there: the position counts as a block needed for X's next chooser, not a gift.
        b.Play(3); b.Play(6);
        var late = new TacticsCounter(new FixedColumn(4));
        late.ChooseMove(b);
        Assert.Equal((1, 1, 0, 0), (late.BlocksNeeded, late.BlocksMissed, late.SafeMovesAvailable, late.WinsHanded));
    }

    [Fact]
    public void SnapshotsJoinEveryKUpdatesAndOpponentsRespectMasks()
    {
        var o = SmallOptions();
        using var ppo = new Ppo(new ConnectFourSelfPlayVecEnv(o.NEnvs), o);
        Assert.NotNull(ppo.League);
        Assert.Equal(1, ppo.League!.PoolCount);           // the initial policy
        ppo.Learn(3 * o.NEnvs * o.NSteps);                  // 3 updates, snapshot_every 2 → one more
        Assert.Equal(2, ppo.League.PoolCount);
        Assert.Equal(ppo.Policy.Parameters.Values.Length, ppo.League.Snapshot(1).Length);
        // The league's moves: only legal columns, over many random masks.
        var rng = new Rng(3);
        const int b = 4; // the league serves batches up to n_envs
        var obs = new float[b * ppo.Policy.ObservationSize];
        var slots = new int[b];
        var actions = new int[b];
        for (int trial = 0; trial < 200; trial++)
        {
            var mask = Proximal.Tests.Distributions.Reference.RandomMask(rng, b, 7, 0.3);
            for (int i = 0; i < b; i++) slots[i] = rng.NextInt(ppo.League.PoolCount + 1);
            ppo.League.Act(obs, mask, slots, actions);
            for (int i = 0; i < b; i++) Assert.True(mask[i * 7 + actions[i]]);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(9)] // above the 8 parts the forwards are dealt to
    public void TheOpponentsForwardsOnMoreThreadsGiveTheOneThreadMovesToTheBit(int threads)
    {
        // train_threads also runs the league's forwards (one per slot in use) side by side; the draws stay in slot order.
        var one = SmallOptions();
        one.SelfPlay.PoolSize = 4;
        one.SelfPlay.SnapshotEvery = 1;
        var two = one.Clone();
        two.TrainThreads = threads;
        using var a = new Ppo(new ConnectFourSelfPlayVecEnv(one.NEnvs), one);
        using var b = new Ppo(new ConnectFourSelfPlayVecEnv(two.NEnvs), two);
        Assert.Equal(threads, b.League!.Threads);
        a.Learn(5 * one.NEnvs * one.NSteps);
        b.Learn(5 * two.NEnvs * two.NSteps);
        Assert.Equal(a.Policy.Parameters.Values, b.Policy.Parameters.Values);
        Assert.Equal(4, b.League.PoolCount);

        // Direct calls with several slots in use at once (up to four forwards dealt to the threads); both leagues draw alike.
        var rng = new Rng(11);
        const int n = 4; // the league serves batches up to n_envs
        var obs = new float[n * a.Policy.ObservationSize];
        var slots = new int[n];
        int[] movesA = new int[n], movesB = new int[n];
        for (int trial = 0; trial < 100; trial++)
        {
            for (int i = 0; i < obs.Length; i++) obs[i] = rng.NextInt(2);
            var mask = Proximal.Tests.Distributions.Reference.RandomMask(rng, n, 7, 0.3);
            for (int i = 0; i < n; i++) slots[i] = rng.NextInt(a.League!.PoolCount + 1);
            a.League!.Act(obs, mask, slots, movesA);
            b.League.Act(obs, mask, slots, movesB);
            Assert.Equal(movesA, movesB);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => b.League.Threads = 0);
    }

    [Fact]
    public void TheSparseInputPathTrainsTheSameBitsAsTheDenseOne()
    {
        // The board planes are mostly zeros, so the first layer's forward and weight gradient (minibatches of 64) and the
        // snapshots' forwards skip them; a run must not depend on that (two threads: the snapshots' forwards on both).
        var o = SmallOptions();
        o.SelfPlay.SnapshotEvery = 1;
        o.TrainThreads = 2;
        using var sparse = new Ppo(new ConnectFourSelfPlayVecEnv(o.NEnvs), o);
        using var dense = new Ppo(new ConnectFourSelfPlayVecEnv(o.NEnvs), o.Clone());
        dense.Policy.SparseInputs = false;
        sparse.Learn(4 * o.NEnvs * o.NSteps);
        dense.Learn(4 * o.NEnvs * o.NSteps);
        Assert.Equal(dense.Policy.Parameters.Values, sparse.Policy.Parameters.Values);
        Assert.False(dense.Policy.Linears[0].LastForwardWasSparse);

        // and the sparse path was taken: a minibatch-sized forward of real positions goes through it
        var env = new ConnectFourSelfPlayVecEnv(64);
        var obs = new float[64 * env.ObservationSize];
        env.Reset(obs, 1);
        var first = sparse.Policy.Linears[0]; // the actor's first layer
        sparse.Policy.ActorOutputs(obs.AsSpan(0, 8 * env.ObservationSize), 8); // too few rows: dense
        Assert.False(first.LastForwardWasSparse);
        sparse.Policy.ActorOutputs(obs, 64);
        Assert.True(first.LastForwardWasSparse);
    }

    [Fact]
    public void EverySnapshotPlaysWithItsOwnWeightsAfterThePoolWrapsAndAfterAResume()
    {
        // pool_size 2, a snapshot every update: after 5 updates position 0 holds update 4's weights, position 1 update 5's.
        var o = SmallOptions();
        o.SelfPlay.PoolSize = 2;
        o.SelfPlay.SnapshotEvery = 1;
        using var ppo = Ppo.Create("ConnectFour-v0", o);
        ppo.Learn(5 * o.NEnvs * o.NSteps);
        var league = ppo.League!;
        Assert.Equal(2, league.PoolCount);
        var obs = new float[3 * ppo.Policy.ObservationSize];
        var rng = new Rng(4);
        for (int i = 0; i < obs.Length; i++) obs[i] = rng.NextInt(2);
        var reference = new ActorCritic(ppo.Policy.ObservationSpace, ppo.Policy.ActionSpace, ppo.Policy.Options, new Rng(0));
        void Check(SelfPlayLeague l)
        {
            for (int k = 0; k < l.PoolCount; k++)
            {
                l.Snapshot(k).CopyTo(reference.Parameters.Values);
                Assert.Equal(reference.ActorOutputs(obs, 3).ToArray(), l.SnapshotActor(k).Forward(obs, 3).ToArray());
            }
        }
        Check(league);
        Assert.NotEqual(league.Snapshot(0).ToArray(), league.Snapshot(1).ToArray());

        string dir = Directory.CreateTempSubdirectory("proximal-selfplay-pool-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.zip");
            ppo.Save(path);
            using var loaded = (Ppo)AlgorithmRegistry.Load(path);
            Check(loaded.League!);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static PpoOptions SmallOptions() => new()
    {
        NEnvs = 4, NSteps = 32, MinibatchSize = 64, NEpochs = 2, Seed = 9, EntCoef = 0.01, AnnealLr = true,
        Policy = new PolicyOptions { HiddenSizes = [32] },
        SelfPlay = new SelfPlayOptions { LatestProbability = 0.5, PoolSize = 3, SnapshotEvery = 2, EvalEvery = 7, EvalGames = 2 },
    };

    [Fact]
    public void SelfPlayRunResumesBitIdentically()
    {
        var o = SmallOptions();
        o.SelfPlay.Mirror = true;       // both options keep state (episode counters, running scores) that a resume must restore
        o.SelfPlay.PfspExponent = 2;
        o.SelfPlay.OpponentRandomMove = 0.5; // annealed to 0.1 on the schedule's clock: nothing saved, recomputed on resume
        o.SelfPlay.OpponentRandomMoveFinal = 0.1;
        o.SelfPlay.EvalOpeningPlies = 2;    // the rating at update 7 plays from random openings in both runs
        int iter = o.NEnvs * o.NSteps;
        string dir = Directory.CreateTempSubdirectory("proximal-selfplay-").FullName;
        try
        {
            using var straight = Ppo.Create("ConnectFour-v0", o);
            straight.Learn(7 * iter);

            string path = Path.Combine(dir, "half.zip");
            using (var first = Ppo.Create("ConnectFour-v0", o))
            {
                first.Learn(7 * iter, [new LambdaCallback((a, _) => a.NumTimesteps < 4 * iter)]);
                first.Save(path);
            }
            using var resumed = (Ppo)AlgorithmRegistry.Load(path);
            Assert.Equal(4 * iter, resumed.NumTimesteps);
            resumed.Learn(3 * iter, schedule: ScheduleMode.Continue);

            Assert.Equal(straight.NumTimesteps, resumed.NumTimesteps);
            Assert.Equal(straight.Policy.Parameters.Values, resumed.Policy.Parameters.Values);
            Assert.Equal(straight.League!.PoolCount, resumed.League!.PoolCount);
            for (int k = 0; k < straight.League.PoolCount; k++)
            {
                Assert.Equal(straight.League.Snapshot(k).ToArray(), resumed.League.Snapshot(k).ToArray());
                Assert.Equal(straight.League.Score(k), resumed.League.Score(k));
            }
            Assert.Contains(Enumerable.Range(0, straight.League.PoolCount), k => straight.League.Score(k) != 0.5f); // scores were kept
            Assert.Equal(straight.Metrics["rollout/episode_return_mean"], resumed.Metrics["rollout/episode_return_mean"]);
            Assert.Equal(straight.Metrics["selfplay/elo"], resumed.Metrics["selfplay/elo"]); // update 7 is rated in both
            // The 7th rollout began with 1/7 of the schedule left: 0.1 + (0.5 − 0.1)/7.
            Assert.Equal(0.1 + 0.4 / 7, straight.Metrics["selfplay/opponent_random_move"], 12);
            Assert.Equal(straight.Metrics["selfplay/opponent_random_move"], resumed.Metrics["selfplay/opponent_random_move"]);
            Assert.True(straight.Metrics["rollout/episodes"] > 0);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MatchesReportFirstAndSecondPlayerSeparately()
    {
        var m = Matches.Play(new MinimaxPlayer(2, new Rng(1)), new RandomPlayer(new Rng(2)), 20);
        Assert.Equal(20, m.AsFirst.Games);
        Assert.Equal(20, m.AsSecond.Games);
        Assert.True(m.AsFirst.WinRate >= 0.9 && m.AsSecond.WinRate >= 0.9, $"minimax depth 2 should crush random: {m}");
        var refs = Ratings.References;
        Assert.Equal(0, refs[0]);
        Assert.True(refs[1] > refs[0] + 100 && refs[2] > refs[1] && refs[3] > refs[2], $"reference ladder {string.Join(", ", refs)}");
    }

    private sealed class LowestColumnPlayer : IConnectFourPlayer
    {
        public int ChooseMove(in ConnectFour board) { int c = 0; while (!board.IsLegal(c)) c++; return c; }
    }

    [Fact]
    public void MatchesCountDistinctGamesPerColour()
    {
        // Two deterministic players replay one game per colour, however many are played.
        Matches.Play(new LowestColumnPlayer(), new LowestColumnPlayer(), 15, out int d1, out int d2);
        Assert.Equal((1, 1), (d1, d2));
        // Random against random: 30 games per colour of 7+ random moves are all different (a repeat has probability < 1e-6 here).
        var m = Matches.Play(new RandomPlayer(new Rng(4)), new RandomPlayer(new Rng(5)), 30, out d1, out d2);
        Assert.Equal((30, 30), (d1, d2));
        Assert.Equal(30, m.AsFirst.Games);
        // The hash follows the moves: the same sequence gives the same hash, a different one another.
        Matches.PlayGame(new LowestColumnPlayer(), new LowestColumnPlayer(), out ulong h1);
        Matches.PlayGame(new LowestColumnPlayer(), new LowestColumnPlayer(), out ulong h2);
        Matches.PlayGame(new MinimaxPlayer(1, new Rng(1)), new LowestColumnPlayer(), out ulong h3);
        Assert.Equal(h1, h2);
        Assert.NotEqual(h1, h3);
    }

    /// <summary>Records the board it is asked to move from, then plays the lowest legal column.</summary>
    private sealed class RecordingPlayer : IConnectFourPlayer
    {
        public readonly List<(ulong, ulong, int)> Seen = [];
        public int ChooseMove(in ConnectFour board) { Seen.Add(board.ToBits()); int c = 0; while (!board.IsLegal(c)) c++; return c; }
    }

    [Fact]
    public void RandomOpeningsArePlayedOnceInEachColourAndVaryTheGames()
    {
        // Openings are legal, never finish the game, and follow the generator.
        var a = new int[8];
        var b = new int[8];
        for (int i = 0; i < 200; i++)
        {
            Matches.DrawOpening(new Rng((ulong)i), a);
            Matches.DrawOpening(new Rng((ulong)i), b);
            Assert.Equal(a, b);
            var board = new ConnectFour();
            foreach (int c in a) Assert.Equal(GameOutcome.Ongoing, board.Play(c));
        }
        // Two deterministic players: with 4-ply openings the games differ; each opening is played in both colours.
        var p = new RecordingPlayer();
        Matches.Play(p, new LowestColumnPlayer(), 10, 4, new Rng(7), out int d1, out int d2);
        Assert.True(d1 >= 8 && d2 >= 8, $"{d1}, {d2} distinct games of 10");
        // After a 4-ply opening player 0 moves: the recorder sees 4-move positions only in its games as first player,
        // one per pair, and they are the generator's openings in order.
        var firstPositions = p.Seen.Where(s => s.Item3 == 4).ToList();
        Assert.Equal(10, firstPositions.Count); // one per game as first player, right after the opening
        var rng = new Rng(7);
        var expected = new int[4];
        for (int g = 0; g < 10; g++)
        {
            Matches.DrawOpening(rng, expected);
            var board = new ConnectFour();
            foreach (int c in expected) board.Play(c);
            Assert.Equal(board.ToBits(), firstPositions[g]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Matches.Play(p, p, 1, 9, new Rng(1), out _, out _));
        Assert.Throws<ArgumentNullException>(() => Matches.Play(p, p, 1, 2, null, out _, out _));
    }

    [Fact]
    public void RatingsFromRandomOpeningsPlayTheMatchesPlayWouldPlay()
    {
        var policy = new ActorCritic(new Box(0f, 1f, ConnectFour.FeaturePlanesSize), new Discrete(7), new PolicyOptions { HiddenSizes = [8] }, new Rng(3));
        const ulong seed = 42;
        var report = Ratings.Rate(policy, 6, seed, openingPlies: 3);
        Assert.Equal(report.Elo, Ratings.Rate(policy, 6, seed, openingPlies: 3).Elo); // reproducible
        // Independently: the same references (their generators split in order from the seed), the same openings.
        var rng = new Rng(seed);
        for (int j = 0; j < ReferencePlayer.All.Count; j++)
        {
            var expected = Matches.Play(new PolicyPlayer(policy), ReferencePlayer.All[j].Create(rng.Split()), 6, 3, Matches.OpeningGenerator(seed), out int d1, out _);
            Assert.Equal(expected, report.Matches[j].Result);
            if (j == 1) Assert.True(d1 >= 4, $"{d1} distinct games of 6 against minimax1"); // openings vary the games
        }
    }
}
