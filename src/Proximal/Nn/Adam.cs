using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Proximal.Numerics;

namespace Proximal.Nn;

/// <summary>
/// Adam (Kingma and Ba, 2015, Algorithm 1) over a whole <see cref="Parameters"/> buffer:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
/// ε defaults to 1e-5 as PPO implementations use (not the paper's 1e-8).
/// The state (<see cref="FirstMoment"/>, <see cref="SecondMoment"/>, <see cref="StepCount"/>) is exposed for save/load.
/// </summary>
public sealed class Adam
{
    private readonly Parameters _parameters;

    public Adam(Parameters parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("Adam needs a model with at least one parameter; allocate the layers first.", nameof(parameters));
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Adam beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Adam beta2 must be in [0, 1).");
        if (!(epsilon > 0) || double.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Adam epsilon must be positive and finite.");
        _parameters = parameters;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        FirstMoment = new float[parameters.Count];
        SecondMoment = new float[parameters.Count];
    }

    public Parameters Parameters => _parameters;

    /// <summary>Step size; may be changed before any step (schedules). Must be finite and ≥ 0.</summary>
    public double LearningRate
    {
        get;
        set => field = OptimizerChecks.LearningRate(value, "Adam");
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }

    /// <summary>Number of steps taken (t in the bias corrections).</summary>
    public long StepCount { get; private set; }

    /// <summary>m, same layout as <see cref="Parameters.Values"/>.</summary>
    public float[] FirstMoment { get; }

    /// <summary>v, same layout as <see cref="Parameters.Values"/>.</summary>
    public float[] SecondMoment { get; }

    /// <summary>
    /// Threads for <see cref="Step()"/>: with two or more and a large buffer, the second half of the parameters is updated
    /// on a helper core (<see cref="WorkerTeam"/>). The update is element-wise and the cut falls on a multiple of every
    /// vector width, so each element is computed by the same operations either way: results do not depend on it.
    /// </summary>
    public int Threads
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Adam: Threads must be at least 1.");
    } = 1;

    /// <summary>Below this many parameters a second core costs more (a wake-up, a cache line handed over) than it saves.</summary>
    internal const int MinParametersToSplit = 32 * 1024;

    /// <summary>Sets the learning rate, then takes one step.</summary>
    public void Step(double learningRate)
    {
        LearningRate = learningRate;
        Step();
    }

    /// <summary>One update from <see cref="Parameters.Gradients"/> (which it leaves unchanged).</summary>
    public void Step()
    {
        OptimizerChecks.SameSize(_parameters, FirstMoment.Length, "Adam");
        StepCount++;
        double bc1 = 1 - Math.Pow(Beta1, StepCount);
        double bc2 = 1 - Math.Pow(Beta2, StepCount);
        // θ −= (lr/bc1)·m / (√v/√bc2 + ε): the bias corrections folded into two scalars.
        float stepSize = (float)(LearningRate / bc1);
        float invSqrtBc2 = (float)(1 / Math.Sqrt(bc2));
        _split.StepSize = stepSize;
        _split.InvSqrtBc2 = invSqrtBc2;
        if (Threads >= 2 && FirstMoment.Length >= MinParametersToSplit) WorkerTeam.Run(_split, 2);
        else _split.RunPart(0, 1);
    }

    private SplitStep? _splitStep;
    private SplitStep _split => _splitStep ??= new SplitStep(this);

    /// <summary>One step over a contiguous range of the buffer: part p of P covers whole 16-float blocks (the last part the rest).</summary>
    private sealed class SplitStep(Adam adam) : IPartitionedWork
    {
        public float StepSize, InvSqrtBc2;

        public void RunPart(int part, int parts)
        {
            int n = adam.FirstMoment.Length, blocks = n / 16;
            int lo = (int)((long)blocks * part / parts) * 16;
            int hi = part == parts - 1 ? n : (int)((long)blocks * (part + 1) / parts) * 16;
            if (lo >= hi) return;
            Update(adam._parameters.Values.AsSpan(lo, hi - lo), adam._parameters.Gradients.AsSpan(lo, hi - lo),
                adam.FirstMoment.AsSpan(lo, hi - lo), adam.SecondMoment.AsSpan(lo, hi - lo),
                (float)adam.Beta1, (float)(1 - adam.Beta1), (float)adam.Beta2, (float)(1 - adam.Beta2), (float)adam.Epsilon, StepSize, InvSqrtBc2);
        }
    }

    private static void Update(Span<float> theta, ReadOnlySpan<float> grad, Span<float> m, Span<float> v,
        float b1, float c1, float b2, float c2, float eps, float stepSize, float invSqrtBc2)
    {
        // c = 1 − β is rounded from double: 1 − 0.999f in float is off by 1.3e-5 relative.
        int n = theta.Length, i = 0;
        ref float rt = ref MemoryMarshal.GetReference(theta);
        ref float rg = ref MemoryMarshal.GetReference(grad);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        if (Vector.IsHardwareAccelerated)
        {
            var vb1 = new Vector<float>(b1); var vc1 = new Vector<float>(c1);
            var vb2 = new Vector<float>(b2); var vc2 = new Vector<float>(c2);
            var veps = new Vector<float>(eps); var vstep = new Vector<float>(stepSize); var vinv = new Vector<float>(invSqrtBc2);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var g = Vector.LoadUnsafe(ref rg, (nuint)i);
                var mi = vb1 * Vector.LoadUnsafe(ref rm, (nuint)i) + vc1 * g;
                var vi = vb2 * Vector.LoadUnsafe(ref rv, (nuint)i) + vc2 * (g * g);
                mi.StoreUnsafe(ref rm, (nuint)i);
                vi.StoreUnsafe(ref rv, (nuint)i);
                var t = Vector.LoadUnsafe(ref rt, (nuint)i);
                (t - vstep * mi / (Vector.SquareRoot(vi) * vinv + veps)).StoreUnsafe(ref rt, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float g = Unsafe.Add(ref rg, i);
            float mi = b1 * Unsafe.Add(ref rm, i) + c1 * g;
            float vi = b2 * Unsafe.Add(ref rv, i) + c2 * (g * g);
            Unsafe.Add(ref rm, i) = mi;
            Unsafe.Add(ref rv, i) = vi;
            Unsafe.Add(ref rt, i) -= stepSize * mi / (MathF.Sqrt(vi) * invSqrtBc2 + eps);
        }
    }

    /// <summary>Restores a saved state (moments in the parameter layout and the step count).</summary>
    public void LoadState(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment, long stepCount)
    {
        OptimizerChecks.SameSize(_parameters, FirstMoment.Length, "Adam");
        if (firstMoment.Length != FirstMoment.Length) throw new ArgumentException($"Adam first moment has {firstMoment.Length} entries, the model has {FirstMoment.Length} parameters.", nameof(firstMoment));
        if (secondMoment.Length != SecondMoment.Length) throw new ArgumentException($"Adam second moment has {secondMoment.Length} entries, the model has {SecondMoment.Length} parameters.", nameof(secondMoment));
        if (stepCount < 0) throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "Adam step count cannot be negative.");
        foreach (float x in secondMoment)
            if (!(x >= 0) || float.IsInfinity(x)) throw new ArgumentException($"Adam second moment holds {x}; it must be finite and non-negative (corrupt state?).", nameof(secondMoment));
        firstMoment.CopyTo(FirstMoment);
        secondMoment.CopyTo(SecondMoment);
        StepCount = stepCount;
    }

    /// <summary>Forgets the moments and the step count.</summary>
    public void Reset()
    {
        Array.Clear(FirstMoment);
        Array.Clear(SecondMoment);
        StepCount = 0;
    }
}

internal static class OptimizerChecks
{
    public static double LearningRate(double value, string optimizer)
    {
        if (double.IsNaN(value)) throw new ArgumentOutOfRangeException("learningRate", value, $"{optimizer} learning rate is NaN.");
        if (value < 0) throw new ArgumentOutOfRangeException("learningRate", value, $"{optimizer} learning rate must be non-negative.");
        if (double.IsInfinity(value)) throw new ArgumentOutOfRangeException("learningRate", value, $"{optimizer} learning rate must be finite.");
        return value;
    }

    public static void SameSize(Parameters parameters, int stateSize, string optimizer)
    {
        if (parameters.Count != stateSize)
            throw new InvalidOperationException($"{optimizer} was built for {stateSize} parameters but the model now has {parameters.Count}; create the optimiser after the whole model.");
    }
}
