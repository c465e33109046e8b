using Proximal.Numerics;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// A ring of the last <see cref="Capacity"/> transitions (s, a, r, s′, terminated), preallocated once.
/// s′ is the true next observation: where an episode ended (terminated or truncated), the env's final
/// observation rather than the reset one, so targets bootstrap through time-limit truncations and stop only
/// at terminations. Sampling draws uniformly with replacement into caller-owned minibatch arrays and allocates nothing.
/// </summary>
public sealed class ReplayBuffer
{
    private readonly float[] _obs, _nextObs, _actions, _rewards;
    private readonly bool[] _terminated;
    private int _next;

    public ReplayBuffer(int capacity, int observationSize, int actionSize)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "buffer_size must be > 0.");
        if (observationSize <= 0) throw new ArgumentOutOfRangeException(nameof(observationSize), observationSize, "observation size must be > 0.");
        if (actionSize <= 0) throw new ArgumentOutOfRangeException(nameof(actionSize), actionSize, "action size must be > 0.");
        Capacity = capacity; ObservationSize = observationSize; ActionSize = actionSize;
        _obs = new float[checked(capacity * observationSize)];
        _nextObs = new float[checked(capacity * observationSize)];
        _actions = new float[checked(capacity * actionSize)];
        _rewards = new float[capacity];
        _terminated = new bool[capacity];
    }

    public int Capacity { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    /// <summary>Transitions held (≤ <see cref="Capacity"/>).</summary>
    public int Count { get; private set; }
    /// <summary>Transitions ever added (the ring overwrote the oldest beyond <see cref="Capacity"/>).</summary>
    public long Added { get; private set; }

    /// <summary>Adds one transition per env: rows of <paramref name="observations"/> [N × obs], <paramref name="actions"/> [N × act], …</summary>
    public void Add(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<float> nextObservations, ReadOnlySpan<bool> terminated)
    {
        int n = rewards.Length, od = ObservationSize, ad = ActionSize;
        if (observations.Length != n * od || nextObservations.Length != n * od || actions.Length != n * ad || terminated.Length != n)
            throw new ArgumentException($"transition arrays disagree: {n} rewards, {observations.Length} observation values, {nextObservations.Length} next-observation values, {actions.Length} action values, {terminated.Length} flags (obs {od}, act {ad}).");
        for (int i = 0; i < n; i++)
        {
            int k = _next;
            observations.Slice(i * od, od).CopyTo(_obs.AsSpan(k * od, od));
            nextObservations.Slice(i * od, od).CopyTo(_nextObs.AsSpan(k * od, od));
            actions.Slice(i * ad, ad).CopyTo(_actions.AsSpan(k * ad, ad));
            _rewards[k] = rewards[i];
            _terminated[k] = terminated[i];
            _next = (_next + 1) % Capacity;
            Count = Math.Min(Count + 1, Capacity);
            Added++;
        }
    }

    /// <summary>Draws <c>rewards.Length</c> transitions uniformly (with replacement) into the caller's arrays.</summary>
    public void Sample(Rng rng, Span<float> observations, Span<float> actions, Span<float> rewards, Span<float> nextObservations, Span<bool> terminated)
    {
        if (Count == 0) throw new InvalidOperationException("The replay buffer is empty; nothing to sample.");
        int b = rewards.Length, od = ObservationSize, ad = ActionSize;
        if (observations.Length != b * od || nextObservations.Length != b * od || actions.Length != b * ad || terminated.Length != b)
            throw new ArgumentException($"minibatch arrays disagree with batch size {b} (obs {od}, act {ad}).");
        for (int j = 0; j < b; j++)
        {
            int k = rng.NextInt(Count);
            _obs.AsSpan(k * od, od).CopyTo(observations.Slice(j * od, od));
            _nextObs.AsSpan(k * od, od).CopyTo(nextObservations.Slice(j * od, od));
            _actions.AsSpan(k * ad, ad).CopyTo(actions.Slice(j * ad, ad));
            rewards[j] = _rewards[k];
            terminated[j] = _terminated[k];
        }
    }

    /// <summary>Row <paramref name="index"/> (0 = oldest held) for inspection and tests.</summary>
    public (float[] Observation, float[] Action, float Reward, float[] NextObservation, bool Terminated) Get(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"the buffer holds {Count} transitions.");
        int k = (Count < Capacity ? 0 : _next) + index;
        k %= Capacity;
        int od = ObservationSize, ad = ActionSize;
        return (_obs.AsSpan(k * od, od).ToArray(), _actions.AsSpan(k * ad, ad).ToArray(), _rewards[k], _nextObs.AsSpan(k * od, od).ToArray(), _terminated[k]);
    }

    // ---- state for the model file (raw ring, so a resumed run samples exactly as an uninterrupted one)

    public float[] ObservationsArray => _obs;
    public float[] NextObservationsArray => _nextObs;
    public float[] ActionsArray => _actions;
    public float[] RewardsArray => _rewards;
    public bool[] TerminatedArray => _terminated;
    /// <summary>Position of the next write, held count and total added (the ring's bookkeeping).</summary>
    public long[] Bookkeeping => [_next, Count, Added];

    public void LoadBookkeeping(ReadOnlySpan<long> state)
    {
        if (state.Length != 3 || state[0] < 0 || state[0] >= Capacity || state[1] < 0 || state[1] > Capacity || state[2] < state[1])
            throw new ArgumentException("replay buffer bookkeeping is inconsistent with its capacity.");
        _next = (int)state[0]; Count = (int)state[1]; Added = state[2];
    }
}
