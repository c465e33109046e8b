using Proximal.Numerics;

namespace Proximal.Envs.ClassicControl;

/// <summary>Shared argument checks and seeding for the classic-control tasks (no virtual calls in the step).</summary>
internal static class ClassicControlChecks
{
    public static void Buffers(string env, ReadOnlySpan<float> action, int actionSize, Span<float> observation, int obsSize)
    {
        if (action.Length != actionSize)
            throw new ArgumentException($"{env}: action has {action.Length} values, expected {actionSize}.", nameof(action));
        if (observation.Length != obsSize)
            throw new ArgumentException($"{env}: observation buffer has {observation.Length} values, expected {obsSize}.", nameof(observation));
    }

    public static int DiscreteAction(string env, float a, int n)
    {
        int i = (int)a;
        if (i != a || i < 0 || i >= n)
            throw new ArgumentException($"{env}: action {a} is not one of 0..{n - 1}.", "action");
        return i;
    }

    public static double ContinuousAction(string env, float a)
    {
        if (float.IsNaN(a)) throw new ArgumentException($"{env}: action is NaN.", "action");
        return a;
    }

    public static void State(string env, ReadOnlySpan<double> state, int size)
    {
        if (state.Length != size) throw new ArgumentException($"{env}: state has {state.Length} values, expected {size}.", nameof(state));
    }

    public static Rng Reseed(ref Rng? rng, ulong? seed)
    {
        if (seed is { } s) { if (rng is null) rng = new Rng(s); else rng.Reseed(s); }
        rng ??= new Rng(EnvSeeding.EntropySeed());
        return rng;
    }

    public static string Bar(double value, double low, double high, int width = 41)
    {
        var c = new char[width];
        Array.Fill(c, '-');
        int p = (int)Math.Round((Math.Clamp(value, low, high) - low) / (high - low) * (width - 1));
        c[p] = '#';
        return new string(c);
    }
}
