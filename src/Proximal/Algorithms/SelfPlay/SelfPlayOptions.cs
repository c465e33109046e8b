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

    public SelfPlayOptions Clone() => (SelfPlayOptions)MemberwiseClone();
}
