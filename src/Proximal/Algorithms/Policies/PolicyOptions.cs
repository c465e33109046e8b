using Proximal.Common.Config;

namespace Proximal.Algorithms.Policies;

/// <summary>Hidden-layer nonlinearity of the MLP policies.</summary>
public enum ActivationKind { Tanh, Relu }

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

    /// <summary>Checks that involve several fields; throws <see cref="ConfigException"/> naming the key.</summary>
    public void Validate()
    {
        if (HiddenSizes.Length == 0 && SharedTrunk)
            throw new ConfigException("policy.shared_trunk needs at least one hidden layer in policy.hidden_sizes.");
        foreach (int h in HiddenSizes)
            if (h <= 0) throw new ConfigException($"policy.hidden_sizes has a width {h}; every width must be > 0.");
    }

    public PolicyOptions Clone() => new()
    {
        HiddenSizes = (int[])HiddenSizes.Clone(),
        Activation = Activation,
        SharedTrunk = SharedTrunk,
        LogStdInit = LogStdInit,
    };
}
