using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs.Memory;

/// <summary>
/// "Remember the cue", a task that needs memory: a cue c ∈ {0, 1}, drawn uniformly at each reset, is shown at
/// step 0; then come <see cref="Delay"/> blank steps; then a query step, where the action is scored: +1 when it
/// equals c, −1 otherwise, and the episode ends. Every other step gives 0. An episode is Delay + 2 steps.
/// Observation Box(3) in [0, 1]: (c = 0, c = 1, query) one-hot, all zero on the blank steps. Actions: Discrete(2).
/// <para>
/// <b>A feed-forward policy cannot beat chance (expected return 0).</b> Its action at the query step is drawn
/// from π(·|o_query) with o_query = (0, 0, 1) whatever the cue, and nothing the policy did earlier changes that
/// observation (actions never enter the observations). So P(a = c) = ½·π(0|o_query) + ½·π(1|o_query) = ½ and the
/// expected return is ½·(+1) + ½·(−1) = 0, for every memoryless policy. A recurrent policy that carries the cue
/// through the blank steps scores +1 every episode. The tests check this by enumerating every deterministic
/// memoryless policy (the expected return of a stochastic one is a convex combination of theirs).
/// </para>
/// </summary>
public sealed class RememberCue : IEnv, IRenderable, IEnvSnapshot
{
    private int _cue, _t;
    private Rng? _rng;

    public RememberCue(int delay = DefaultDelay)
    {
        if (delay < 0 || delay > 100_000) throw new ArgumentOutOfRangeException(nameof(delay), delay, "RememberCue: delay must be in [0, 100000].");
        Delay = delay;
    }

    public const int DefaultDelay = 10;

    /// <summary>Blank steps between the cue and the query.</summary>
    public int Delay { get; }
    /// <summary>The cue of the current episode (for tests and rendering).</summary>
    public int Cue => _cue;
    /// <summary>Steps taken in the current episode.</summary>
    public int StepInEpisode => _t;

    public Space ObservationSpace { get; } = new Box(0f, 1f, 3);
    public Space ActionSpace { get; } = new Discrete(2);

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        Check(observation);
        if (seed is { } s) { if (_rng is null) _rng = new Rng(s); else _rng.Reseed(s); }
        _rng ??= new Rng(EnvSeeding.EntropySeed());
        _cue = _rng.NextDouble() < 0.5 ? 0 : 1;
        _t = 0;
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Check(observation);
        if (action.Length != 1) throw new ArgumentException($"RememberCue: action has {action.Length} values, expected 1.", nameof(action));
        float a = action[0];
        if (a != 0f && a != 1f) throw new ArgumentException($"RememberCue: action {a} is not one of 0..1.", nameof(action));
        if (_t > Delay + 1) // stepping past the end: Gymnasium's convention of a terminal step with no reward
        {
            Write(observation);
            return new StepResult(0, true, false);
        }
        bool atQuery = _t == Delay + 1;
        _t++;
        Write(observation);
        return atQuery ? new StepResult((int)a == _cue ? 1.0 : -1.0, true, false) : new StepResult(0, false, false);
    }

    private void Write(Span<float> o)
    {
        o.Clear();
        if (_t == 0) o[_cue] = 1f;
        else if (_t == Delay + 1) o[2] = 1f;
    }

    private static void Check(Span<float> o)
    {
        if (o.Length != 3) throw new ArgumentException($"RememberCue: observation buffer has {o.Length} values, expected 3.", "observation");
    }

    public string Render() => $"cue {_cue}, step {_t} of {Delay + 2}" + (_t == Delay + 1 ? " (query)" : "");

    public void Dispose() { }

    // Snapshot: cue, step, then the generator of future cues.
    public int SnapshotSize => 2 + SnapshotCodec.RngSize;

    public void SaveSnapshot(Span<double> snapshot)
    {
        SnapshotCodec.CheckSize("RememberCue", snapshot.Length, SnapshotSize);
        snapshot[0] = _cue;
        snapshot[1] = _t;
        SnapshotCodec.WriteRng(_rng, snapshot[2..]);
    }

    public void LoadSnapshot(ReadOnlySpan<double> snapshot)
    {
        SnapshotCodec.CheckSize("RememberCue", snapshot.Length, SnapshotSize);
        if (snapshot[0] is not (0 or 1) || snapshot[1] < 0 || snapshot[1] > Delay + 2 || snapshot[1] != Math.Floor(snapshot[1]))
            throw new ArgumentException("RememberCue snapshot is corrupt: cue or step out of range.");
        _cue = (int)snapshot[0];
        _t = (int)snapshot[1];
        SnapshotCodec.ReadRng(ref _rng, snapshot[2..]);
    }
}
