using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Algorithms.Policies;

/// <summary>
/// TD3's (and DDPG's) actor: an MLP with a tanh output, a = tanh(f(s)) in (−1, 1)^|A| (the algorithm scales it to the
/// action bounds). Outputs go to caller-owned arrays; <see cref="Backward"/> differentiates the LAST <see cref="Forward"/>
/// of this instance. A target copy is another instance of the same sizes (equal <see cref="Parameters"/> layout).
/// Orthogonal init: √2 hidden, 0.01 output (actions start near 0).
/// </summary>
public sealed class DeterministicActor
{
    private readonly Mlp _net;
    private float[] _grad = [];
    private int _batch;

    public DeterministicActor(int observationSize, int actionSize, IReadOnlyList<int> hiddenSizes, Rng rng, Activation activation = Activation.Relu,
        WeightInit init = WeightInit.Orthogonal)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        ArgumentNullException.ThrowIfNull(rng);
        ObservationSize = observationSize;
        ActionSize = actionSize;
        Parameters = new Parameters();
        _net = new Mlp(Parameters, [observationSize, .. hiddenSizes, actionSize], activation, rng, outputGain: 0.01, name: "actor", init: init);
    }

    public Parameters Parameters { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public Mlp Network => _net;
    public int Threads { set => _net.Threads = value; }

    /// <summary>π(s) = tanh(f(s)) [batch × |A|] into <paramref name="actions"/> (caller-owned).</summary>
    public void Forward(ReadOnlySpan<float> observations, int batch, Span<float> actions)
    {
        if (actions.Length != batch * ActionSize) throw new ArgumentException($"actions has {actions.Length} values; expected {batch} × {ActionSize}.", nameof(actions));
        var z = _net.Forward(observations, batch);
        for (int i = 0; i < z.Length; i++) actions[i] = MathF.Tanh(z[i]);
        _batch = batch;
    }

    /// <summary>
    /// Back-propagates d loss/d a [batch × |A|] of the last <see cref="Forward"/> (whose <paramref name="actions"/> are
    /// passed back: d a/d z = 1 − a²), ADDING into the parameter gradients.
    /// </summary>
    public void Backward(ReadOnlySpan<float> actions, ReadOnlySpan<float> gradActions)
    {
        int n = _batch * ActionSize;
        if (_batch == 0) throw new InvalidOperationException("Backward needs a Forward first.");
        if (actions.Length != n || gradActions.Length != n) throw new ArgumentException($"actions and gradActions need {n} values each (the last forward's batch × |A|).");
        if (_grad.Length < n) _grad = new float[n];
        for (int i = 0; i < n; i++) _grad[i] = gradActions[i] * (1f - actions[i] * actions[i]);
        _net.Backward(_grad.AsSpan(0, n), computeInputGradient: false);
    }
}
