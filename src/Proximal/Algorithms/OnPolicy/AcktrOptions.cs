using Proximal.Common.Config;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// ACKTR's own hyperparameters over the on-policy ones. Defaults are OpenAI Baselines' acktr (baselines/acktr/acktr.py,
/// the Atari/discrete learner of Wu et al. 2017): n_steps 20, γ 0.99, plain n-step returns (λ = 1), learning rate
/// 0.25 annealed linearly to 0, trust region max_kl (Baselines' kfac_clip) 0.001, ent_coef 0.01, vf_coef 0.5,
/// max_grad_norm 0.5, and K-FAC with stats decay 0.99, damping (Baselines' epsilon) 0.01, momentum 0.9 and the
/// inverses refreshed every update (kfac_update 1). No advantage normalisation (Baselines has none).
/// </summary>
public sealed class AcktrOptions : OnPolicyOptions
{
    public AcktrOptions()
    {
        NSteps = 20;
        GaeLambda = 1.0;
        LearningRate = 0.25;
        AnnealLr = true;
        NormalizeAdvantage = false;
    }

    /// <summary>c2, the entropy bonus's weight.</summary>
    [NonNegative] public double EntCoef { get; set; } = 0.01;
    /// <summary>c1, the weight of the value loss mean((V − R)²).</summary>
    [NonNegative] public double VfCoef { get; set; } = 0.5;
    /// <summary>
    /// δ, the trust region: the step η·s is shrunk until its predicted KL ½·η²·gᵀs (gᵀs = sᵀF̂s, the quadratic model
    /// with the K-FAC Fisher) is at most δ. The ACKTR paper's 0.001.
    /// </summary>
    [Range(0, 10, MinExclusive = true)] public double MaxKl { get; set; } = 0.001;
    /// <summary>λ of K-FAC's factored Tikhonov damping.</summary>
    [Range(0, 1e6, MinExclusive = true)] public double KfacDamping { get; set; } = 0.01;
    /// <summary>Decay of the running averages of the Kronecker factors.</summary>
    [Range(0, 1, MaxExclusive = true)] public double KfacStatsDecay { get; set; } = 0.99;
    /// <summary>Recompute the damped inverses every this many updates (the factors are updated every update).</summary>
    [Range(1, 1_000_000)] public int KfacUpdateEvery { get; set; } = 1;
    /// <summary>
    /// Rows of the rollout (a fresh random subset each update) whose sampled targets feed the factor statistics; 0 = all
    /// of them (Baselines). Martens and Grosse (2015, section 13) estimate the curvature on a subset of the minibatch:
    /// the running average over updates supplies the samples, and the statistics then cost a fraction of the update.
    /// </summary>
    [Range(0, 1 << 24)] public int KfacStatsBatchSize { get; set; }
    /// <summary>μ of the momentum applied to the trust-region-scaled natural gradient (Baselines: 0.9; 0 = plain steps).</summary>
    [Range(0, 1, MaxExclusive = true)] public double Momentum { get; set; } = 0.9;

    /// <summary>
    /// Baselines' acktr_cont desired_kl: when set, the step size adapts to the KL the update really made, measured after
    /// each step as mean_s KL(π_old ‖ π_new) on the rollout: above 2·desired_kl it is divided by 1.5, below
    /// desired_kl/2 multiplied by 1.5 (Baselines' constants), and it stays within [1e-8, 1] as there. The adapted step
    /// size takes the place of the learning rate as the cap η_max of the trust-region rule (max_kl still bounds the
    /// predicted KL of each step, as Baselines' clip_kl does). null (default): the fixed learning rate, the paper's rule.
    /// </summary>
    [Positive] public double? DesiredKl { get; set; }

    /// <summary>
    /// How the critic learns. kfac (default, the ACKTR paper): one joint K-FAC step moves actor and critic inside one
    /// trust region (the critic read as a unit-variance Gaussian). adam: the K-FAC step and its trust region cover the
    /// actor alone, and the critic is fitted after it by vf_epochs epochs of Adam minibatches (vf_learning_rate) on
    /// mean((V − R)²), as TRPO's is — Baselines' acktr_cont also keeps the critic out of the policy's step (it fits a
    /// separate value network with an optimiser of its own). Needs separate actor and critic networks.
    /// </summary>
    public AcktrCriticFit CriticFit { get; set; } = AcktrCriticFit.Kfac;
    /// <summary>critic_fit: adam — epochs of Adam minibatches over the rollout per update.</summary>
    [Range(1, 1000)] public int VfEpochs { get; set; } = 5;
    /// <summary>critic_fit: adam — samples per minibatch; N·T must be a multiple of it.</summary>
    [Range(1, 1 << 24)] public int VfMinibatchSize { get; set; } = 64;
    /// <summary>critic_fit: adam — Adam's learning rate for the critic (learning_rate is the K-FAC step's cap).</summary>
    [Positive] public double VfLearningRate { get; set; } = 1e-3;

    public override void Validate()
    {
        base.Validate();
        if (CriticFit == AcktrCriticFit.Adam) ValidateSeparateValueFit("critic_fit: adam", VfMinibatchSize);
    }

    public new AcktrOptions Clone() => (AcktrOptions)base.Clone();
}

/// <summary>How ACKTR's critic learns: see <see cref="AcktrOptions.CriticFit"/>.</summary>
public enum AcktrCriticFit { Kfac, Adam }
