using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Proximal.Numerics;

namespace Proximal.Nn;

/// <summary>
/// Polyak averaging of target networks (the "soft" target update of DDPG/TD3/SAC): θ′ ← τ·θ + (1 − τ)·θ′, over the
/// whole flat parameter buffer in one vectorised pass. Each element is computed as (1 − τ)·θ′ + τ·θ in float32
/// (two products, one sum, no fused multiply-add), so τ = 0 leaves θ′ unchanged and τ = 1 copies θ exactly, and the
/// SIMD and scalar paths give the same bits.
/// </summary>
public static class Polyak
{
    /// <summary>θ′ ← τ·θ + (1 − τ)·θ′ element-wise; <paramref name="online"/> and <paramref name="target"/> must have the same length.</summary>
    public static void Update(ReadOnlySpan<float> online, Span<float> target, double tau)
    {
        if (online.Length != target.Length)
            throw new ArgumentException($"Polyak update: the online buffer has {online.Length} values, the target {target.Length}; they must share one layout.", nameof(target));
        if (!(tau >= 0 && tau <= 1)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "Polyak τ must be in [0, 1].");
        float a = (float)tau, keep = (float)(1 - tau);
        int n = target.Length, i = 0;
        ref float rs = ref MemoryMarshal.GetReference(online);
        ref float rt = ref MemoryMarshal.GetReference(target);
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<float>(a); var vk = new Vector<float>(keep);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var t = Vector.LoadUnsafe(ref rt, (nuint)i) * vk;
                var s = Vector.LoadUnsafe(ref rs, (nuint)i) * va;
                (t + s).StoreUnsafe(ref rt, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float t = Unsafe.Add(ref rt, i) * keep;
            float s = Unsafe.Add(ref rs, i) * a;
            Unsafe.Add(ref rt, i) = t + s;
        }
    }

    /// <summary>
    /// <see cref="Update(ReadOnlySpan{float}, Span{float}, double)"/> over two parameter sets of the same layout
    /// (same slices, names and sizes in the same order: a target network built like its online one).
    /// </summary>
    public static void Update(Parameters online, Parameters target, double tau) => Update(online, target, tau, threads: 1);

    /// <summary>
    /// <see cref="Update(Parameters, Parameters, double)"/> with the second half of a large buffer on a helper core
    /// (<see cref="WorkerTeam"/>) when <paramref name="threads"/> ≥ 2. Element-wise, cut on a multiple of every vector
    /// width: each element is computed by the same operations either way, so the result does not depend on it.
    /// </summary>
    public static void Update(Parameters online, Parameters target, double tau, int threads)
    {
        ArgumentNullException.ThrowIfNull(online);
        ArgumentNullException.ThrowIfNull(target);
        CheckSameLayout(online, target);
        if (threads < 2 || online.Count < MinValuesToSplit)
        {
            Update(online.Values, target.Values, tau);
            return;
        }
        if (!(tau >= 0 && tau <= 1)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "Polyak τ must be in [0, 1].");
        var split = _split ??= new SplitUpdate();
        split.Online = online.Values; split.Target = target.Values; split.Tau = tau;
        try { WorkerTeam.Run(split, 2); }
        finally { split.Online = split.Target = null; }
    }

    /// <summary>Below this many values a second core costs more than it saves.</summary>
    internal const int MinValuesToSplit = 32 * 1024;

    [ThreadStatic] private static SplitUpdate? _split;

    /// <summary>Part p of P: whole 16-float blocks (the last part takes the rest), so the SIMD/scalar split of each element is unchanged.</summary>
    private sealed class SplitUpdate : IPartitionedWork
    {
        public float[]? Online, Target;
        public double Tau;

        public void RunPart(int part, int parts)
        {
            int n = Target!.Length, blocks = n / 16;
            int lo = (int)((long)blocks * part / parts) * 16;
            int hi = part == parts - 1 ? n : (int)((long)blocks * (part + 1) / parts) * 16;
            if (lo < hi) Update(Online.AsSpan(lo, hi - lo), Target.AsSpan(lo, hi - lo), Tau);
        }
    }

    /// <summary>Throws unless the two sets have the same slices (name, offset, length) in the same order.</summary>
    public static void CheckSameLayout(Parameters a, Parameters b)
    {
        if (a.Count != b.Count || a.Slices.Count != b.Slices.Count)
            throw new ArgumentException($"Parameter sets differ in layout: {a.Count} values in {a.Slices.Count} slices vs {b.Count} in {b.Slices.Count}.");
        for (int i = 0; i < a.Slices.Count; i++)
            if (a.Slices[i] != b.Slices[i])
                throw new ArgumentException($"Parameter sets differ in layout at slice {i}: {a.Slices[i]} vs {b.Slices[i]}.");
    }
}
