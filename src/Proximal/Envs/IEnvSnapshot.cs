using Proximal.Numerics;

namespace Proximal.Envs;

/// <summary>
/// The complete, bit-exact state of an env — simulation, random generator, counters — so that a paused
/// training run resumes exactly as if it had never stopped. Unlike <see cref="ISimulationState"/> (the
/// physics only, for replaying dynamics), loading a snapshot also restores the generator that draws
/// future initial states. Values are doubles; integers and generator words are stored bit-exactly.
/// </summary>
public interface IEnvSnapshot
{
    int SnapshotSize { get; }
    void SaveSnapshot(Span<double> snapshot);
    void LoadSnapshot(ReadOnlySpan<double> snapshot);
}

/// <summary>Helpers to pack generator state and flags into a snapshot.</summary>
public static class SnapshotCodec
{
    /// <summary>Doubles used by <see cref="WriteRng"/>: a presence flag and the generator words.</summary>
    public const int RngSize = 1 + Rng.StateLength;

    public static void WriteRng(Rng? rng, Span<double> into)
    {
        into[..RngSize].Clear();
        if (rng is null) return;
        into[0] = 1;
        Span<ulong> s = stackalloc ulong[Rng.StateLength];
        rng.GetState(s);
        for (int i = 0; i < s.Length; i++) into[1 + i] = BitConverter.UInt64BitsToDouble(s[i]);
    }

    public static void ReadRng(ref Rng? rng, ReadOnlySpan<double> from)
    {
        if (from[0] == 0) { rng = null; return; }
        if (from[0] != 1) throw new ArgumentException("Env snapshot is corrupt: the generator flag is neither 0 nor 1.");
        Span<ulong> s = stackalloc ulong[Rng.StateLength];
        for (int i = 0; i < s.Length; i++) s[i] = BitConverter.DoubleToUInt64Bits(from[1 + i]);
        rng ??= new Rng(0);
        rng.SetState(s);
    }

    /// <summary>Snapshot of an env whose whole state is its <see cref="ISimulationState"/> plus one generator.</summary>
    public static int Size(ISimulationState env) => env.StateSize + RngSize;

    public static void Save(ISimulationState env, Rng? rng, Span<double> into, string owner)
    {
        CheckSize(owner, into.Length, Size(env));
        env.GetState(into[..env.StateSize]);
        WriteRng(rng, into[env.StateSize..]);
    }

    public static void Load(ISimulationState env, ref Rng? rng, ReadOnlySpan<double> from, string owner)
    {
        CheckSize(owner, from.Length, Size(env));
        env.SetState(from[..env.StateSize]);
        ReadRng(ref rng, from[env.StateSize..]);
    }

    public static void CheckSize(string owner, int actual, int expected)
    {
        if (actual != expected) throw new ArgumentException($"{owner}: snapshot has {actual} values, expected {expected}.");
    }
}
