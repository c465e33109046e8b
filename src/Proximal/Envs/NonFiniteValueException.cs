namespace Proximal.Envs;

/// <summary>
/// An env produced NaN or ±infinity in an observation or a reward. Thrown instead of letting the value
/// reach a learner, naming where it appeared.
/// </summary>
public sealed class NonFiniteValueException : Exception
{
    public NonFiniteValueException(int envIndex, long vectorStep, int episodeStep, string quantity, int element, double value)
        : base($"Env {envIndex} produced a non-finite {quantity} ({Describe(value)}{(element >= 0 ? $" at element {element}" : "")}) " +
               $"at vector step {vectorStep} (step {episodeStep} of its episode). Check the simulator's dynamics and the actions it was given.")
    {
        EnvIndex = envIndex;
        VectorStep = vectorStep;
        EpisodeStep = episodeStep;
        Quantity = quantity;
        Element = element;
        Value = value;
    }

    public int EnvIndex { get; }
    /// <summary>Number of Step calls on the VecEnv before the failing one (0-based step counter since construction).</summary>
    public long VectorStep { get; }
    public int EpisodeStep { get; }
    /// <summary>"observation", "reward" or "reset observation".</summary>
    public string Quantity { get; }
    /// <summary>Index within the observation, or −1 for a reward.</summary>
    public int Element { get; }
    public double Value { get; }

    private static string Describe(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "+infinity" : "-infinity";
}

/// <summary>An env of a VecEnv threw; the inner exception is the env's own, this one names the env and step.</summary>
public sealed class EnvStepException(int envIndex, long vectorStep, string operation, Exception inner)
    : Exception($"Env {envIndex} threw during {operation} at vector step {vectorStep}: {inner.Message} The VecEnv must be Reset before it is stepped again.", inner)
{
    public int EnvIndex { get; } = envIndex;
    public long VectorStep { get; } = vectorStep;
}

internal static class Finite
{
    /// <summary>Index of the first non-finite value, or −1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> x)
    {
        for (int i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i])) return i;
        return -1;
    }
}

/// <summary>Seeds for generators that the user did not seed (as Gymnasium draws OS entropy).</summary>
public static class EnvSeeding
{
    public static ulong EntropySeed()
    {
        Span<byte> b = stackalloc byte[8];
        System.Security.Cryptography.RandomNumberGenerator.Fill(b);
        return BitConverter.ToUInt64(b);
    }
}
