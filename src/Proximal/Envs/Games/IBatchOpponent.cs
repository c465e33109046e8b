namespace Proximal.Envs.Games;

/// <summary>
/// The other side of a two-player game played inside a VecEnv's Step (self-play): it moves for a batch of envs at
/// once, so a network opponent runs one forward pass per step, not one per env. The training algorithm supplies it
/// (e.g. the latest policy or a past snapshot); the env only stores which opponent "slot" each episode drew.
/// </summary>
public interface IBatchOpponent
{
    /// <summary>Called when an env starts an episode: the opponent slot for that whole episode (e.g. 0 = latest policy, k = k-th snapshot).</summary>
    int DrawSlot();

    /// <summary>
    /// One move per row: <paramref name="observations"/> [B × obs] from the opponent's own perspective,
    /// <paramref name="legal"/> [B × actions] (true = legal), <paramref name="slots"/> [B] as drawn by <see cref="DrawSlot"/>.
    /// Writes a legal action index per row into <paramref name="actions"/> [B].
    /// </summary>
    void Act(ReadOnlySpan<float> observations, ReadOnlySpan<bool> legal, ReadOnlySpan<int> slots, Span<int> actions);

    /// <summary>Called when a game against slot <paramref name="slot"/> ends: the learner's score, 1 win, ½ draw, 0 loss.</summary>
    void GameEnded(int slot, float learnerScore) { }
}
