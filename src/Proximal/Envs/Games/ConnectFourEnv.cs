using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs.Games;

/// <summary>
/// Connect Four as a single-agent env against a fixed <see cref="IConnectFourPlayer"/> (uniformly random unless
/// given): the same observation, actions, rewards and colour rule as <see cref="Vector.ConnectFourSelfPlayVecEnv"/>
/// — except that the learner's colour alternates per episode of this one env — with the legal moves in
/// <see cref="LegalMask"/>. This is what <c>EnvRegistry.Make("ConnectFour-v0")</c> returns; training builds the
/// self-play VecEnv instead.
/// </summary>
public sealed class ConnectFourEnv : IEnv, IActionMaskProvider
{
    private ConnectFour _board;
    private readonly bool[] _mask = new bool[ConnectFour.Columns];
    private readonly Rng _rng = new(0);
    private readonly IConnectFourPlayer _opponent;
    private long _episodes;
    private int _learner;

    public ConnectFourEnv(IConnectFourPlayer? opponent = null) => _opponent = opponent ?? new RandomPlayer(_rng);

    public Space ObservationSpace { get; } = new Box(0f, 1f, ConnectFour.FeaturePlanesSize);
    public Space ActionSpace { get; } = new Discrete(ConnectFour.Columns);
    public ReadOnlySpan<bool> LegalMask => _mask;
    ReadOnlySpan<bool> IActionMaskProvider.ActionMask => _mask;
    public ConnectFour Board => _board;

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        if (seed is { } s) { _rng.Reseed(s); _episodes = 0; }
        _board.Clear();
        _learner = (int)(_episodes++ & 1);
        if (_learner == 1) _board.Play(_opponent.ChooseMove(_board));
        _board.WriteObservation(observation);
        _board.WriteLegalMask(_mask);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != 1) throw new ArgumentException($"action has {action.Length} values; Connect Four takes 1 (the column).", nameof(action));
        int column = (int)action[0];
        StepResult result;
        if (action[0] != column || !_board.IsLegal(column)) result = new StepResult(-1, true, false); // an illegal move loses
        else
        {
            var outcome = _board.Play(column);
            if (outcome == GameOutcome.Win) result = new StepResult(1, true, false);
            else if (outcome == GameOutcome.Draw) result = new StepResult(0, true, false);
            else
            {
                outcome = _board.Play(_opponent.ChooseMove(_board));
                result = outcome switch
                {
                    GameOutcome.Win => new StepResult(-1, true, false),
                    GameOutcome.Draw => new StepResult(0, true, false),
                    _ => new StepResult(0, false, false),
                };
            }
        }
        _board.WriteObservation(observation, _learner);
        _board.WriteLegalMask(_mask);
        return result;
    }

    public void Dispose() { }
}
