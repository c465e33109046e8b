using Proximal.Common.Config;
using Proximal.Nn;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// Options of the off-policy loop every off-policy algorithm (SAC, TD3, TQC) shares: the replay buffer, when
/// learning starts, how often and how much it trains, the discount and the Polyak rate of the target networks.
/// Names and defaults follow SB3.
/// </summary>
public abstract class OffPolicyOptions : AlgorithmOptions, IDiscounted
{
    /// <summary>Transitions the replay buffer holds (the oldest are overwritten).</summary>
    [Range(1, 100_000_000)] public int BufferSize { get; set; } = 1_000_000;
    /// <summary>Env steps of uniformly random actions before any update (and before the policy acts).</summary>
    [Range(0, long.MaxValue)] public long LearningStarts { get; set; } = 100;
    /// <summary>Transitions per gradient step's minibatch.</summary>
    [Range(1, 1 << 20)] public int BatchSize { get; set; } = 256;
    [Range(0, 1)] public double Gamma { get; set; } = 0.99;
    /// <summary>Polyak rate of the target networks: θ' ← τ·θ + (1 − τ)·θ'.</summary>
    [Range(0, 1)] public double Tau { get; set; } = 0.005;
    /// <summary>Vector-env steps between training phases (each steps all n_envs copies once).</summary>
    [Range(1, 1 << 20)] public int TrainFreq { get; set; } = 1;
    /// <summary>Gradient steps per training phase.</summary>
    [Range(1, 1 << 20)] public int GradientSteps { get; set; } = 1;
    /// <summary>
    /// Store the replay buffer in model files (and checkpoints), so a resumed run is bit-identical to an uninterrupted
    /// one. Off, a resumed run starts with an empty buffer that refills from learning_starts.
    /// </summary>
    public bool SaveReplayBuffer { get; set; } = true;
    /// <summary>
    /// How the actor and critics start: orthogonal (ours) or fan_in_uniform, PyTorch's nn.Linear default that SB3's and
    /// CleanRL's off-policy runs start from (see <see cref="WeightInit"/>).
    /// </summary>
    public WeightInit NetInit { get; set; } = WeightInit.Orthogonal;
}
