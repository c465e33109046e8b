namespace Proximal.Nn;

/// <summary>How a network's Linear layers start.</summary>
public enum WeightInit
{
    /// <summary>
    /// Orthogonal W scaled by the layer's gain (√2 hidden, a per-head gain last), zero b: Baselines', CleanRL's PPO and
    /// SB3's on-policy choice, and ours everywhere by default.
    /// </summary>
    Orthogonal,

    /// <summary>
    /// W and b uniform in ±1/√fan_in, no gains: what a PyTorch nn.Linear holds when nobody re-initialises it, so what
    /// SB3's and CleanRL's off-policy networks (SAC, TD3, TQC) start from. For reproducing their published runs.
    /// </summary>
    FanInUniform,
}
