using Proximal.Common.Config;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// SAC's own hyperparameters over the off-policy loop's and the temperature's (<see cref="MaxEntropyOptions"/>). Defaults are the paper's
/// (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications", Table 1): 256-256 ReLU networks,
/// Adam 3e-4, batch 256, γ 0.99, τ 0.005, one gradient step per env step, target entropy −|A|; plus 5000 uniformly
/// random warm-up steps (learning_starts).
/// </summary>
public sealed class SacOptions : MaxEntropyOptions
{
    public SacOptions() => LearningStarts = 5000;

    /// <summary>Hidden widths of the actor and of each of the two critics (ReLU).</summary>
    public int[] HiddenSizes { get; set; } = [256, 256];
    /// <summary>Gradient steps between Polyak updates of the target critics.</summary>
    [Range(1, 1 << 20)] public int TargetUpdateInterval { get; set; } = 1;

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

    public new SacOptions Clone() => (SacOptions)base.Clone();
}
