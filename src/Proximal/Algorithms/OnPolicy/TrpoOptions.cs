using Proximal.Common.Config;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// TRPO's own hyperparameters over the on-policy ones. The trust region (δ = max_kl 0.01), conjugate gradient
/// (10 iterations, damping 0.1) and backtracking line search (factor 0.5, up to 10 tries) follow Schulman et al.
/// (2015) and OpenAI Baselines' trpo_mpi MuJoCo settings, as do the rollout (1024 steps, γ 0.99, λ 0.98) and the
/// value function (5 epochs of Adam 1e-3 over minibatches of 64 per rollout). Advantages are normalised per
/// rollout (normalize_advantage, as trpo_mpi). There is no entropy term (trpo_mpi's entcoeff is 0).
/// </summary>
public sealed class TrpoOptions : OnPolicyOptions
{
    public TrpoOptions()
    {
        NSteps = 1024;
        GaeLambda = 0.98;
        LearningRate = 1e-3; // the value function's Adam
        MaxGradNorm = null;  // trpo_mpi does not clip the value function's gradient
    }

    /// <summary>δ, the bound on the mean KL(π_old ‖ π) over the rollout's states.</summary>
    [Range(0, 10, MinExclusive = true)] public double MaxKl { get; set; } = 0.01;
    /// <summary>Conjugate-gradient iterations for s ≈ (F + λI)⁻¹ g.</summary>
    [Range(1, 1000)] public int CgIters { get; set; } = 10;
    /// <summary>λ, added to the Fisher's diagonal (F + λI) in the products CG uses.</summary>
    [NonNegative] public double CgDamping { get; set; } = 0.1;
    /// <summary>Step shrink factor of the backtracking line search.</summary>
    [Range(0, 1, MinExclusive = true, MaxExclusive = true)] public double LineSearchShrink { get; set; } = 0.5;
    /// <summary>Tries of the line search (the full step, then shrunk ones); none accepted leaves the policy unchanged.</summary>
    [Range(1, 100)] public int LineSearchMaxIter { get; set; } = 10;
    /// <summary>
    /// The line search accepts a step whose exact mean KL is at most this multiple of δ (and whose surrogate improved).
    /// 1 is the constraint as Schulman et al. (2015) state it; OpenAI Baselines' trpo_mpi, behind the published MuJoCo
    /// scores, accepts up to 1.5·max_kl (its "violated KL constraint" test is kl &gt; 1.5·max_kl).
    /// </summary>
    [Range(1, 10)] public double LineSearchKlTolerance { get; set; } = 1.0;
    /// <summary>
    /// The Fisher-vector products of conjugate gradient (and the sᵀFs of the step length) use every k-th row of the
    /// rollout; the gradient, the line search and the value fit use all rows. 1 = the whole batch. Schulman et al.
    /// (2015, appendix C) suggest computing the products on a subsample of the data, which cuts the cost of CG in
    /// proportion; Baselines' trpo_mpi uses every 5th sample (its fvpargs are arr[::5]).
    /// </summary>
    [Range(1, 1000)] public int FisherSubsample { get; set; } = 1;
    /// <summary>Epochs of Adam minibatches over the rollout for the value function, after the policy step.</summary>
    [Range(0, 1000)] public int VfEpochs { get; set; } = 5;
    /// <summary>Samples per value-function minibatch; N·T must be a multiple of it.</summary>
    [Range(1, 1 << 24)] public int VfMinibatchSize { get; set; } = 64;

    public override void Validate()
    {
        base.Validate();
        ValidateSeparateValueFit("TRPO", VfMinibatchSize);
    }

    public new TrpoOptions Clone() => (TrpoOptions)base.Clone();
}
