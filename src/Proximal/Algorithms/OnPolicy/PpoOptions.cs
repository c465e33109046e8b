using Proximal.Algorithms.SelfPlay;
using Proximal.Common.Config;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// PPO's own hyperparameters, over the on-policy ones (<see cref="OnPolicyOptions"/>) and the environment and
/// run ones (<see cref="AlgorithmOptions"/>). Names follow SB3/CleanRL (snake_case in YAML); defaults are the PPO
/// paper's Table 3 (MuJoCo) settings.
/// </summary>
public sealed class PpoOptions : OnPolicyOptions, ISelfPlayOptions
{
    /// <summary>Self-play settings, used on a two-player env (ConnectFour-v0); ignored elsewhere.</summary>
    public SelfPlayOptions SelfPlay { get; set; } = new();

    protected override void CopyNested()
    {
        base.CopyNested();
        SelfPlay = SelfPlay.Clone();
    }

    /// <summary>Samples per minibatch; N·T must be a multiple of it.</summary>
    [Range(1, 1 << 24)] public int MinibatchSize { get; set; } = 64;
    /// <summary>K, the epochs of minibatch Adam over each rollout.</summary>
    [Range(1, 1000)] public int NEpochs { get; set; } = 10;

    public SurrogateKind Surrogate { get; set; } = SurrogateKind.Clip;
    /// <summary>ε of the clipped surrogate.</summary>
    [Range(0, 10, MinExclusive = true)] public double ClipRange { get; set; } = 0.2;
    /// <summary>Anneal ε linearly to 0 with the learning-rate schedule (the paper's Atari setting).</summary>
    public bool AnnealClipRange { get; set; }
    /// <summary>
    /// d_targ of the adaptive-KL surrogate: β is halved when the measured KL falls below d_targ/1.5 and doubled
    /// above 1.5·d_targ. Only used by <c>surrogate: adaptive_kl</c>; not the early-stop <see cref="TargetKl"/>.
    /// </summary>
    [Range(0, 10, MinExclusive = true)] public double AdaptiveKlTarget { get; set; } = 0.01;
    /// <summary>β: the initial value for adaptive KL, the constant for fixed KL.</summary>
    [Range(0, 1e6, MinExclusive = true)] public double KlBeta { get; set; } = 1.0;
    /// <summary>Clip the value function around its old prediction with this ε; null disables it.</summary>
    [Positive] public double? ClipRangeVf { get; set; }
    [NonNegative] public double EntCoef { get; set; }
    [NonNegative] public double VfCoef { get; set; } = 0.5;
    /// <summary>
    /// Early stop, as SB3's option of the same name: before each minibatch's optimiser step, when that minibatch's
    /// approx-KL exceeds 1.5 × target_kl, the update ends (that step is not taken). Null disables it.
    /// </summary>
    [Positive] public double? TargetKl { get; set; }

    public override void Validate()
    {
        base.Validate();
        long batch = (long)NEnvs * NSteps;
        if (batch % MinibatchSize != 0)
            throw new ConfigException($"minibatch_size {MinibatchSize} does not divide the rollout batch n_envs × n_steps = {NEnvs} × {NSteps} = {batch}.");
        if (MinibatchSize > batch)
            throw new ConfigException($"minibatch_size {MinibatchSize} is larger than the rollout batch n_envs × n_steps = {batch}.");
    }

    public new PpoOptions Clone() => (PpoOptions)base.Clone();
}
