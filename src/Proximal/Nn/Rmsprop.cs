using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Proximal.Nn;

/// <summary>
/// RMSprop (Hinton's lecture 6e) over a whole <see cref="Parameters"/> buffer, in one of two published forms:
/// <list type="bullet">
/// <item><see cref="RmspropStyle.Torch"/> (PyTorch's <c>torch.optim.RMSprop</c>, which SB3's A2C uses by default):
/// v starts at 0; v ← αv + (1−α)g²; θ ← θ − lr·g / (√v + ε) — ε OUTSIDE the square root.</item>
/// <item><see cref="RmspropStyle.Tensorflow"/> (TensorFlow's RMSPropOptimizer, which OpenAI Baselines' A2C/ACKTR use, and
/// SB3's <c>RMSpropTFLike</c> reproduces): v starts at 1; v ← αv + (1−α)g²; θ ← θ − lr·g / √(v + ε) — ε INSIDE.</item>
/// </list>
/// α = 0.99 and ε = 1e-5 are the Baselines/SB3 A2C values. No momentum, no centring (neither A2C uses them).
/// The state (<see cref="SquareAverage"/>, <see cref="StepCount"/>) is exposed for save/load.
/// </summary>
public sealed class Rmsprop
{
    private readonly Parameters _parameters;

    public Rmsprop(Parameters parameters, double learningRate, double alpha = 0.99, double epsilon = 1e-5, RmspropStyle style = RmspropStyle.Torch)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("Rmsprop needs a model with at least one parameter; allocate the layers first.", nameof(parameters));
        if (!(alpha >= 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Rmsprop alpha must be in [0, 1).");
        if (!(epsilon > 0) || double.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Rmsprop epsilon must be positive and finite.");
        if (!Enum.IsDefined(style)) throw new ArgumentOutOfRangeException(nameof(style), style, "Unknown Rmsprop style.");
        _parameters = parameters;
        LearningRate = learningRate;
        Alpha = alpha;
        Epsilon = epsilon;
        Style = style;
        SquareAverage = new float[parameters.Count];
        Reset();
    }

    public Parameters Parameters => _parameters;

    /// <summary>Step size; may be changed before any step (schedules). Must be finite and ≥ 0.</summary>
    public double LearningRate
    {
        get;
        set => field = OptimizerChecks.LearningRate(value, "Rmsprop");
    }

    public double Alpha { get; }
    public double Epsilon { get; }
    public RmspropStyle Style { get; }

    /// <summary>Number of steps taken (for diagnostics; the update does not depend on it).</summary>
    public long StepCount { get; private set; }

    /// <summary>v, the running mean of g², same layout as <see cref="Parameters.Values"/>.</summary>
    public float[] SquareAverage { get; }

    /// <summary>Sets the learning rate, then takes one step.</summary>
    public void Step(double learningRate)
    {
        LearningRate = learningRate;
        Step();
    }

    /// <summary>One update from <see cref="Parameters.Gradients"/> (which it leaves unchanged).</summary>
    public void Step()
    {
        OptimizerChecks.SameSize(_parameters, SquareAverage.Length, "Rmsprop");
        StepCount++;
        Update(_parameters.Values, _parameters.Gradients, SquareAverage, (float)Alpha, (float)(1 - Alpha), (float)Epsilon,
            (float)LearningRate, Style == RmspropStyle.Tensorflow);
    }

    private static void Update(Span<float> theta, ReadOnlySpan<float> grad, Span<float> v, float a, float c, float eps, float lr, bool epsInside)
    {
        // c = 1 − α is rounded from double, as Adam does.
        int n = theta.Length, i = 0;
        ref float rt = ref MemoryMarshal.GetReference(theta);
        ref float rg = ref MemoryMarshal.GetReference(grad);
        ref float rv = ref MemoryMarshal.GetReference(v);
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<float>(a); var vc = new Vector<float>(c);
            var veps = new Vector<float>(eps); var vlr = new Vector<float>(lr);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var g = Vector.LoadUnsafe(ref rg, (nuint)i);
                var vi = va * Vector.LoadUnsafe(ref rv, (nuint)i) + vc * (g * g);
                vi.StoreUnsafe(ref rv, (nuint)i);
                var denom = epsInside ? Vector.SquareRoot(vi + veps) : Vector.SquareRoot(vi) + veps;
                var t = Vector.LoadUnsafe(ref rt, (nuint)i);
                (t - vlr * g / denom).StoreUnsafe(ref rt, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float g = Unsafe.Add(ref rg, i);
            float vi = a * Unsafe.Add(ref rv, i) + c * (g * g);
            Unsafe.Add(ref rv, i) = vi;
            float denom = epsInside ? MathF.Sqrt(vi + eps) : MathF.Sqrt(vi) + eps;
            Unsafe.Add(ref rt, i) -= lr * g / denom;
        }
    }

    /// <summary>Restores a saved state (the square average in the parameter layout and the step count).</summary>
    public void LoadState(ReadOnlySpan<float> squareAverage, long stepCount)
    {
        OptimizerChecks.SameSize(_parameters, SquareAverage.Length, "Rmsprop");
        if (squareAverage.Length != SquareAverage.Length) throw new ArgumentException($"Rmsprop square average has {squareAverage.Length} entries, the model has {SquareAverage.Length} parameters.", nameof(squareAverage));
        if (stepCount < 0) throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "Rmsprop step count cannot be negative.");
        foreach (float x in squareAverage)
            if (!(x >= 0) || float.IsInfinity(x)) throw new ArgumentException($"Rmsprop square average holds {x}; it must be finite and non-negative (corrupt state?).", nameof(squareAverage));
        squareAverage.CopyTo(SquareAverage);
        StepCount = stepCount;
    }

    /// <summary>Back to the initial state: v = 0 (Torch) or 1 (TensorFlow), no steps taken.</summary>
    public void Reset()
    {
        Array.Fill(SquareAverage, Style == RmspropStyle.Tensorflow ? 1f : 0f);
        StepCount = 0;
    }
}

/// <summary>Where RMSprop's ε sits and where its square average starts (see <see cref="Rmsprop"/>).</summary>
public enum RmspropStyle
{
    /// <summary>PyTorch: v₀ = 0, θ −= lr·g/(√v + ε).</summary>
    Torch,
    /// <summary>TensorFlow / OpenAI Baselines / SB3 RMSpropTFLike: v₀ = 1, θ −= lr·g/√(v + ε).</summary>
    Tensorflow,
}
