using Proximal.Algorithms.Policies;
using Proximal.Envs.Games;

namespace Proximal.Algorithms.SelfPlay;

/// <summary>
/// A trained actor-critic that looks ahead: depth-limited negamax with alpha-beta pruning whose leaves are scored by the
/// agent's own critic (no hand-written evaluation), the way TD-Gammon searched over its learned value.
/// <para>Depth d searches d plies (depth 1: its own moves, each scored by minus the critic's value for the opponent who
/// then moves; depth 2 also the replies, and so on). A finished game scores exactly: a win found k plies ahead
/// <see cref="WinValue"/> − k/1000 (sooner wins, later losses), a draw 0. The critic was trained to predict the
/// discounted ±1 outcome for the side to move, from that side's view, so its values lie near [−1, 1], far below
/// <see cref="WinValue"/>.</para>
/// <para>Every root column gets its exact value (its own full-window search); among equal values the policy's most
/// probable legal column wins, so the player is deterministic. The last ply is scored in one batched critic forward
/// per node.</para>
/// </summary>
public sealed class ValueSearchPlayer : IConnectFourPlayer
{
    public const float WinValue = 10f;
    private static readonly int[] Order = [3, 2, 4, 1, 5, 0, 6]; // centre first: better pruning, same values
    private readonly ActorCritic _policy;
    private readonly float[] _leafObservations;
    private readonly float[] _rootObservation;
    private readonly float[] _rootOutputs;
    private readonly int _obsSize;

    public ValueSearchPlayer(ActorCritic policy, int depth)
    {
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        if (depth < 1 || depth > 8) throw new ArgumentOutOfRangeException(nameof(depth), depth, "Search depth must be 1..8.");
        if (policy.OutputSize != ConnectFour.Columns)
            throw new ArgumentException($"A Connect Four policy has {ConnectFour.Columns} action logits; this one has {policy.OutputSize}.", nameof(policy));
        Depth = depth;
        _obsSize = policy.ObservationSize; // 84 or 210: the board writes the planes the policy was trained on
        _leafObservations = new float[ConnectFour.Columns * _obsSize];
        _rootObservation = new float[_obsSize];
        _rootOutputs = new float[ConnectFour.Columns];
    }

    public int Depth { get; }

    /// <summary>Critic forwards so far (one per batched leaf evaluation), for cost reports.</summary>
    public long LeafBatches { get; private set; }

    public int ChooseMove(in ConnectFour board)
    {
        board.WriteObservation(_rootObservation);
        _policy.ActorOutputs(_rootObservation, 1, _rootOutputs); // logits: only their order is used, to break ties
        int best = -1;
        float bestValue = float.NegativeInfinity;
        for (int c = 0; c < ConnectFour.Columns; c++)
        {
            if (!board.IsLegal(c)) continue;
            float v = RootValue(board, c);
            if (best < 0 || v > bestValue || (v == bestValue && _rootOutputs[c] > _rootOutputs[best])) { best = c; bestValue = v; }
        }
        if (best < 0) throw new InvalidOperationException("No legal move: the board is full.");
        return best;
    }

    /// <summary>The value, for the player to move, of playing <paramref name="column"/> and searching Depth − 1 more plies.</summary>
    public float RootValue(in ConnectFour board, int column)
    {
        var child = board;
        var outcome = child.Play(column);
        if (outcome == GameOutcome.Win) return WinValue - 0.001f;
        if (outcome == GameOutcome.Draw) return 0f;
        if (Depth == 1) return -LeafValue(child);
        return -Negamax(child, Depth - 1, float.NegativeInfinity, float.PositiveInfinity, 1);
    }

    private float LeafValue(in ConnectFour board)
    {
        board.WriteObservation(_leafObservations.AsSpan(0, _obsSize));
        LeafBatches++;
        return _policy.Values(_leafObservations.AsSpan(0, _obsSize), 1)[0];
    }

    /// <summary>Negamax value for the side to move in <paramref name="board"/> (not over), <paramref name="depth"/> ≥ 1 plies left, <paramref name="ply"/> plies below the root move.</summary>
    private float Negamax(in ConnectFour board, int depth, float alpha, float beta, int ply)
    {
        if (depth == 1) return LastPly(board, ply);
        float best = float.NegativeInfinity;
        foreach (int c in Order)
        {
            if (!board.IsLegal(c)) continue;
            var child = board;
            var outcome = child.Play(c);
            float v = outcome switch
            {
                GameOutcome.Win => WinValue - 0.001f * (ply + 1),
                GameOutcome.Draw => 0f,
                _ => -Negamax(child, depth - 1, -beta, -alpha, ply + 1),
            };
            if (v > best) best = v;
            if (v > alpha) alpha = v;
            if (alpha >= beta) break;
        }
        return best;
    }

    /// <summary>One ply left: a win ends the search at once; otherwise every unfinished child is scored in one critic forward.</summary>
    private float LastPly(in ConnectFour board, int ply)
    {
        Span<int> pending = stackalloc int[ConnectFour.Columns];
        int n = 0;
        float best = float.NegativeInfinity;
        for (int c = 0; c < ConnectFour.Columns; c++)
        {
            if (!board.IsLegal(c)) continue;
            var child = board;
            var outcome = child.Play(c);
            if (outcome == GameOutcome.Win) return WinValue - 0.001f * (ply + 1); // nothing beats a win now
            if (outcome == GameOutcome.Draw) { best = MathF.Max(best, 0f); continue; }
            child.WriteObservation(_leafObservations.AsSpan(n * _obsSize, _obsSize));
            pending[n++] = c;
        }
        if (n == 0) return best;
        LeafBatches++;
        var values = _policy.Values(_leafObservations.AsSpan(0, n * _obsSize), n);
        for (int i = 0; i < n; i++) best = MathF.Max(best, -values[i]); // the child's value is the opponent's
        return best;
    }
}
