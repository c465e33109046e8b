using Proximal.Nn;
using Proximal.Distributions;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Algorithms.Policies;

/// <summary>
/// The action distribution of a policy, seen through the actor network's raw output (logits, or the
/// Gaussian mean). One implementation per action-space kind; all batched, row-major, allocation-free.
/// Every *Backward method ACCUMULATES into <c>gradOutput</c> (and, for the Gaussian, into the log-std
/// gradient held by the policy's <see cref="Nn.Parameters"/>).
/// </summary>
public abstract class ActionHead
{
    /// <summary>Actor outputs per row (logits count, or the action dimension for the Gaussian mean).</summary>
    public abstract int OutputSize { get; }

    /// <summary>Floats per action (1 for Discrete, k for MultiDiscrete, d for Box).</summary>
    public abstract int ActionSize { get; }

    public abstract void Sample(ReadOnlySpan<float> output, Rng rng, Span<float> actions);
    public abstract void Mode(ReadOnlySpan<float> output, Span<float> actions);
    public abstract void LogProb(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, Span<float> logProb);
    public abstract void Entropy(ReadOnlySpan<float> output, Span<float> entropy);
    /// <summary>KL(old ‖ new); for the Gaussian the old log-std is the snapshot taken by <see cref="SnapshotOld"/>.</summary>
    public abstract void Kl(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, Span<float> kl);
    public abstract void LogProbBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, ReadOnlySpan<float> gradLogProb, Span<float> gradOutput);
    public abstract void EntropyBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradEntropy, Span<float> gradOutput);
    public abstract void KlBackward(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, ReadOnlySpan<float> gradKl, Span<float> gradOutput);

    /// <summary>
    /// The Fisher information of the distribution in output coordinates (the Hessian of KL(π ‖ π') at π' = π) times a
    /// tangent, summed over the rows: resultOutput[b] += M_b·vOutput[b]; for the Gaussian also the log-std block,
    /// resultLogStd += 2·B·vLogStd (its tangent is shared by every row). Discrete heads take empty log-std spans.
    /// </summary>
    public abstract void FisherVectorProduct(ReadOnlySpan<float> output, ReadOnlySpan<float> vOutput, ReadOnlySpan<float> vLogStd,
        Span<float> resultOutput, Span<float> resultLogStd);

    /// <summary>Remembers the current state-independent parameters (the Gaussian log-std) as the "old" policy's.</summary>
    public virtual void SnapshotOld() { }

    // ---------------------------------------------------------------- [action masks]
    // Additive overloads with a legal-action mask [B × OutputSize] (true = allowed). An EMPTY mask calls the unmasked
    // method above, so unmasked runs stay bit-identical; only the categorical head accepts a non-empty one.

    public virtual void Sample(ReadOnlySpan<float> output, Rng rng, Span<float> actions, ReadOnlySpan<bool> mask)
    { if (mask.IsEmpty) Sample(output, rng, actions); else throw MasksUnsupported(); }
    public virtual void Mode(ReadOnlySpan<float> output, Span<float> actions, ReadOnlySpan<bool> mask)
    { if (mask.IsEmpty) Mode(output, actions); else throw MasksUnsupported(); }
    public virtual void LogProb(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, Span<float> logProb, ReadOnlySpan<bool> mask)
    { if (mask.IsEmpty) LogProb(output, actions, logProb); else throw MasksUnsupported(); }
    public virtual void Entropy(ReadOnlySpan<float> output, Span<float> entropy, ReadOnlySpan<bool> mask)
    { if (mask.IsEmpty) Entropy(output, entropy); else throw MasksUnsupported(); }
    public virtual void Kl(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, Span<float> kl, ReadOnlySpan<bool> mask)
    { if (mask.IsEmpty) Kl(oldOutput, newOutput, kl); else throw MasksUnsupported(); }
    public virtual void LogProbBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, ReadOnlySpan<float> gradLogProb, Span<float> gradOutput, ReadOnlySpan<bool> mask)
    { if (mask.IsEmpty) LogProbBackward(output, actions, gradLogProb, gradOutput); else throw MasksUnsupported(); }
    public virtual void EntropyBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradEntropy, Span<float> gradOutput, ReadOnlySpan<bool> mask)
    { if (mask.IsEmpty) EntropyBackward(output, gradEntropy, gradOutput); else throw MasksUnsupported(); }
    public virtual void KlBackward(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, ReadOnlySpan<float> gradKl, Span<float> gradOutput, ReadOnlySpan<bool> mask)
    { if (mask.IsEmpty) KlBackward(oldOutput, newOutput, gradKl, gradOutput); else throw MasksUnsupported(); }

    /// <summary>True when this head accepts a non-empty action mask (the categorical head).</summary>
    public virtual bool SupportsActionMasks => false;

    private NotSupportedException MasksUnsupported() => new($"Action masks need a Discrete action space; this policy's head is {GetType().Name}.");

    /// <summary>
    /// Outputs per row that the head for <paramref name="actionSpace"/> reads (logits, or Gaussian means): what a policy
    /// network's last layer must produce.
    /// </summary>
    public static int OutputSizeFor(Space actionSpace) => actionSpace switch
    {
        Discrete d => d.N,
        MultiDiscrete md => md.Nvec.ToArray().Sum(),
        Box b => b.FlatSize,
        _ => throw new NotSupportedException($"No policy distribution for action space {actionSpace}: supported are Discrete, MultiDiscrete and Box."),
    };

    /// <summary>
    /// The head of a policy whose parameters live in <paramref name="parameters"/>: for a Box action space this allocates
    /// the state-independent Gaussian log-std there ("log_std", one per action, filled with <paramref name="logStdInit"/>)
    /// and returns its slice in <paramref name="logStd"/>; other spaces need none (null).
    /// </summary>
    public static ActionHead ForPolicy(Parameters parameters, Space actionSpace, double logStdInit, out ParameterSlice? logStd)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (actionSpace is not Box)
        {
            logStd = null;
            return For(actionSpace);
        }
        var slice = parameters.Allocate(OutputSizeFor(actionSpace), "log_std");
        parameters.ValuesOf(slice).Fill((float)logStdInit);
        logStd = slice;
        // Read the buffers at call time: the flat arrays are replaced if the parameter set grows later.
        return For(actionSpace, () => parameters.Values.AsMemory(slice.Offset, slice.Length), () => parameters.Gradients.AsMemory(slice.Offset, slice.Length));
    }

    /// <summary>The head for an action space: Categorical, MultiCategorical, or diagonal Gaussian.</summary>
    public static ActionHead For(Space actionSpace, Func<ReadOnlyMemory<float>>? logStd = null, Func<Memory<float>>? logStdGradient = null) => actionSpace switch
    {
        Discrete d => new CategoricalHead(d.N, d.Start),
        MultiDiscrete md => new MultiCategoricalHead(md),
        Box b => new GaussianHead(b.FlatSize, logStd ?? throw new ArgumentNullException(nameof(logStd)), logStdGradient ?? throw new ArgumentNullException(nameof(logStdGradient))),
        _ => throw new NotSupportedException($"No policy distribution for action space {actionSpace}: supported are Discrete, MultiDiscrete and Box."),
    };
}

/// <summary>Categorical over logits; actions are stored as indices 0..n−1 and shifted by the space's start for the env.</summary>
public sealed class CategoricalHead(int n, int start = 0) : ActionHead
{
    private readonly Categorical _d = new(n);
    public int Start { get; } = start;
    public override int OutputSize => n;
    public override int ActionSize => 1;
    public override void Sample(ReadOnlySpan<float> output, Rng rng, Span<float> actions) => _d.Sample(output, rng, actions);
    public override void Mode(ReadOnlySpan<float> output, Span<float> actions) => _d.Mode(output, actions);
    public override void LogProb(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, Span<float> logProb) => _d.LogProb(output, actions, logProb);
    public override void Entropy(ReadOnlySpan<float> output, Span<float> entropy) => _d.Entropy(output, entropy);
    public override void Kl(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, Span<float> kl) => _d.Kl(oldOutput, newOutput, kl);
    public override void LogProbBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, ReadOnlySpan<float> gradLogProb, Span<float> gradOutput) => _d.LogProbBackward(output, actions, gradLogProb, gradOutput);
    public override void EntropyBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradEntropy, Span<float> gradOutput) => _d.EntropyBackward(output, gradEntropy, gradOutput);
    public override void KlBackward(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, ReadOnlySpan<float> gradKl, Span<float> gradOutput) => _d.KlBackward(oldOutput, newOutput, gradKl, gradOutput);
    public override void FisherVectorProduct(ReadOnlySpan<float> output, ReadOnlySpan<float> vOutput, ReadOnlySpan<float> vLogStd, Span<float> resultOutput, Span<float> resultLogStd)
        => _d.FisherVectorProduct(output, vOutput, resultOutput);

    // [action masks]: the distribution treats a masked logit as −∞ (probability 0, never sampled, gradient exactly 0).
    public override bool SupportsActionMasks => true;
    public override void Sample(ReadOnlySpan<float> output, Rng rng, Span<float> actions, ReadOnlySpan<bool> mask) => _d.Sample(output, rng, actions, mask);
    public override void Mode(ReadOnlySpan<float> output, Span<float> actions, ReadOnlySpan<bool> mask) => _d.Mode(output, actions, mask);
    public override void LogProb(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, Span<float> logProb, ReadOnlySpan<bool> mask) => _d.LogProb(output, actions, logProb, mask);
    public override void Entropy(ReadOnlySpan<float> output, Span<float> entropy, ReadOnlySpan<bool> mask) => _d.Entropy(output, entropy, mask);
    public override void Kl(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, Span<float> kl, ReadOnlySpan<bool> mask) => _d.Kl(oldOutput, newOutput, kl, mask);
    public override void LogProbBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, ReadOnlySpan<float> gradLogProb, Span<float> gradOutput, ReadOnlySpan<bool> mask) => _d.LogProbBackward(output, actions, gradLogProb, gradOutput, mask);
    public override void EntropyBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradEntropy, Span<float> gradOutput, ReadOnlySpan<bool> mask) => _d.EntropyBackward(output, gradEntropy, gradOutput, mask);
    public override void KlBackward(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, ReadOnlySpan<float> gradKl, Span<float> gradOutput, ReadOnlySpan<bool> mask) => _d.KlBackward(oldOutput, newOutput, gradKl, gradOutput, mask);
}

/// <summary>Independent categoricals over concatenated logits (MultiDiscrete).</summary>
public sealed class MultiCategoricalHead(MultiDiscrete space) : ActionHead
{
    private readonly MultiCategorical _d = new(space);
    public override int OutputSize => _d.LogitsPerRow;
    public override int ActionSize => _d.ComponentCount;
    public override void Sample(ReadOnlySpan<float> output, Rng rng, Span<float> actions) => _d.Sample(output, rng, actions);
    public override void Mode(ReadOnlySpan<float> output, Span<float> actions) => _d.Mode(output, actions);
    public override void LogProb(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, Span<float> logProb) => _d.LogProb(output, actions, logProb);
    public override void Entropy(ReadOnlySpan<float> output, Span<float> entropy) => _d.Entropy(output, entropy);
    public override void Kl(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, Span<float> kl) => _d.Kl(oldOutput, newOutput, kl);
    public override void LogProbBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, ReadOnlySpan<float> gradLogProb, Span<float> gradOutput) => _d.LogProbBackward(output, actions, gradLogProb, gradOutput);
    public override void EntropyBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradEntropy, Span<float> gradOutput) => _d.EntropyBackward(output, gradEntropy, gradOutput);
    public override void KlBackward(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, ReadOnlySpan<float> gradKl, Span<float> gradOutput) => _d.KlBackward(oldOutput, newOutput, gradKl, gradOutput);
    public override void FisherVectorProduct(ReadOnlySpan<float> output, ReadOnlySpan<float> vOutput, ReadOnlySpan<float> vLogStd, Span<float> resultOutput, Span<float> resultLogStd)
        => _d.FisherVectorProduct(output, vOutput, resultOutput);
}

/// <summary>
/// Diagonal Gaussian with a state-independent log-std parameter (PPO's continuous-control policy).
/// The log-std lives in the policy's parameter buffer; its gradient is written there directly.
/// </summary>
public sealed class GaussianHead : ActionHead
{
    private readonly DiagGaussian _d;
    private readonly Func<ReadOnlyMemory<float>> _logStd;
    private readonly Func<Memory<float>> _logStdGradient;
    private readonly float[] _oldLogStd;

    public GaussianHead(int dim, Func<ReadOnlyMemory<float>> logStd, Func<Memory<float>> logStdGradient)
    {
        _d = new DiagGaussian(dim);
        _logStd = logStd;
        _logStdGradient = logStdGradient;
        _oldLogStd = new float[dim];
    }

    public override int OutputSize => _d.ActionDim;
    public override int ActionSize => _d.ActionDim;
    public ReadOnlySpan<float> OldLogStd => _oldLogStd;
    private ReadOnlySpan<float> LogStd => _logStd().Span;
    private Span<float> LogStdGradient => _logStdGradient().Span;

    public override void SnapshotOld() => LogStd.CopyTo(_oldLogStd);
    public override void Sample(ReadOnlySpan<float> output, Rng rng, Span<float> actions) => _d.Sample(output, LogStd, rng, actions);
    public override void Mode(ReadOnlySpan<float> output, Span<float> actions) => _d.Mode(output, actions);
    public override void LogProb(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, Span<float> logProb) => _d.LogProb(output, LogStd, actions, logProb);
    public override void Entropy(ReadOnlySpan<float> output, Span<float> entropy) => _d.Entropy(LogStd, entropy);
    public override void Kl(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, Span<float> kl) => _d.Kl(oldOutput, _oldLogStd, newOutput, LogStd, kl);
    public override void LogProbBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> actions, ReadOnlySpan<float> gradLogProb, Span<float> gradOutput)
        => _d.LogProbBackward(output, LogStd, actions, gradLogProb, gradOutput, LogStdGradient);
    public override void EntropyBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradEntropy, Span<float> gradOutput)
        => _d.EntropyBackward(LogStd, gradEntropy, LogStdGradient);
    public override void KlBackward(ReadOnlySpan<float> oldOutput, ReadOnlySpan<float> newOutput, ReadOnlySpan<float> gradKl, Span<float> gradOutput)
        => _d.KlBackward(oldOutput, _oldLogStd, newOutput, LogStd, gradKl, gradOutput, LogStdGradient);
    public override void FisherVectorProduct(ReadOnlySpan<float> output, ReadOnlySpan<float> vOutput, ReadOnlySpan<float> vLogStd, Span<float> resultOutput, Span<float> resultLogStd)
        => _d.FisherVectorProduct(LogStd, vOutput, vLogStd, resultOutput, resultLogStd);
}
