using Proximal.Algorithms.Policies;
using Proximal.Common.Config;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// Options of the on-policy loop every on-policy algorithm shares: N actors × T steps, the return and advantage
/// estimate (γ, λ, truncation handling), the actor-critic network, and the optimiser's gradient handling.
/// </summary>
public abstract class OnPolicyOptions : AlgorithmOptions
{
    /// <summary>T, the steps each actor runs per rollout.</summary>
    [Range(1, 1 << 20)] public int NSteps { get; set; } = 2048;
    [Range(0, 1)] public double Gamma { get; set; } = 0.99;
    [Range(0, 1)] public double GaeLambda { get; set; } = 0.95;
    /// <summary>
    /// Bootstrap time-limit truncations from V(final observation) (SB3's behaviour, the default). False treats a
    /// truncation like a termination, as CleanRL and OpenAI Baselines ppo2 do, for like-for-like comparisons.
    /// </summary>
    public bool BootstrapTruncation { get; set; } = true;
    /// <summary>Global gradient-norm clip; null disables it.</summary>
    [Positive] public double? MaxGradNorm { get; set; } = 0.5;
    /// <summary>Normalise advantages (per minibatch for PPO, per rollout for one-step updates).</summary>
    public bool NormalizeAdvantage { get; set; } = true;
    /// <summary>ε of Adam; 1e-5 as the reference PPO implementations use.</summary>
    [Range(0, 1, MinExclusive = true)] public double AdamEpsilon { get; set; } = 1e-5;

    public PolicyOptions Policy { get; set; } = new();

    public override void Validate()
    {
        base.Validate();
        Policy.Validate();
    }

    /// <summary>
    /// For algorithms that fit the critic alone by Adam minibatches after the policy step (TRPO; ACKTR with critic_fit:
    /// adam): the critic must be its own network, and the minibatch must divide the rollout. <paramref name="who"/> opens
    /// the shared-trunk message.
    /// </summary>
    protected void ValidateSeparateValueFit(string who, int vfMinibatchSize)
    {
        if (Policy.SharedTrunk)
            throw new ConfigException($"{who} needs separate actor and critic networks: set policy.shared_trunk: false (the natural-gradient step must not move the value function).");
        long batch = (long)NEnvs * NSteps;
        if (batch % vfMinibatchSize != 0 || vfMinibatchSize > batch)
            throw new ConfigException($"vf_minibatch_size {vfMinibatchSize} does not divide the rollout batch n_envs × n_steps = {NEnvs} × {NSteps} = {batch}.");
    }

    protected override void CopyNested()
    {
        base.CopyNested();
        Policy = Policy.Clone();
    }
}
