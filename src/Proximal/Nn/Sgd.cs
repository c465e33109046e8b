using System.Numerics.Tensors;

namespace Proximal.Nn;

/// <summary>
/// Stochastic gradient descent with optional heavy-ball momentum (PyTorch form, no dampening):
/// u ← μ·u + g, θ ← θ − lr·u; with μ = 0 simply θ ← θ − lr·g.
/// </summary>
public sealed class Sgd
{
    private readonly Parameters _parameters;

    public Sgd(Parameters parameters, double learningRate, double momentum = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("Sgd needs a model with at least one parameter; allocate the layers first.", nameof(parameters));
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Sgd momentum must be in [0, 1).");
        _parameters = parameters;
        LearningRate = learningRate;
        Momentum = momentum;
        Velocity = new float[parameters.Count];
    }

    public Parameters Parameters => _parameters;

    public double LearningRate
    {
        get;
        set => field = OptimizerChecks.LearningRate(value, "Sgd");
    }

    public double Momentum { get; }

    /// <summary>Momentum buffer u (stays zero when <see cref="Momentum"/> is 0), same layout as the parameters.</summary>
    public float[] Velocity { get; }

    public void Step(double learningRate)
    {
        LearningRate = learningRate;
        Step();
    }

    public void Step()
    {
        OptimizerChecks.SameSize(_parameters, Velocity.Length, "Sgd");
        var theta = _parameters.Values.AsSpan();
        ReadOnlySpan<float> g = _parameters.Gradients;
        float lr = (float)LearningRate;
        if (Momentum == 0)
        {
            TensorPrimitives.MultiplyAdd(g, -lr, theta, theta);
            return;
        }
        TensorPrimitives.MultiplyAdd(Velocity, (float)Momentum, g, Velocity);
        TensorPrimitives.MultiplyAdd(Velocity, -lr, theta, theta);
    }

    /// <summary>Restores a saved momentum buffer.</summary>
    public void LoadState(ReadOnlySpan<float> velocity)
    {
        if (velocity.Length != Velocity.Length) throw new ArgumentException($"Sgd velocity has {velocity.Length} entries, the model has {Velocity.Length} parameters.", nameof(velocity));
        velocity.CopyTo(Velocity);
    }
}
