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

    // ---- recurrent policies (SB3-contrib's MlpLstmPolicy options, same names)

    /// <summary>
    /// Width of the LSTM between the observation and the MLP heads; 0 (the default) means a feed-forward policy.
    /// With a width set, <c>ppo</c> trains recurrent PPO (<c>RecurrentPpo</c>); other algorithms refuse it.
    /// </summary>
    [Range(0, 4096)] public int LstmHiddenSize { get; set; }
    /// <summary>The critic reads the actor's LSTM output (value gradients do not flow into it, as in SB3-contrib) instead of its own LSTM.</summary>
    public bool SharedLstm { get; set; }
    /// <summary>Without <see cref="SharedLstm"/>: the critic has its own LSTM (true, SB3-contrib's default) or is feed-forward on the observation.</summary>
    public bool EnableCriticLstm { get; set; } = true;
    /// <summary>
    /// Steps per training sequence: each env's rollout is cut into chunks of this length, each starting from the LSTM
    /// state stored when it was collected; minibatches are sets of whole chunks. 0 (default): whole rollouts (n_steps).
    /// </summary>
    [Range(0, 1 << 20)] public int LstmSequenceLength { get; set; }

    /// <summary>True when the options ask for a recurrent policy.</summary>
    public bool Recurrent => LstmHiddenSize > 0;

    /// <summary>Checks that involve several fields; throws <see cref="ConfigException"/> naming the key.</summary>
    public void Validate()
    {
        if (HiddenSizes.Length == 0 && SharedTrunk)
            throw new ConfigException("policy.shared_trunk needs at least one hidden layer in policy.hidden_sizes.");
        foreach (int h in HiddenSizes)
            if (h <= 0) throw new ConfigException($"policy.hidden_sizes has a width {h}; every width must be > 0.");
        if (!Recurrent && SharedLstm)
            throw new ConfigException("policy.shared_lstm needs a recurrent policy: set policy.lstm_hidden_size > 0.");
        if (!Recurrent && LstmSequenceLength != 0)
            throw new ConfigException("policy.lstm_sequence_length needs a recurrent policy: set policy.lstm_hidden_size > 0.");
    }

    public PolicyOptions Clone() => new()
    {
        HiddenSizes = (int[])HiddenSizes.Clone(),
        Activation = Activation,
        SharedTrunk = SharedTrunk,
        LogStdInit = LogStdInit,
        LstmHiddenSize = LstmHiddenSize,
        SharedLstm = SharedLstm,
        EnableCriticLstm = EnableCriticLstm,
        LstmSequenceLength = LstmSequenceLength,
    };
}
