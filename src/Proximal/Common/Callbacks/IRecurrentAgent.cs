using Proximal.Nn;

namespace Proximal.Common.Callbacks;

/// <summary>
/// An agent whose policy has memory (an LSTM): its actions depend on the state it carries from step to step, so
/// evaluation keeps one <see cref="LstmState"/> per env and says where episodes start.
/// </summary>
public interface IRecurrentAgent : IAgent
{
    /// <summary>A zero state (every env at an episode start) for <paramref name="batch"/> envs.</summary>
    LstmState NewPredictState(int batch);

    /// <summary>
    /// Actions for a batch of observations ([B × obsDim] → [B × actDim]) that continue the sequences held in
    /// <paramref name="state"/> (B rows), which is advanced in place. Rows flagged in <paramref name="episodeStart"/>
    /// (B flags) begin a new episode: their state is reset to zero first. Normalisation as in <see cref="IAgent.Predict"/>.
    /// </summary>
    void Predict(ReadOnlySpan<float> observations, Span<float> actions, LstmState state, ReadOnlySpan<bool> episodeStart,
        bool deterministic = true, bool normalized = false);
}
