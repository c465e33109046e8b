namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// Generalized Advantage Estimation (Schulman et al., 2016) over a T×N rollout stored time-major
/// (index t·N + i). Terminated steps do not bootstrap; truncated steps (time limits) bootstrap from
/// V(final observation) and then cut the advantage chain, because the next stored step belongs to a
/// new episode. Computed in double, written as float.
/// </summary>
public static class Gae
{
    /// <param name="rewards">[T×N] rewards r_t.</param>
    /// <param name="values">[T×N] V(s_t) at collection time.</param>
    /// <param name="terminated">[T×N] the episode ended in a terminal state after step t.</param>
    /// <param name="truncated">[T×N] the episode was cut after step t (not terminal).</param>
    /// <param name="truncationValues">[T×N] V(final observation) where truncated (ignored elsewhere).</param>
    /// <param name="lastValues">[N] V(s_T), the observation after the last stored step.</param>
    /// <param name="advantages">[T×N] output A_t.</param>
    /// <param name="returns">[T×N] output value targets A_t + V(s_t).</param>
    public static void Compute(int steps, int envs, double gamma, double lambda,
        ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated,
        ReadOnlySpan<float> truncationValues, ReadOnlySpan<float> lastValues, Span<float> advantages, Span<float> returns)
    {
        int n = steps * envs;
        if (steps <= 0 || envs <= 0) throw new ArgumentException($"GAE needs steps > 0 and envs > 0, got {steps} and {envs}.");
        if (gamma is < 0 or > 1 || double.IsNaN(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be in [0, 1].");
        if (lambda is < 0 or > 1 || double.IsNaN(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be in [0, 1].");
        RequireLength(nameof(rewards), rewards.Length, n);
        RequireLength(nameof(values), values.Length, n);
        RequireLength(nameof(terminated), terminated.Length, n);
        RequireLength(nameof(truncated), truncated.Length, n);
        RequireLength(nameof(truncationValues), truncationValues.Length, n);
        RequireLength(nameof(lastValues), lastValues.Length, envs);
        RequireLength(nameof(advantages), advantages.Length, n);
        RequireLength(nameof(returns), returns.Length, n);

        for (int i = 0; i < envs; i++)
        {
            double next = 0; // A_{t+1}
            for (int t = steps - 1; t >= 0; t--)
            {
                int k = t * envs + i;
                double nextValue, carry;
                if (terminated[k]) { nextValue = 0; carry = 0; }
                else if (truncated[k]) { nextValue = truncationValues[k]; carry = 0; }
                else { nextValue = t == steps - 1 ? lastValues[i] : values[k + envs]; carry = 1; }
                double delta = rewards[k] + gamma * nextValue - values[k];
                next = delta + gamma * lambda * carry * next;
                advantages[k] = (float)next;
                returns[k] = (float)(next + values[k]);
            }
        }
    }

    internal static void RequireLength(string name, int actual, int expected)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements, expected {expected}.", name);
    }
}
