using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Proximal.Nn;

/// <summary>
/// The element-wise part of one LSTM step for a block of B rows, fused: one pass over each row's gate block
/// (gate order i, f, o, g, each H wide, so the four gates of units k..k+7 are four aligned-stride loads), eight units
/// at a time. Before, the same work was six <c>TensorPrimitives</c> calls per row and step, each paying its own
/// dispatch and tail handling over 64–192 floats.
/// <para>σ(z) = 1/(1 + e^(−z)) and tanh(z) = sign(z)·(−m/(m + 2)) with m = e^(−2|z|) − 1 are the formulas
/// <c>TensorPrimitives.Sigmoid</c>/<c>Tanh</c> evaluate, here on a single-precision <see cref="Exp"/> (tested against
/// float64 to a few ulp). Leftover units (H mod 8) go through the same vector code one lane at a time, so every unit
/// gets the same bits whatever H is, and an 8-row step gives each row the bits it gets alone.</para>
/// <para>The Vector512 overloads are the same operations in the same order (the AVX-512 fused step,
/// <see cref="LstmStep"/>, applies them in its epilogue): every lane gets the bits the Vector256 versions give it.</para>
/// </summary>
internal static unsafe class LstmCell
{
    /// <summary>
    /// gates [B × 4H]: pre-activations in, activations (i, f, o, g) out — the backward pass reads them. cPrev [B × H] in;
    /// c = f⊙c_prev + i⊙g, tanhC = tanh(c) and h = o⊙tanh(c) [B × H] out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimised code: no slow tier-0 phase in a hot loop
    public static void Forward(Span<float> gates, ReadOnlySpan<float> cPrev, Span<float> c, Span<float> tanhC, Span<float> h, int batch, int hidden)
    {
        int g4 = 4 * hidden, bh = batch * hidden;
        if (gates.Length < batch * g4 || cPrev.Length < bh || c.Length < bh || tanhC.Length < bh || h.Length < bh)
            throw new ArgumentException($"LstmCell.Forward: buffers too short for {batch} rows of {hidden} units.");
        fixed (float* pg = gates)
        fixed (float* pcp = cPrev)
        fixed (float* pc = c)
        fixed (float* ptc = tanhC)
        fixed (float* ph = h)
        {
            for (int b = 0; b < batch; b++)
            {
                float* z = pg + (long)b * g4;
                long o = (long)b * hidden;
                int k = 0;
                for (; k + 8 <= hidden; k += 8)
                {
                    float* zi = z + k, zf = zi + hidden, zo = zf + hidden, zg = zo + hidden;
                    var i = Sigmoid(Vector256.Load(zi));
                    var f = Sigmoid(Vector256.Load(zf));
                    var og = Sigmoid(Vector256.Load(zo));
                    var g = Tanh(Vector256.Load(zg));
                    i.Store(zi); f.Store(zf); og.Store(zo); g.Store(zg);
                    var cn = Vector256.FusedMultiplyAdd(i, g, f * Vector256.Load(pcp + o + k));
                    var tc = Tanh(cn);
                    cn.Store(pc + o + k);
                    tc.Store(ptc + o + k);
                    (og * tc).Store(ph + o + k);
                }
                for (; k < hidden; k++)
                {
                    float* zi = z + k, zf = zi + hidden, zo = zf + hidden, zg = zo + hidden;
                    var i = Sigmoid(Vector256.Create(*zi));
                    var f = Sigmoid(Vector256.Create(*zf));
                    var og = Sigmoid(Vector256.Create(*zo));
                    var g = Tanh(Vector256.Create(*zg));
                    *zi = i.ToScalar(); *zf = f.ToScalar(); *zo = og.ToScalar(); *zg = g.ToScalar();
                    var cn = Vector256.FusedMultiplyAdd(i, g, f * Vector256.Create(pcp[o + k]));
                    var tc = Tanh(cn);
                    pc[o + k] = cn.ToScalar();
                    ptc[o + k] = tc.ToScalar();
                    ph[o + k] = (og * tc).ToScalar();
                }
            }
        }
    }

    /// <summary>
    /// One step back: from the activations (gates [B × 4H], tanhC, cPrev [B × H]) of the forward pass, ∂L/∂h_t from the
    /// output (dOut) and from step t+1 (dh), and ∂L/∂c_t from step t+1 (dc), writes ∂L/∂z_t (dz [B × 4H]) and the
    /// cell's part of ∂L/∂c_{t−1} (dcPrev [B × H]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimised code: no slow tier-0 phase in a hot loop
    public static void Backward(ReadOnlySpan<float> gates, ReadOnlySpan<float> tanhC, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> dOut,
        ReadOnlySpan<float> dh, ReadOnlySpan<float> dc, Span<float> dz, Span<float> dcPrev, int batch, int hidden)
    {
        int g4 = 4 * hidden, bh = batch * hidden;
        if (gates.Length < batch * g4 || dz.Length < batch * g4 || tanhC.Length < bh || cPrev.Length < bh || dOut.Length < bh
            || dh.Length < bh || dc.Length < bh || dcPrev.Length < bh)
            throw new ArgumentException($"LstmCell.Backward: buffers too short for {batch} rows of {hidden} units.");
        fixed (float* pg = gates)
        fixed (float* ptc = tanhC)
        fixed (float* pcp = cPrev)
        fixed (float* pdo = dOut)
        fixed (float* pdh = dh)
        fixed (float* pdc = dc)
        fixed (float* pdz = dz)
        fixed (float* pdcp = dcPrev)
        {
            var one = Vector256<float>.One;
            for (int b = 0; b < batch; b++)
            {
                float* z = pg + (long)b * g4, d = pdz + (long)b * g4;
                long o = (long)b * hidden;
                int k = 0;
                for (; k + 8 <= hidden; k += 8)
                {
                    var i = Vector256.Load(z + k);
                    var f = Vector256.Load(z + hidden + k);
                    var og = Vector256.Load(z + 2 * hidden + k);
                    var g = Vector256.Load(z + 3 * hidden + k);
                    var tc = Vector256.Load(ptc + o + k);
                    var dhk = Vector256.Load(pdo + o + k) + Vector256.Load(pdh + o + k);
                    var dck = Vector256.Load(pdc + o + k) + dhk * og * (one - tc * tc);
                    (dck * g * i * (one - i)).Store(d + k);
                    (dck * Vector256.Load(pcp + o + k) * f * (one - f)).Store(d + hidden + k);
                    (dhk * tc * og * (one - og)).Store(d + 2 * hidden + k);
                    (dck * i * (one - g * g)).Store(d + 3 * hidden + k);
                    (dck * f).Store(pdcp + o + k);
                }
                for (; k < hidden; k++)
                {
                    float i = z[k], f = z[hidden + k], og = z[2 * hidden + k], g = z[3 * hidden + k], tc = ptc[o + k];
                    float dhk = pdo[o + k] + pdh[o + k];
                    float dck = pdc[o + k] + dhk * og * (1f - tc * tc);
                    d[k] = dck * g * i * (1f - i);
                    d[hidden + k] = dck * pcp[o + k] * f * (1f - f);
                    d[2 * hidden + k] = dhk * tc * og * (1f - og);
                    d[3 * hidden + k] = dck * i * (1f - g * g);
                    pdcp[o + k] = dck * f;
                }
            }
        }
    }

    // The same three functions on Vector512 (the fused step's AVX-512 tiles): the same operations in the same order, so
    // every lane gets the bits the Vector256 versions give it.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Sigmoid(Vector512<float> z) => Vector512<float>.One / (Vector512<float>.One + Exp(-z));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Tanh(Vector512<float> z)
    {
        var m = Exp(Vector512.Create(-2f) * Vector512.Abs(z), nonPositive: true) - Vector512<float>.One;
        var sign = z.AsUInt32() & Vector512.Create(0x8000_0000u);
        return (sign ^ (-m / (m + Vector512.Create(2f))).AsUInt32()).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x) => Exp(x, nonPositive: false);

    /// <summary><paramref name="nonPositive"/>: x ≤ 0 (or NaN) is known, so the upper clamp, a no-op there, is skipped (tanh's e^(−2|z|)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> x, bool nonPositive)
    {
        var hi = Vector512.Create(88.37f);
        var lo = Vector512.Create(-87.33f);
        if (!nonPositive) x = Vector512.ConditionalSelect(Vector512.GreaterThan(x, hi), hi, x);
        x = Vector512.ConditionalSelect(Vector512.LessThan(x, lo), lo, x);
        var n = Vector512.Round(x * Vector512.Create(1.44269504088896341f));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var scale = ((Vector512.ConvertToInt32Native(n) + Vector512.Create(127)) << 23).AsSingle();
        return p * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Sigmoid(Vector256<float> z) => Vector256<float>.One / (Vector256<float>.One + Exp(-z));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Tanh(Vector256<float> z)
    {
        var m = Exp(Vector256.Create(-2f) * Vector256.Abs(z), nonPositive: true) - Vector256<float>.One;
        var sign = z.AsUInt32() & Vector256.Create(0x8000_0000u);
        return (sign ^ (-m / (m + Vector256.Create(2f))).AsUInt32()).AsSingle();
    }

    /// <summary>
    /// e^x in single precision (Cephes' expf: x = n·ln 2 + r with |r| ≤ ½ ln 2, ln 2 split in two so r is exact, a
    /// degree-7 polynomial for e^r, 2^n from the exponent bits; about 1 ulp). x is clamped to [−87.33, 88.37] so that
    /// n stays in the normal range: e^x saturates at ≈ 2.4e38 above and ≈ 1.2e−38 below, which σ and tanh cannot
    /// tell from ∞ and 0. NaN stays NaN. It replaces <see cref="Vector256.Exp(Vector256{float})"/>, which evaluates
    /// in double precision and was most of the cell's time (five exponentials per unit and step).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x) => Exp(x, nonPositive: false);

    /// <summary><paramref name="nonPositive"/>: x ≤ 0 (or NaN) is known, so the upper clamp, a no-op there, is skipped (tanh's e^(−2|z|)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> x, bool nonPositive)
    {
        var hi = Vector256.Create(88.37f);
        var lo = Vector256.Create(-87.33f);
        if (!nonPositive) x = Vector256.ConditionalSelect(Vector256.GreaterThan(x, hi), hi, x);
        x = Vector256.ConditionalSelect(Vector256.LessThan(x, lo), lo, x);
        var n = Vector256.Round(x * Vector256.Create(1.44269504088896341f));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var scale = ((Vector256.ConvertToInt32Native(n) + Vector256.Create(127)) << 23).AsSingle();
        return p * scale;
    }
}
