using Proximal.Training.Config;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>Hidden-layer nonlinearity of the MLP policies.</summary>
public enum ActivationKind { Tanh, Relu }

/// <summary>How the N environments of a run are stepped.</summary>
public enum VecEnvKind { Sync, Threaded }

/// <summary>Network shape of the actor-critic. Defaults are the PPO paper's MuJoCo setting.</summary>
public sealed class PolicyOptions
{
    /// <summary>Hidden layer widths of each network (actor and critic, or the shared trunk).</summary>
    public int[] HiddenSizes { get; set; } = [64, 64];
    public ActivationKind Activation { get; set; } = ActivationKind.Tanh;
    /// <summary>One trunk for actor and critic (loss weights vf_coef / ent_coef matter then) instead of two networks.</summary>
    public bool SharedTrunk { get; set; }
    /// <summary>Initial value of the state-independent log standard deviation (Box actions).</summary>
    [Range(-20, 2)] public double LogStdInit { get; set; }
}

/// <summary>
/// Every hyperparameter of a PPO run. Names follow SB3/CleanRL (snake_case in YAML);
/// defaults are the PPO paper's Table 3 (MuJoCo) settings.
/// </summary>
public sealed class PpoOptions
{
    /// <summary>N, the number of parallel actors (environments).</summary>
    [Range(1, 4096)] public int NEnvs { get; set; } = 1;
    /// <summary>T, the steps each actor runs per rollout.</summary>
    [Range(1, 1 << 20)] public int NSteps { get; set; } = 2048;
    /// <summary>Samples per minibatch; N·T must be a multiple of it.</summary>
    [Range(1, 1 << 24)] public int MinibatchSize { get; set; } = 64;
    /// <summary>K, the epochs of minibatch Adam over each rollout.</summary>
    [Range(1, 1000)] public int NEpochs { get; set; } = 10;
    [Range(0, 1, MinExclusive = true)] public double LearningRate { get; set; } = 3e-4;
    /// <summary>Anneal the learning rate linearly to 0 over the run.</summary>
    public bool AnnealLr { get; set; }
    [Range(0, 1)] public double Gamma { get; set; } = 0.99;
    [Range(0, 1)] public double GaeLambda { get; set; } = 0.95;
    /// <summary>
    /// Bootstrap time-limit truncations from V(final observation) (SB3's behaviour, the default). False treats a
    /// truncation like a termination, as CleanRL and OpenAI Baselines ppo2 do, for like-for-like comparisons.
    /// </summary>
    public bool BootstrapTruncation { get; set; } = true;

    public SurrogateKind Surrogate { get; set; } = SurrogateKind.Clip;
    /// <summary>ε of the clipped surrogate.</summary>
    [Range(0, 10, MinExclusive = true)] public double ClipRange { get; set; } = 0.2;
    /// <summary>Anneal ε linearly to 0 over the run (the paper's Atari setting).</summary>
    public bool AnnealClipRange { get; set; }
    /// <summary>d_targ of the adaptive-KL surrogate.</summary>
    [Range(0, 10, MinExclusive = true)] public double KlTarget { get; set; } = 0.01;
    /// <summary>β: the initial value for adaptive KL, the constant for fixed KL.</summary>
    [Range(0, 1e6, MinExclusive = true)] public double KlBeta { get; set; } = 1.0;
    /// <summary>Clip the value function around its old prediction with this ε; null disables it.</summary>
    [Positive] public double? ClipRangeVf { get; set; }
    [NonNegative] public double EntCoef { get; set; }
    [NonNegative] public double VfCoef { get; set; } = 0.5;
    /// <summary>Global gradient-norm clip; null disables it.</summary>
    [Positive] public double? MaxGradNorm { get; set; } = 0.5;
    public bool NormalizeAdvantage { get; set; } = true;
    /// <summary>Stop the epochs of an update early once approx-KL exceeds this; null disables it.</summary>
    [Positive] public double? TargetKl { get; set; }
    /// <summary>ε of Adam; 1e-5 as the reference PPO implementations use.</summary>
    [Range(0, 1, MinExclusive = true)] public double AdamEpsilon { get; set; } = 1e-5;

    /// <summary>Running mean/std observation normalisation (clipped to ±10).</summary>
    public bool NormalizeObservation { get; set; }
    /// <summary>Scale rewards by the running std of the discounted return (clipped to ±10).</summary>
    public bool NormalizeReward { get; set; }

    public PolicyOptions Policy { get; set; } = new();

    public VecEnvKind VecEnv { get; set; } = VecEnvKind.Sync;
    /// <summary>Worker threads of the threaded VecEnv (0: one per core).</summary>
    [Range(0, 256)] public int EnvThreads { get; set; }
    /// <summary>Threads of large matrix products in the update (results do not depend on it).</summary>
    [Range(1, 256)] public int TrainThreads { get; set; } = 1;

    [Range(0, long.MaxValue)] public long Seed { get; set; } = 1;
    /// <summary>Environment steps of the whole run (summed over the N actors).</summary>
    [Range(1, long.MaxValue)] public long TotalSteps { get; set; } = 1_000_000;

    /// <summary>Checks that depend on several options together; throws <see cref="ConfigException"/> naming the keys.</summary>
    public void Validate()
    {
        ConfigBinder.Validate(this);
        long batch = (long)NEnvs * NSteps;
        if (batch % MinibatchSize != 0)
            throw new ConfigException($"minibatch_size {MinibatchSize} does not divide the rollout batch n_envs × n_steps = {NEnvs} × {NSteps} = {batch}.");
        if (MinibatchSize > batch)
            throw new ConfigException($"minibatch_size {MinibatchSize} is larger than the rollout batch n_envs × n_steps = {batch}.");
        if (Policy.HiddenSizes.Length == 0 && Policy.SharedTrunk)
            throw new ConfigException("policy.shared_trunk needs at least one hidden layer in policy.hidden_sizes.");
        foreach (int h in Policy.HiddenSizes)
            if (h <= 0) throw new ConfigException($"policy.hidden_sizes has a width {h}; every width must be > 0.");
    }

    public PpoOptions Clone()
    {
        var c = (PpoOptions)MemberwiseClone();
        c.Policy = new PolicyOptions
        {
            HiddenSizes = (int[])Policy.HiddenSizes.Clone(),
            Activation = Policy.Activation,
            SharedTrunk = Policy.SharedTrunk,
            LogStdInit = Policy.LogStdInit,
        };
        return c;
    }
}
