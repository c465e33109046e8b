using System.Numerics;
using System.Runtime.CompilerServices;

namespace Proximal.Numerics;

/// <summary>
/// The one random generator of Proximal: xoshiro256** (Blackman and Vigna, 2018), seeded through
/// SplitMix64 so that any 64-bit seed (including 0) gives a well-mixed state.
/// Fast (a few shifts and rotations per draw), 2^256−1 period, and splittable: <see cref="Split"/>
/// derives an independent child stream from the parent's next output, so parallel workers get
/// reproducible streams that depend only on the seed and the order of splits.
/// The full state (including the cached spare Gaussian) round-trips through <see cref="GetState"/> /
/// <see cref="SetState"/> so a saved run resumes bit for bit.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareGaussian;
    private bool _hasSpare;

    public Rng(ulong seed) => Reseed(seed);

    /// <summary>Number of ulongs in <see cref="GetState"/>.</summary>
    public const int StateLength = 6;

    public void Reseed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
        _hasSpare = false;
        _spareGaussian = 0;
    }

    /// <summary>SplitMix64 step (Steele, Lea and Flood, 2014): used for seeding and splitting.</summary>
    public static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A child generator with its own stream; advances this generator by one draw.</summary>
    public Rng Split() => new(NextUInt64() ^ 0x6A09E667F3BCC909UL);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "NextInt needs n > 0.");
        ulong range = (ulong)n;
        ulong x = NextUInt64() >> 32;
        ulong m = x * range;
        uint low = (uint)m;
        if (low < range)
        {
            uint threshold = (uint)((0x1_0000_0000UL - range) % range);
            while (low < threshold)
            {
                x = NextUInt64() >> 32;
                m = x * range;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>Standard normal by the Marsaglia polar method; the second value is cached.</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareGaussian;
        }
        double u, v, s;
        do
        {
            u = 2.0 * NextDouble() - 1.0;
            v = 2.0 * NextDouble() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        double f = Math.Sqrt(-2.0 * Math.Log(s) / s);
        _spareGaussian = v * f;
        _hasSpare = true;
        return u * f;
    }

    /// <summary>Fisher–Yates shuffle of the span in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Writes the full state (6 ulongs) so that <see cref="SetState"/> resumes exactly.</summary>
    public void GetState(Span<ulong> state)
    {
        if (state.Length < StateLength) throw new ArgumentException($"Rng state needs {StateLength} ulongs, got {state.Length}.", nameof(state));
        state[0] = _s0; state[1] = _s1; state[2] = _s2; state[3] = _s3;
        state[4] = BitConverter.DoubleToUInt64Bits(_spareGaussian);
        state[5] = _hasSpare ? 1UL : 0UL;
    }

    public ulong[] GetState()
    {
        var s = new ulong[StateLength];
        GetState(s);
        return s;
    }

    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != StateLength) throw new ArgumentException($"Rng state needs {StateLength} ulongs, got {state.Length}.", nameof(state));
        if ((state[0] | state[1] | state[2] | state[3]) == 0) throw new ArgumentException("Rng state is all zeros, which xoshiro256** cannot leave; the saved state is corrupt.", nameof(state));
        if (state[5] > 1) throw new ArgumentException("Rng state flag is not 0 or 1; the saved state is corrupt.", nameof(state));
        _s0 = state[0]; _s1 = state[1]; _s2 = state[2]; _s3 = state[3];
        _spareGaussian = BitConverter.UInt64BitsToDouble(state[4]);
        _hasSpare = state[5] == 1;
    }
}
