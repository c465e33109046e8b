using Proximal.Algorithms.Policies;
using Proximal.Common.Persistence;
using Proximal.Envs.Games;
using Proximal.Numerics;

namespace Proximal.Algorithms.SelfPlay;

/// <summary>Options types that carry self-play settings (PPO's).</summary>
public interface ISelfPlayOptions
{
    SelfPlayOptions SelfPlay { get; }
}

/// <summary>
/// The learner's opponents in self-play: slot 0 is the latest policy (the learner's own network, live), slots 1..k a
/// bounded pool of past snapshots (flat parameter copies, oldest replaced first, each with a <see cref="FrozenActor"/>
/// of itself: a step that meets many snapshots runs each one's forward on its own weights, no parameters copied).
/// Each episode draws its slot once: the latest with probability latest_probability, else a snapshot: uniformly, or
/// with pfsp_exponent &gt; 0 weighted towards those the learner still loses to (running scores kept per pool position
/// from <see cref="GameEnded"/>). Opponents SAMPLE their moves from their policy under the legal-move mask (or, with
/// probability opponent_random_move, play a uniformly random legal column), one batched forward per slot in use (side
/// by side on <see cref="Threads"/> threads). Everything random
/// comes from the league's own generator, saved with the model with the pool and the scores, so a resumed run
/// continues bit-exactly.
/// <para>A snapshot slot names a pool position: when the pool is full and a new snapshot replaces the oldest, episodes
/// already playing that position continue against the newer snapshot.</para>
/// </summary>
public sealed class SelfPlayLeague : IBatchOpponent
{
    private readonly ActorCritic _learner;
    private readonly SelfPlayOptions _options;
    private readonly float[][] _pool;
    private readonly FrozenActor[] _frozen; // the pool's actors, for their forwards
    private readonly float[] _scores; // [pfsp] the learner's running score against each pool position
    private readonly double[] _weights;
    private int _count, _next;
    private readonly Rng _rng;
    private readonly float[] _obs, _actions, _outputs;
    // Act's segments: per slot in use, its rows' place in _obs/_outputs and the part that runs its forward.
    private readonly int[] _segmentSlot, _segmentStart, _segmentRows, _segmentPart;
    private int _segments;
    private readonly Forwards _forwards;
    private readonly bool[] _mask;
    private readonly int[] _rows;
    private readonly int _od, _ad;

    public SelfPlayLeague(ActorCritic learner, SelfPlayOptions options, ulong seed, int maxBatch)
    {
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        OpponentRandomMoveNow = options.OpponentRandomMove;
        if (!learner.Head.SupportsActionMasks) throw new NotSupportedException("Self-play needs a Discrete action space (legal-move masks).");
        _pool = new float[options.PoolSize][];
        _frozen = new FrozenActor[options.PoolSize];
        _scores = new float[options.PoolSize];
        _weights = new double[options.PoolSize];
        _rng = new Rng(seed);
        _od = learner.ObservationSize;
        _ad = learner.OutputSize;
        _obs = new float[maxBatch * _od];
        _mask = new bool[maxBatch * _ad];
        _actions = new float[maxBatch];
        _outputs = new float[maxBatch * _ad];
        _segmentSlot = new int[options.PoolSize + 1];
        _segmentStart = new int[options.PoolSize + 1];
        _segmentRows = new int[options.PoolSize + 1];
        _segmentPart = new int[options.PoolSize + 1];
        _rows = new int[maxBatch];
        _forwards = new Forwards(this);
        AddSnapshot(); // the initial policy: the pool is never empty
    }

    public SelfPlayOptions Options => _options;
    /// <summary>Snapshots in the pool (1..pool_size).</summary>
    public int PoolCount => _count;
    /// <summary>Snapshot <paramref name="k"/> (0 = oldest position in the ring storage, not by age).</summary>
    public ReadOnlySpan<float> Snapshot(int k) => (uint)k < (uint)_count ? _pool[k] : throw new ArgumentOutOfRangeException(nameof(k));

    /// <summary>Copies the learner's current parameters into the pool (replacing the oldest when full).</summary>
    public void AddSnapshot()
    {
        var p = _learner.Parameters.Values;
        var slot = _pool[_next] ??= new float[p.Length];
        p.CopyTo(slot, 0);
        LoadFrozen(_next, slot);
        _scores[_next] = 0.5f;
        _next = (_next + 1) % _pool.Length;
        _count = Math.Min(_count + 1, _pool.Length);
    }

    /// <summary>
    /// Where the run stands on its schedule: 1 at the start, 0 at the end (the learning rate's fraction). Sets
    /// <see cref="OpponentRandomMoveNow"/>; derived from the schedule each iteration, so it needs no saving.
    /// </summary>
    public void SetScheduleFraction(double remaining)
    {
        double start = _options.OpponentRandomMove;
        OpponentRandomMoveNow = _options.OpponentRandomMoveFinal is { } end ? end + (start - end) * Math.Clamp(remaining, 0, 1) : start;
    }

    /// <summary>The probability that an opponent's move is a random legal column now (see <see cref="SelfPlayOptions.OpponentRandomMoveFinal"/>).</summary>
    public double OpponentRandomMoveNow { get; private set; }

    /// <summary>Called after update number <paramref name="update"/> (from 1): snapshots on every snapshot_every-th.</summary>
    public void AfterUpdate(long update)
    {
        if (update % _options.SnapshotEvery == 0) AddSnapshot();
    }

    public int DrawSlot()
    {
        double u = _rng.NextDouble();
        if (u < _options.LatestProbability) return 0;
        if (_options.PfspExponent == 0) return 1 + _rng.NextInt(_count);
        double total = 0;
        for (int k = 0; k < _count; k++) total += _weights[k] = Math.Pow(1.0 - _scores[k], _options.PfspExponent) + 0.01;
        double x = _rng.NextDouble() * total;
        for (int k = 0; k < _count - 1; k++)
            if ((x -= _weights[k]) < 0) return 1 + k;
        return _count;
    }

    /// <summary>[pfsp] The learner's running score against pool position <paramref name="k"/> (½ before any game).</summary>
    public float Score(int k) => (uint)k < (uint)_count ? _scores[k] : throw new ArgumentOutOfRangeException(nameof(k));

    public void GameEnded(int slot, float learnerScore)
    {
        if (slot < 1 || slot > _count) return; // the latest policy: no score kept
        ref float s = ref _scores[slot - 1];
        s += (float)_options.PfspScoreRate * (learnerScore - s);
    }

    /// <summary>
    /// Threads for the opponents' forwards: each slot in use is one network's forward, and with 2 or more they run side by
    /// side (dealt to threads by a fixed rule on their row counts). Moves are the same bits for any count: every forward
    /// is computed alone on its own rows, and the moves are then sampled slot by slot in order on one thread.
    /// </summary>
    public int Threads
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The league's Threads must be at least 1.");
    } = 1;

    /// <summary>At most this many threads share the forwards (a step uses at most pool_size + 1 networks).</summary>
    private const int MaxParts = 8;

    public void Act(ReadOnlySpan<float> observations, ReadOnlySpan<bool> legal, ReadOnlySpan<int> slots, Span<int> actions)
    {
        int b = slots.Length;
        if (b > _rows.Length) throw new ArgumentException($"The league was built for batches of at most {_rows.Length} games; got {b}.", nameof(slots));
        for (int i = 0; i < b; i++)
            if ((uint)slots[i] > (uint)_count) throw new ArgumentException($"Opponent slot {slots[i]} does not exist (pool of {_count}).", nameof(slots));
        // Each slot's rows gathered into one segment (slots in order), and each segment dealt to the least-loaded part
        // so far by its estimated cost: a forward's fixed cost, about that of 4 rows (its weights read once), plus its rows.
        int parts = Math.Min(Threads, MaxParts), k = 0, used = 0;
        Span<int> load = stackalloc int[MaxParts];
        load.Clear();
        for (int s = 0; s <= _count; s++)
        {
            int first = k;
            for (int i = 0; i < b; i++)
            {
                if (slots[i] != s) continue;
                observations.Slice(i * _od, _od).CopyTo(_obs.AsSpan(k * _od, _od));
                legal.Slice(i * _ad, _ad).CopyTo(_mask.AsSpan(k * _ad, _ad));
                _rows[k++] = i;
            }
            if (k == first) continue;
            int part = 0;
            for (int q = 1; q < parts; q++)
                if (load[q] < load[part]) part = q;
            load[part] += 4 + (k - first);
            _segmentSlot[used] = s;
            _segmentStart[used] = first;
            _segmentRows[used] = k - first;
            _segmentPart[used] = part;
            used++;
        }
        _segments = used;
        WorkerTeam.Run(_forwards, Math.Min(parts, used)); // the deal gives the first segments distinct parts: used ≥ parts in use
        for (int g = 0; g < used; g++) // the draws in slot order, as one thread makes them
        {
            int first = _segmentStart[g], rows = _segmentRows[g];
            _learner.Head.Sample(_outputs.AsSpan(first * _ad, rows * _ad), _rng, _actions.AsSpan(first, rows), _mask.AsSpan(first * _ad, rows * _ad));
        }
        for (int j = 0; j < k; j++) actions[_rows[j]] = (int)_actions[j];
        double randomMove = OpponentRandomMoveNow;
        if (randomMove > 0) // [exploration] drawn after the policy's moves so the policy draws are unchanged
            for (int i = 0; i < b; i++)
                if (_rng.NextDouble() < randomMove) actions[i] = RandomLegal(legal.Slice(i * _ad, _ad));
    }

    /// <summary>Part <paramref name="part"/> of <see cref="Act"/>'s forwards: its segments, each on its slot's network.</summary>
    private sealed class Forwards(SelfPlayLeague league) : IPartitionedWork
    {
        public void RunPart(int part, int parts)
        {
            var l = league;
            for (int g = 0; g < l._segments; g++)
            {
                if (parts > 1 && l._segmentPart[g] != part) continue;
                int s = l._segmentSlot[g], first = l._segmentStart[g], rows = l._segmentRows[g];
                var input = l._obs.AsSpan(first * l._od, rows * l._od);
                var outputs = s == 0 ? l._learner.ActorOutputs(input, rows) : l._frozen[s - 1].Forward(input, rows);
                outputs.CopyTo(l._outputs.AsSpan(first * l._ad, rows * l._ad));
            }
        }
    }

    /// <summary>Tests: the network pool position <paramref name="k"/> plays with.</summary>
    internal FrozenActor SnapshotActor(int k) => (uint)k < (uint)_count ? _frozen[k] : throw new ArgumentOutOfRangeException(nameof(k));

    private void LoadFrozen(int k, float[] parameters)
    {
        if (_frozen[k] is { } actor) actor.Load(parameters);
        else _frozen[k] = _learner.FreezeActor(parameters);
    }

    private int RandomLegal(ReadOnlySpan<bool> legal)
    {
        int n = 0;
        foreach (bool l in legal) if (l) n++;
        if (n == 0) throw new ArgumentException("A row of the legal-move mask allows no move.");
        int pick = _rng.NextInt(n);
        for (int c = 0; ; c++)
            if (legal[c] && pick-- == 0) return c;
    }

    public void Save(ModelStateWriter writer)
    {
        int p = _learner.Parameters.Count;
        var flat = new float[_count * p];
        for (int k = 0; k < _count; k++) _pool[k].CopyTo(flat, k * p);
        writer.Add(new ModelArray("selfplay/pool", flat));
        writer.Add(new ModelArray("selfplay/scores", _scores[.._count]));
        writer.Metadata["selfplay_pool_count"] = _count;
        writer.Metadata["selfplay_pool_next"] = _next;
        writer.AddRng("selfplay", _rng);
    }

    public void Restore(ModelStateReader reader)
    {
        int count = checked((int)reader.GetLong("selfplay_pool_count")), next = checked((int)reader.GetLong("selfplay_pool_next"));
        if (count < 1 || count > _pool.Length || next < 0 || next >= _pool.Length)
            throw new ModelFileException(reader.Path, $"model file {reader.Path}: self-play pool of {count} (next {next}) does not fit pool_size {_pool.Length}.");
        if (count < _pool.Length && next != count) // a pool not yet full fills position `count` next; anything else would leave a position unfilled
            throw new ModelFileException(reader.Path, $"model file {reader.Path}: self-play pool of {count} with next position {next} does not fit pool_size {_pool.Length} (a pool not yet full continues at position {count}); the file is inconsistent.");
        int p = _learner.Parameters.Count;
        var flat = reader.Model.GetFloat32("selfplay/pool", count * p).Span;
        for (int k = 0; k < count; k++)
        {
            flat.Slice(k * p, p).CopyTo(_pool[k] ??= new float[p]);
            LoadFrozen(k, _pool[k]);
        }
        Array.Fill(_scores, 0.5f);
        if (reader.Model.Contains("selfplay/scores")) reader.Model.GetFloat32("selfplay/scores", count).Span.CopyTo(_scores); // older files: ½ each
        _count = count;
        _next = next;
        reader.RestoreRng("selfplay", _rng);
    }
}
