using Proximal.Common.Config;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// The temperature of the maximum-entropy off-policy algorithms (SAC and TQC, whose actor and target both carry
/// −α log π): its value, whether it is tuned toward a target entropy, and the loss that tunes it. TD3 has no
/// temperature and derives from <see cref="OffPolicyOptions"/> directly.
/// </summary>
public abstract class MaxEntropyOptions : OffPolicyOptions
{
    /// <summary>Tune the temperature α automatically (optimising log α toward <see cref="TargetEntropy"/>); off: α stays <see cref="EntCoef"/>.</summary>
    public bool AutoEntCoef { get; set; } = true;
    /// <summary>α: its initial value when tuned automatically, the constant otherwise.</summary>
    [Range(0, 1e6, MinExclusive = true)] public double EntCoef { get; set; } = 1.0;
    /// <summary>Target entropy H̄ of the automatic temperature; null: −|A| (the SAC paper's heuristic).</summary>
    public double? TargetEntropy { get; set; }
    /// <summary>The temperature's loss: alpha (−α(log π + H̄), CleanRL's) or log_alpha (−log α·(log π + H̄), SB3's and the SAC authors' code).</summary>
    public EntCoefLoss EntCoefLoss { get; set; } = EntCoefLoss.Alpha;

    public override void Validate()
    {
        base.Validate();
        if (TargetEntropy is { } t && !double.IsFinite(t)) throw new ConfigException($"target_entropy is {t}; it must be finite.");
    }
}
