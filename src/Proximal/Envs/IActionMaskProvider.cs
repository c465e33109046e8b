namespace Proximal.Envs;

/// <summary>
/// An env with a Discrete action space whose legal actions change with the state (board games, menus, inventories):
/// <see cref="ActionMask"/> holds one entry per action, true where the action is legal, for the observation the latest
/// <see cref="IEnv.Reset"/> or <see cref="IEnv.Step"/> returned. <c>SyncVecEnv</c> and <c>ThreadedVecEnv</c> gather it into
/// <c>VecEnv.ActionMasks</c> (through any wrappers), and PPO never samples a masked action nor gives it gradient.
/// </summary>
public interface IActionMaskProvider
{
    ReadOnlySpan<bool> ActionMask { get; }
}
