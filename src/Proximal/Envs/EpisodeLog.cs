namespace Proximal.Envs;

/// <summary>One finished episode: which env (index within its VecEnv, 0 for a single env), the undiscounted
/// return, the number of steps and the wall-clock seconds it took.</summary>
public readonly record struct EpisodeRecord(int EnvIndex, double Return, int Length, double Seconds);

/// <summary>
/// A bounded FIFO of finished episodes that a learner drains (allocation-free in steady state).
/// When nobody drains it, the oldest records are dropped (counted in <see cref="Dropped"/>) so memory stays bounded.
/// Not thread-safe: written and read on the thread that steps the env.
/// </summary>
public sealed class EpisodeLog
{
    private readonly EpisodeRecord[] _ring;
    private int _head, _count;

    public EpisodeLog(int capacity = 4096)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "EpisodeLog capacity must be > 0.");
        _ring = new EpisodeRecord[capacity];
    }

    public int Capacity => _ring.Length;
    public int Count => _count;
    /// <summary>Episodes ever added (including dropped ones).</summary>
    public long Total { get; private set; }
    /// <summary>Episodes overwritten because the log was full.</summary>
    public long Dropped { get; private set; }

    public void Add(in EpisodeRecord record)
    {
        Total++;
        if (_count == _ring.Length)
        {
            _ring[_head] = record;
            _head = (_head + 1) % _ring.Length;
            Dropped++;
            return;
        }
        _ring[(_head + _count) % _ring.Length] = record;
        _count++;
    }

    public bool TryDequeue(out EpisodeRecord record)
    {
        if (_count == 0) { record = default; return false; }
        record = _ring[_head];
        _head = (_head + 1) % _ring.Length;
        _count--;
        return true;
    }

    /// <summary>Moves up to <c>destination.Length</c> oldest records into <paramref name="destination"/>; returns how many.</summary>
    public int Drain(Span<EpisodeRecord> destination)
    {
        int n = 0;
        while (n < destination.Length && TryDequeue(out destination[n])) n++;
        return n;
    }

    public void Clear() { _head = 0; _count = 0; }
}
