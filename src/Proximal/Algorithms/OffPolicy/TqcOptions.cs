using Proximal.Common.Config;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// TQC's own hyperparameters over the off-policy loop's and the temperature's (<see cref="MaxEntropyOptions"/>). Defaults are the paper's
/// (Kuznetsov et al. 2020, "Controlling Overestimation Bias with Truncated Mixture of Continuous Distributional
/// Quantile Critics"): N = 5 critics × M = 25 quantiles, d = 2 atoms dropped per critic (10 of 125), critics of three
/// 512-unit layers, actor 256-256, Adam 3e-4, batch 256, γ 0.99, τ 0.005, SAC's temperature toward −|A|; 5000 warm-up steps.
/// </summary>
public sealed class TqcOptions : MaxEntropyOptions
{
    public TqcOptions() => LearningStarts = 5000;

    /// <summary>Hidden widths of the actor (ReLU).</summary>
    public int[] ActorHiddenSizes { get; set; } = [256, 256];
    /// <summary>Hidden widths of each critic (ReLU).</summary>
    public int[] CriticHiddenSizes { get; set; } = [512, 512, 512];
    /// <summary>N, the critics.</summary>
    [Range(1, 64)] public int NCritics { get; set; } = 5;
    /// <summary>M, the quantiles each critic predicts.</summary>
    [Range(1, 1024)] public int NQuantiles { get; set; } = 25;
    /// <summary>d, the largest target atoms dropped per critic: the target keeps N·(M − d) of the N·M pooled atoms.</summary>
    [Range(0, 1023)] public int TopQuantilesToDropPerNet { get; set; } = 2;

    public override void Validate()
    {
        base.Validate();
        foreach (int h in ActorHiddenSizes.Concat(CriticHiddenSizes))
            if (h <= 0) throw new ConfigException($"actor_hidden_sizes / critic_hidden_sizes have a width {h}; every width must be > 0.");
        if (TopQuantilesToDropPerNet >= NQuantiles)
            throw new ConfigException($"top_quantiles_to_drop_per_net {TopQuantilesToDropPerNet} must be below n_quantiles {NQuantiles} (some atoms must remain).");
    }

    protected override void CopyNested()
    {
        base.CopyNested();
        ActorHiddenSizes = (int[])ActorHiddenSizes.Clone();
        CriticHiddenSizes = (int[])CriticHiddenSizes.Clone();
    }

    public new TqcOptions Clone() => (TqcOptions)base.Clone();
}
