using Proximal.Envs.Games;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs.Vector;

/// <summary>
/// N games of Connect Four in which the learner plays one colour and an <see cref="IBatchOpponent"/> the other,
/// moving inside <see cref="Step"/> (one batched opponent call per step). This is how self-play fits the
/// single-agent on-policy loop: the learner sees only its own turns.
/// <para>Colours: env i's k-th episode (k from 0 since Reset) has the learner moving first when (i + k) is even, so
/// both colours are played equally often. When the learner moves second, the opponent's opening move is made
/// before the learner's first observation.</para>
/// <para>Observation: the 210 floats (five planes) of <see cref="ConnectFour.WriteObservation(Span{float})"/> from the learner's
/// side (own pieces, opponent's pieces); action: Discrete(7), the column. <see cref="VecEnv.ActionMasks"/> [N × 7]
/// gives the legal columns of the current observations.</para>
/// <para>Rewards: +1 when the learner's move wins, −1 when the opponent's reply wins, 0 for a draw and every other
/// step; each of these ends the episode (terminated). An illegal learner move (full column, or not an integer
/// 0..6), which a masked policy never makes, loses at once: −1, terminated.</para>
/// <para>Mirroring (<see cref="Mirror"/>, off by default): the board is left–right symmetric, so a position and its
/// mirror image have mirrored best moves. With it on, env i's k-th episode is shown to the learner mirrored when
/// ⌊(i + k) / 2⌋ is odd — column c appears as column 6 − c in its observations and masks, and its action a is played
/// in column 6 − a — so each colour is played mirrored and unmirrored equally often and the data is symmetric. The
/// opponent always sees the board as it is; the rule needs no state of its own, so resume stays exact.</para>
/// <para>Without an opponent attached, a uniformly random one is used (its generator is seeded by Reset).</para>
/// </summary>
public sealed class ConnectFourSelfPlayVecEnv : VecEnv
{
    private const int Od = ConnectFour.FeaturePlanesSize, Ad = ConnectFour.Columns;
    private readonly ConnectFour[] _boards;
    private readonly int[] _learner, _slot;
    private readonly long[] _episode;
    private readonly bool[] _masks, _hasFinal, _pending, _oppMasks;
    private readonly float[] _final, _oppObs;
    private readonly int[] _oppEnv, _oppSlot, _oppAction;
    private readonly Rng _fallbackRng = new(0);
    private long _stepCount;
    private bool _started;

    public ConnectFourSelfPlayVecEnv(int numEnvs)
    {
        if (numEnvs <= 0) throw new ArgumentOutOfRangeException(nameof(numEnvs), numEnvs, "numEnvs must be > 0.");
        NumEnvs = numEnvs;
        _boards = new ConnectFour[numEnvs];
        _learner = new int[numEnvs];
        _slot = new int[numEnvs];
        _episode = new long[numEnvs];
        _masks = new bool[numEnvs * Ad];
        _hasFinal = new bool[numEnvs];
        _pending = new bool[numEnvs];
        _final = new float[numEnvs * Od];
        _oppObs = new float[numEnvs * Od];
        _oppMasks = new bool[numEnvs * Ad];
        _oppEnv = new int[numEnvs];
        _oppSlot = new int[numEnvs];
        _oppAction = new int[numEnvs];
    }

    public override int NumEnvs { get; }
    public override Space SingleObservationSpace { get; } = new Box(0f, 1f, Od);
    public override Space SingleActionSpace { get; } = new Discrete(Ad);
    public override ReadOnlySpan<float> FinalObservations => _final;
    public override ReadOnlySpan<bool> HasFinalObservation => _hasFinal;
    public override ReadOnlySpan<bool> ActionMasks => _masks;
    public override long StepCount => _stepCount;

    /// <summary>Who moves for the other side; null for the built-in uniform-random opponent.</summary>
    public IBatchOpponent? Opponent { get; set; }

    /// <summary>Show every other pair of episodes mirrored to the learner (see the type's remarks); set before Reset.</summary>
    public bool Mirror { get; set; }

    /// <summary>True when env <paramref name="i"/>'s current episode is shown to the learner mirrored.</summary>
    public bool IsMirrored(int i) => Mirror && (((i + _episode[i]) >> 1) & 1) == 1;

    /// <summary>The board of env <paramref name="i"/> (a copy) and which player (0 = first) the learner is in its current episode.</summary>
    public (ConnectFour Board, int LearnerPlayer) Game(int i) => (_boards[i], _learner[i]);

    public override void Reset(Span<float> observations, ulong? seed = null)
    {
        CheckObservations(observations);
        if (seed is { } s) _fallbackRng.Reseed(s);
        Array.Clear(_hasFinal);
        Array.Clear(_pending);
        for (int i = 0; i < NumEnvs; i++)
        {
            _episode[i] = 0;
            _pending[i] = BeginEpisode(i);
        }
        OpponentMoves(_pending, endsGame: false, Span<float>.Empty, Span<bool>.Empty);
        for (int i = 0; i < NumEnvs; i++) WriteLearnerView(i, observations);
        _started = true;
    }

    public override void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        CheckStepBuffers(actions, observations, rewards, terminated, truncated);
        if (!_started) throw new InvalidOperationException("Call Reset before Step.");
        rewards.Clear(); terminated.Clear(); truncated.Clear();
        Array.Clear(_hasFinal);
        for (int i = 0; i < NumEnvs; i++)
        {
            _pending[i] = false;
            float a = actions[i];
            int column = (int)a;
            if (a == column && IsMirrored(i)) column = ConnectFour.Columns - 1 - column;
            if (a != (int)a || !_boards[i].IsLegal(column)) { rewards[i] = -1f; terminated[i] = true; continue; }
            switch (_boards[i].Play(column))
            {
                case GameOutcome.Win: rewards[i] = 1f; terminated[i] = true; break;
                case GameOutcome.Draw: terminated[i] = true; break;
                default: _pending[i] = true; break;
            }
        }
        OpponentMoves(_pending, endsGame: true, rewards, terminated);

        // Finished games: keep the last board (learner's view) as the final observation, then start the next episode.
        for (int i = 0; i < NumEnvs; i++)
        {
            _pending[i] = false;
            if (!terminated[i]) continue;
            Opponent?.GameEnded(_slot[i], rewards[i] > 0 ? 1f : rewards[i] < 0 ? 0f : 0.5f);
            _boards[i].WriteObservation(_final.AsSpan(i * Od, Od), _learner[i]);
            if (IsMirrored(i)) MirrorView(_final.AsSpan(i * Od, Od), Span<bool>.Empty);
            _hasFinal[i] = true;
            _episode[i]++;
            _pending[i] = BeginEpisode(i);
        }
        OpponentMoves(_pending, endsGame: false, Span<float>.Empty, Span<bool>.Empty);
        for (int i = 0; i < NumEnvs; i++) WriteLearnerView(i, observations);
        _stepCount++;
    }

    /// <summary>Clears env i's board and draws its opponent; true when the opponent moves first.</summary>
    private bool BeginEpisode(int i)
    {
        _boards[i].Clear();
        _learner[i] = (int)((i + _episode[i]) & 1);
        _slot[i] = Opponent?.DrawSlot() ?? 0;
        return _learner[i] == 1;
    }

    /// <summary>One batched opponent move in every env flagged in <paramref name="which"/>; a win or draw ends the game when allowed.</summary>
    private void OpponentMoves(bool[] which, bool endsGame, Span<float> rewards, Span<bool> terminated)
    {
        int b = 0;
        for (int i = 0; i < NumEnvs; i++)
        {
            if (!which[i]) continue;
            _boards[i].WriteObservation(_oppObs.AsSpan(b * Od, Od));
            _boards[i].WriteLegalMask(_oppMasks.AsSpan(b * Ad, Ad));
            _oppEnv[b] = i;
            _oppSlot[b] = _slot[i];
            b++;
        }
        if (b == 0) return;
        var moves = _oppAction.AsSpan(0, b);
        if (Opponent is { } o) o.Act(_oppObs.AsSpan(0, b * Od), _oppMasks.AsSpan(0, b * Ad), _oppSlot.AsSpan(0, b), moves);
        else for (int j = 0; j < b; j++) moves[j] = RandomPlayer.RandomLegal(_boards[_oppEnv[j]], _fallbackRng);
        for (int j = 0; j < b; j++)
        {
            int i = _oppEnv[j];
            if (!_boards[i].IsLegal(moves[j]))
                throw new InvalidOperationException($"The opponent chose column {moves[j]} in env {i}, which is not a legal move; an opponent must respect the legal-move mask.");
            var outcome = _boards[i].Play(moves[j]);
            if (outcome == GameOutcome.Ongoing) continue;
            if (!endsGame) throw new InvalidOperationException("An opening move cannot end a game.");
            if (outcome == GameOutcome.Win) rewards[i] = -1f;
            terminated[i] = true;
        }
    }

    private void WriteLearnerView(int i, Span<float> observations)
    {
        _boards[i].WriteObservation(observations.Slice(i * Od, Od));
        _boards[i].WriteLegalMask(_masks.AsSpan(i * Ad, Ad));
        if (IsMirrored(i)) MirrorView(observations.Slice(i * Od, Od), _masks.AsSpan(i * Ad, Ad));
    }

    /// <summary>Reverses the columns of every plane of an observation and of a legal-move mask, in place.</summary>
    public static void MirrorView(Span<float> observation, Span<bool> mask)
    {
        const int W = ConnectFour.Columns;
        for (int row = 0; row < observation.Length / W; row++) observation.Slice(row * W, W).Reverse();
        mask.Reverse();
    }

    // Words are split into 32-bit halves so each is exactly representable as a double.
    public override bool TrySaveSnapshot(IDictionary<string, double[]> snapshot)
    {
        if (!_started) return false;
        var s = new double[NumEnvs * 8];
        for (int i = 0; i < NumEnvs; i++)
        {
            var (p0, p1, moves) = _boards[i].ToBits();
            s[i * 8 + 0] = (uint)p0; s[i * 8 + 1] = (uint)(p0 >> 32);
            s[i * 8 + 2] = (uint)p1; s[i * 8 + 3] = (uint)(p1 >> 32);
            s[i * 8 + 4] = moves; s[i * 8 + 5] = _learner[i]; s[i * 8 + 6] = _slot[i]; s[i * 8 + 7] = _episode[i];
        }
        snapshot["ConnectFour/games"] = s;
        var rng = _fallbackRng.GetState();
        var r = new double[rng.Length * 2];
        for (int k = 0; k < rng.Length; k++) { r[2 * k] = (uint)rng[k]; r[2 * k + 1] = (uint)(rng[k] >> 32); }
        snapshot["ConnectFour/rng"] = r;
        snapshot["ConnectFour/step_count"] = [_stepCount];
        return true;
    }

    public override void LoadSnapshot(IReadOnlyDictionary<string, double[]> snapshot)
    {
        var s = SnapshotEntry(snapshot, "ConnectFour/games", NumEnvs * 8);
        for (int i = 0; i < NumEnvs; i++)
        {
            ulong p0 = (ulong)s[i * 8] | ((ulong)s[i * 8 + 1] << 32), p1 = (ulong)s[i * 8 + 2] | ((ulong)s[i * 8 + 3] << 32);
            _boards[i] = ConnectFour.FromBits(p0, p1, checked((int)s[i * 8 + 4]));
            _learner[i] = (int)s[i * 8 + 5]; _slot[i] = (int)s[i * 8 + 6]; _episode[i] = (long)s[i * 8 + 7];
            WriteLearnerViewMasksOnly(i);
        }
        var r = SnapshotEntry(snapshot, "ConnectFour/rng", 2 * Rng.StateLength);
        var state = new ulong[Rng.StateLength];
        for (int k = 0; k < state.Length; k++) state[k] = (ulong)r[2 * k] | ((ulong)r[2 * k + 1] << 32);
        _fallbackRng.SetState(state);
        _stepCount = checked((long)SnapshotEntry(snapshot, "ConnectFour/step_count", 1)[0]);
        Array.Clear(_hasFinal);
        _started = true;
    }

    private void WriteLearnerViewMasksOnly(int i)
    {
        _boards[i].WriteLegalMask(_masks.AsSpan(i * Ad, Ad));
        if (IsMirrored(i)) _masks.AsSpan(i * Ad, Ad).Reverse();
    }

    public override void Dispose() { }

    public override string ToString() => $"ConnectFourSelfPlayVecEnv({NumEnvs})";
}
