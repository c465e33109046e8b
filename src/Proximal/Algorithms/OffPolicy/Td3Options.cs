using Proximal.Common.Config;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// TD3's own hyperparameters over the off-policy loop's (<see cref="OffPolicyOptions"/>). The algorithm's constants are
/// the paper's (Fujimoto et al. 2018): target policy smoothing N(0, 0.2) clipped to ±0.5, actor and target updates every
/// 2 critic updates, exploration noise N(0, 0.1), τ 0.005 — all in the actor's (−1, 1) action coordinates, i.e. as
/// fractions of the half-range of the action bounds. Networks 256-256 ReLU (the paper used 400-300: set hidden_sizes),
/// Adam 3e-4, batch 256; 10000 uniformly random warm-up steps (the paper's setting for HalfCheetah and Ant).
/// </summary>
public sealed class Td3Options : OffPolicyOptions
{
    public Td3Options() => LearningStarts = 10_000;

    /// <summary>Hidden widths of the actor and of each of the two critics (ReLU).</summary>
    public int[] HiddenSizes { get; set; } = [256, 256];
    /// <summary>d: critic updates per actor update (and per target update).</summary>
    [Range(1, 1 << 20)] public int PolicyDelay { get; set; } = 2;
    /// <summary>σ̃ of the target policy smoothing noise.</summary>
    [NonNegative] public double TargetPolicyNoise { get; set; } = 0.2;
    /// <summary>c: the smoothing noise is clipped to [−c, c].</summary>
    [NonNegative] public double TargetNoiseClip { get; set; } = 0.5;
    /// <summary>σ of the Gaussian exploration noise added to the actor's actions.</summary>
    [NonNegative] public double ExplorationNoise { get; set; } = 0.1;

    public override void Validate()
    {
        base.Validate();
        foreach (int h in HiddenSizes)
            if (h <= 0) throw new ConfigException($"hidden_sizes has a width {h}; every width must be > 0.");
    }

    protected override void CopyNested()
    {
        base.CopyNested();
        HiddenSizes = (int[])HiddenSizes.Clone();
    }

    public new Td3Options Clone() => (Td3Options)base.Clone();
}
