using Proximal.Algorithms.Policies;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// A2C's loss on a batch, −mean(log π · A) − c2·mean(H) + c1·mean((V − R)²), and its gradient: A2C steps along it,
/// ACKTR preconditions it with K-FAC first. One place, so both optimise exactly the same objective. Owns its scratch
/// buffers (sized for one batch, allocated once).
/// </summary>
internal sealed class A2cLoss(int batch, int outputSize)
{
    /// <summary>The three terms (the loss is Policy − c2·Entropy + c1·Value).</summary>
    internal readonly record struct Parts(double Policy, double Value, double Entropy);

    private readonly float[] _logProb = new float[batch], _entropy = new float[batch], _gradLogProb = new float[batch],
        _gradEntropy = new float[batch], _gradOutputs = new float[batch * outputSize], _gradValues = new float[batch];

    /// <summary>
    /// Adds the loss's gradient into <paramref name="policy"/>'s parameter gradients, at the forward pass that gave
    /// <paramref name="outputs"/> and <paramref name="values"/> for the batch's <paramref name="actions"/>,
    /// <paramref name="advantages"/> and <paramref name="returns"/>.
    /// </summary>
    public Parts AddGradient(ActorCritic policy, ReadOnlySpan<float> outputs, ReadOnlySpan<float> values, ReadOnlySpan<float> actions,
        ReadOnlySpan<float> advantages, ReadOnlySpan<float> returns, double entCoef, double vfCoef)
    {
        int b = _logProb.Length;
        var head = policy.Head;

        // Policy gradient: loss −mean(log π · A), d/d log π_i = −A_i / B.
        head.LogProb(outputs, actions, _logProb);
        double policyLoss = 0;
        for (int i = 0; i < b; i++)
        {
            policyLoss -= (double)_logProb[i] * advantages[i];
            _gradLogProb[i] = -advantages[i] / b;
        }
        policyLoss /= b;
        Array.Clear(_gradOutputs);
        head.LogProbBackward(outputs, actions, _gradLogProb, _gradOutputs);

        // Entropy bonus: loss −= c2·mean(H).
        head.Entropy(outputs, _entropy);
        double entropy = 0;
        foreach (float h in _entropy) entropy += h;
        entropy /= b;
        if (entCoef > 0)
        {
            Array.Fill(_gradEntropy, (float)(-entCoef / b));
            head.EntropyBackward(outputs, _gradEntropy, _gradOutputs);
        }

        // Value loss: c1·mean((V − R)²) towards the λ-returns, d/dV_i = 2·c1·(V_i − R_i) / B.
        double valueLoss = 0, scale = 2 * vfCoef / b;
        for (int i = 0; i < b; i++)
        {
            double err = (double)values[i] - returns[i];
            valueLoss += err * err;
            _gradValues[i] = (float)(scale * err);
        }
        valueLoss /= b;

        policy.Backward(_gradOutputs, _gradValues);
        return new Parts(policyLoss, valueLoss, entropy);
    }
}
