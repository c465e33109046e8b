using Proximal.Common.Config;

namespace Proximal.Algorithms.SelfPlay;

/// <summary>
/// Self-play on a two-player env (ConnectFour-v0): at the start of each episode the learner's opponent is the latest
/// policy with probability <see cref="LatestProbability"/>, else a past snapshot drawn uniformly from a pool of at
/// most <see cref="PoolSize"/>, refreshed every <see cref="SnapshotEvery"/> updates (OpenAI Five's 80 % / 20 %).
/// </summary>
public sealed class SelfPlayOptions
{
    /// <summary>Probability of playing the latest policy; the rest goes to a uniformly drawn past snapshot.</summary>
    [Range(0, 1)] public double LatestProbability { get; set; } = 0.8;
    /// <summary>At most this many past snapshots; the oldest is dropped when a new one arrives.</summary>
    [Range(1, 1000)] public int PoolSize { get; set; } = 20;
    /// <summary>A snapshot of the policy joins the pool every this many updates.</summary>
    [Range(1, 1_000_000)] public int SnapshotEvery { get; set; } = 10;
    /// <summary>Rate the policy against the reference players every this many updates (0: never).</summary>
    [Range(0, 1_000_000)] public int EvalEvery { get; set; } = 50;
    /// <summary>Games per colour against each reference player in a rating.</summary>
    [Range(1, 10_000)] public int EvalGames { get; set; } = 20;
    /// <summary>
    /// Start each pair of rating games (learner first, learner second) from a random opening of this many plies (as
    /// <c>play --random-opening</c>). 0 (the default) plays every game from the empty board, where a deterministic
    /// policy against references that differ only by tie-breaks replays a few lines and the rating swings with them.
    /// </summary>
    [Range(0, 8)] public int EvalOpeningPlies { get; set; }

    /// <summary>
    /// How a past snapshot is chosen when the latest policy is not: 0 = uniformly (OpenAI Five); p &gt; 0 =
    /// prioritised fictitious self-play (AlphaStar, Vinyals et al. 2019, its f_hard): snapshot k with weight
    /// (1 − s_k)^p + 0.01, where s_k is the learner's running score against it (win 1, draw ½, loss 0; an exponential
    /// average over its games, starting at ½). Snapshots the learner still loses to are played more, so it cannot
    /// forget how to beat them (the cycling of docs/benchmarks.md, "Self-play on Connect Four, round 3").
    /// </summary>
    [Range(0, 10)] public double PfspExponent { get; set; }
    /// <summary>Weight of a new game in the running score s_k of <see cref="PfspExponent"/>.</summary>
    [Range(0, 1)] public double PfspScoreRate { get; set; } = 0.05;

    /// <summary>
    /// Probability that an opponent's move (any slot) is a uniformly random legal column instead of its policy's. The
    /// learner then meets positions off the narrow lines that two near-deterministic selves keep replaying, and is paid
    /// for punishing mistakes (a win left open), which the references test. 0 by default.
    /// </summary>
    [Range(0, 1)] public double OpponentRandomMove { get; set; }

    /// <summary>
    /// When set, the random-move probability goes linearly from <see cref="OpponentRandomMove"/> at the start of the
    /// run to this value at its end (on the learning-rate schedule's clock): many mistakes to punish early, when the
    /// learner still misses one-move tactics; play closer to the opponents' own later, so that the learner is paid
    /// for beating good moves rather than for waiting for bad ones. Unset (the default): constant.
    /// </summary>
    [Range(0, 1)] public double? OpponentRandomMoveFinal { get; set; }

    /// <summary>
    /// Show half of the learner's games to it mirrored left–right (ConnectFourSelfPlayVecEnv.Mirror): the board is
    /// symmetric, so this is exact augmentation that costs nothing. Off by default (runs before it existed replay).
    /// </summary>
    public bool Mirror { get; set; }

    public SelfPlayOptions Clone() => (SelfPlayOptions)MemberwiseClone();
}
