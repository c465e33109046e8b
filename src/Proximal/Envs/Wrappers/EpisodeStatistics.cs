using System.Diagnostics;

namespace Proximal.Envs.Wrappers;

/// <summary>
/// Records each episode's undiscounted return (summed in float64), length and wall-clock time. On the step
/// that ends an episode the figures appear in <see cref="EnvInfo"/> (<see cref="EnvInfo.EpisodeReturn"/>, …),
/// in <see cref="LastEpisode"/>, and in <see cref="Episodes"/> for a learner to drain.
/// Place it below reward-changing wrappers (NormalizeReward, TransformReward) to report the task's own returns.
/// </summary>
public sealed class EpisodeStatistics : EnvWrapper
{
    private double _return;
    private int _length;
    private long _start;

    public EpisodeStatistics(IEnv inner, int logCapacity = 1024) : base(inner) => Episodes = new EpisodeLog(logCapacity);

    public EpisodeLog Episodes { get; }
    public EpisodeRecord? LastEpisode { get; private set; }

    public override void Reset(Span<float> observation, ulong? seed = null)
    {
        base.Reset(observation, seed);
        _return = 0;
        _length = 0;
        _start = Stopwatch.GetTimestamp();
    }

    public override StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        var r = base.Step(action, observation);
        _return += r.Reward;
        _length++;
        if (r.Terminated || r.Truncated)
        {
            var e = new EpisodeRecord(0, _return, _length, Stopwatch.GetElapsedTime(_start).TotalSeconds);
            LastEpisode = e;
            Episodes.Add(e);
            Info.Set(EnvInfo.EpisodeReturn, e.Return);
            Info.Set(EnvInfo.EpisodeLength, e.Length);
            Info.Set(EnvInfo.EpisodeSeconds, e.Seconds);
            _return = 0;
            _length = 0;
            _start = Stopwatch.GetTimestamp();
        }
        return r;
    }
}
