using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Proximal.Nn;

/// <summary>
/// One LSTM forward step for a block of B rows, product and cell fused: z = b + x_t·W_ihᵀ + h_{t−1}·W_hhᵀ is summed in
/// registers, four gate vectors (i, f, o, g of the same units) per row, and the cell (<see cref="LstmCell"/>'s formulas)
/// runs on them before they leave the registers. At B = 8, H = 32 a step is 32k multiply-adds and 1.3k exponentials:
/// separate product, cell and input-projection passes spent as much time on loads, stores and calls as on arithmetic.
/// <para>
/// <b>Layout.</b> <c>wT</c> is [(In + H) × 4H]: W_ihᵀ's In rows, then W_hhᵀ's H rows; row p holds the four gate blocks
/// (i, f, o, g) of input p, so the tile of units u..u+w reads four vectors at columns u, H+u, 2H+u, 3H+u of each row.
/// </para>
/// <para>
/// <b>Order.</b> Each pre-activation is summed the same way whatever the tile: start at b, one fused multiply-add per
/// input in order, then one per hidden unit in order. Tiles are 4 rows × 16 units (Vector512, AVX-512 tier) or
/// 2 rows × 8 units (Vector256: 8 accumulators, 4 weight loads, 2 broadcasts per input); leftover units go through the
/// same arithmetic one unit (lane) at a time. So a row's bits do not depend on the batch it sits in, on H mod 8, or on
/// the tier.
/// </para>
/// </summary>
internal static unsafe class LstmStep
{
    /// <summary>
    /// x [B × In] and hPrev, cPrev [B × H] in; gates [B × 4H] (activations i, f, o, g — what the backward reads),
    /// c, tanhC and h [B × H] out. <paramref name="wide"/>: Vector512 tiles (the caller passes the machine's tier;
    /// tests pass both).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimised code: no slow tier-0 phase in a hot loop
    public static void Forward(float* x, int inputSize, float* hPrev, float* cPrev, float* wT, float* bias,
        float* gates, float* c, float* tanhC, float* h, int batch, int hidden, bool wide)
    {
        int b = 0;
        if (wide)
            for (; b + 4 <= batch; b += 4) Rows<Four>(b, x, inputSize, hPrev, cPrev, wT, bias, gates, c, tanhC, h, hidden, wide: true);
        for (; b + 2 <= batch; b += 2) Rows<Two>(b, x, inputSize, hPrev, cPrev, wT, bias, gates, c, tanhC, h, hidden, wide);
        for (; b < batch; b++) Rows<One>(b, x, inputSize, hPrev, cPrev, wT, bias, gates, c, tanhC, h, hidden, wide);
    }

    // The row count of a tile as a type, so that each tile size is compiled as its own method with the count a
    // constant: the accumulators of absent rows and the branches on them vanish.
    private interface IRows { static abstract int Count { get; } }
    private struct One : IRows { public static int Count => 1; }
    private struct Two : IRows { public static int Count => 2; }
    private struct Four : IRows { public static int Count => 4; }

    /// <summary>Rows b..b+R−1: full unit tiles (Vector512 when wide, then Vector256 two rows at a time), then single units.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<R>(int b, float* x, int ni, float* hPrev, float* cPrev, float* wT, float* bias,
        float* gates, float* c, float* tanhC, float* h, int hidden, bool wide) where R : struct, IRows
    {
        int u = 0;
        if (wide)
            for (; u + 16 <= hidden; u += 16) Tile512<R>(b, u, x, ni, hPrev, cPrev, wT, bias, gates, c, tanhC, h, hidden);
        for (; u + 8 <= hidden; u += 8)
        {
            if (R.Count == 1) Tile256<One>(b, u, x, ni, hPrev, cPrev, wT, bias, gates, c, tanhC, h, hidden);
            else
                for (int r = 0; r < R.Count; r += 2) Tile256<Two>(b + r, u, x, ni, hPrev, cPrev, wT, bias, gates, c, tanhC, h, hidden);
        }
        for (; u < hidden; u++)
            for (int r = 0; r < R.Count; r++) Unit(b + r, u, x, ni, hPrev, cPrev, wT, bias, gates, c, tanhC, h, hidden);
    }

    /// <summary>Up to 4 rows × 16 units: 16 accumulators, 4 weight loads and up to 4 broadcasts per input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512<R>(int b, int u, float* x, int ni, float* hPrev, float* cPrev, float* wT, float* bias,
        float* gates, float* c, float* tanhC, float* h, int hidden) where R : struct, IRows
    {
        int g4 = 4 * hidden, rows = R.Count;
        var bi = Vector512.Load(bias + u); var bf = Vector512.Load(bias + hidden + u);
        var bo = Vector512.Load(bias + 2 * hidden + u); var bg = Vector512.Load(bias + 3 * hidden + u);
        Vector512<float> i0 = bi, f0 = bf, o0 = bo, g0 = bg, i1 = bi, f1 = bf, o1 = bo, g1 = bg;
        Vector512<float> i2 = bi, f2 = bf, o2 = bo, g2 = bg, i3 = bi, f3 = bf, o3 = bo, g3 = bg;
        for (int part = 0; part < 2; part++)
        {
            // inputs first (rows of W_ihᵀ), then the previous hidden state (rows of W_hhᵀ)
            int k = part == 0 ? ni : hidden;
            float* a = part == 0 ? x + (long)b * ni : hPrev + (long)b * hidden;
            float* w = wT + u + (part == 0 ? 0 : (long)ni * g4);
            for (int p = 0; p < k; p++, a++, w += g4)
            {
                var wi = Vector512.Load(w); var wf = Vector512.Load(w + hidden);
                var wo = Vector512.Load(w + 2 * hidden); var wg = Vector512.Load(w + 3 * hidden);
                var a0 = Vector512.Create(a[0]);
                i0 = Vector512.FusedMultiplyAdd(a0, wi, i0); f0 = Vector512.FusedMultiplyAdd(a0, wf, f0);
                o0 = Vector512.FusedMultiplyAdd(a0, wo, o0); g0 = Vector512.FusedMultiplyAdd(a0, wg, g0);
                if (rows > 1)
                {
                    var a1 = Vector512.Create(a[k]);
                    i1 = Vector512.FusedMultiplyAdd(a1, wi, i1); f1 = Vector512.FusedMultiplyAdd(a1, wf, f1);
                    o1 = Vector512.FusedMultiplyAdd(a1, wo, o1); g1 = Vector512.FusedMultiplyAdd(a1, wg, g1);
                }
                if (rows > 2)
                {
                    var a2 = Vector512.Create(a[2 * k]);
                    i2 = Vector512.FusedMultiplyAdd(a2, wi, i2); f2 = Vector512.FusedMultiplyAdd(a2, wf, f2);
                    o2 = Vector512.FusedMultiplyAdd(a2, wo, o2); g2 = Vector512.FusedMultiplyAdd(a2, wg, g2);
                }
                if (rows > 3)
                {
                    var a3 = Vector512.Create(a[3 * k]);
                    i3 = Vector512.FusedMultiplyAdd(a3, wi, i3); f3 = Vector512.FusedMultiplyAdd(a3, wf, f3);
                    o3 = Vector512.FusedMultiplyAdd(a3, wo, o3); g3 = Vector512.FusedMultiplyAdd(a3, wg, g3);
                }
            }
        }
        Cell512(b, u, i0, f0, o0, g0, cPrev, gates, c, tanhC, h, hidden);
        if (rows > 1) Cell512(b + 1, u, i1, f1, o1, g1, cPrev, gates, c, tanhC, h, hidden);
        if (rows > 2) Cell512(b + 2, u, i2, f2, o2, g2, cPrev, gates, c, tanhC, h, hidden);
        if (rows > 3) Cell512(b + 3, u, i3, f3, o3, g3, cPrev, gates, c, tanhC, h, hidden);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Cell512(int row, int u, Vector512<float> zi, Vector512<float> zf, Vector512<float> zo, Vector512<float> zg,
        float* cPrev, float* gates, float* c, float* tanhC, float* h, int hidden)
    {
        float* z = gates + (long)row * 4 * hidden + u;
        long o = (long)row * hidden + u;
        var i = LstmCell.Sigmoid(zi);
        var f = LstmCell.Sigmoid(zf);
        var og = LstmCell.Sigmoid(zo);
        var g = LstmCell.Tanh(zg);
        i.Store(z); f.Store(z + hidden); og.Store(z + 2 * hidden); g.Store(z + 3 * hidden);
        var cn = Vector512.FusedMultiplyAdd(i, g, f * Vector512.Load(cPrev + o));
        var tc = LstmCell.Tanh(cn);
        cn.Store(c + o);
        tc.Store(tanhC + o);
        (og * tc).Store(h + o);
    }

    /// <summary>Up to 2 rows × 8 units: 8 accumulators, 4 weight loads and up to 2 broadcasts per input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256<R>(int b, int u, float* x, int ni, float* hPrev, float* cPrev, float* wT, float* bias,
        float* gates, float* c, float* tanhC, float* h, int hidden) where R : struct, IRows
    {
        int g4 = 4 * hidden, rows = R.Count;
        var bi = Vector256.Load(bias + u); var bf = Vector256.Load(bias + hidden + u);
        var bo = Vector256.Load(bias + 2 * hidden + u); var bg = Vector256.Load(bias + 3 * hidden + u);
        Vector256<float> i0 = bi, f0 = bf, o0 = bo, g0 = bg, i1 = bi, f1 = bf, o1 = bo, g1 = bg;
        for (int part = 0; part < 2; part++)
        {
            int k = part == 0 ? ni : hidden;
            float* a = part == 0 ? x + (long)b * ni : hPrev + (long)b * hidden;
            float* w = wT + u + (part == 0 ? 0 : (long)ni * g4);
            for (int p = 0; p < k; p++, a++, w += g4)
            {
                var wi = Vector256.Load(w); var wf = Vector256.Load(w + hidden);
                var wo = Vector256.Load(w + 2 * hidden); var wg = Vector256.Load(w + 3 * hidden);
                var a0 = Vector256.Create(a[0]);
                i0 = Vector256.FusedMultiplyAdd(a0, wi, i0); f0 = Vector256.FusedMultiplyAdd(a0, wf, f0);
                o0 = Vector256.FusedMultiplyAdd(a0, wo, o0); g0 = Vector256.FusedMultiplyAdd(a0, wg, g0);
                if (rows > 1)
                {
                    var a1 = Vector256.Create(a[k]);
                    i1 = Vector256.FusedMultiplyAdd(a1, wi, i1); f1 = Vector256.FusedMultiplyAdd(a1, wf, f1);
                    o1 = Vector256.FusedMultiplyAdd(a1, wo, o1); g1 = Vector256.FusedMultiplyAdd(a1, wg, g1);
                }
            }
        }
        Cell256(b, u, i0, f0, o0, g0, cPrev, gates, c, tanhC, h, hidden);
        if (rows > 1) Cell256(b + 1, u, i1, f1, o1, g1, cPrev, gates, c, tanhC, h, hidden);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Cell256(int row, int u, Vector256<float> zi, Vector256<float> zf, Vector256<float> zo, Vector256<float> zg,
        float* cPrev, float* gates, float* c, float* tanhC, float* h, int hidden)
    {
        float* z = gates + (long)row * 4 * hidden + u;
        long o = (long)row * hidden + u;
        var i = LstmCell.Sigmoid(zi);
        var f = LstmCell.Sigmoid(zf);
        var og = LstmCell.Sigmoid(zo);
        var g = LstmCell.Tanh(zg);
        i.Store(z); f.Store(z + hidden); og.Store(z + 2 * hidden); g.Store(z + 3 * hidden);
        var cn = Vector256.FusedMultiplyAdd(i, g, f * Vector256.Load(cPrev + o));
        var tc = LstmCell.Tanh(cn);
        cn.Store(c + o);
        tc.Store(tanhC + o);
        (og * tc).Store(h + o);
    }

    /// <summary>One unit of one row (H mod 8 leftovers): the same sums in scalar FMAs, the cell on one lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Unit(int row, int u, float* x, int ni, float* hPrev, float* cPrev, float* wT, float* bias,
        float* gates, float* c, float* tanhC, float* h, int hidden)
    {
        int g4 = 4 * hidden;
        float zi = bias[u], zf = bias[hidden + u], zo = bias[2 * hidden + u], zg = bias[3 * hidden + u];
        for (int part = 0; part < 2; part++)
        {
            int k = part == 0 ? ni : hidden;
            float* a = part == 0 ? x + (long)row * ni : hPrev + (long)row * hidden;
            float* w = wT + u + (part == 0 ? 0 : (long)ni * g4);
            for (int p = 0; p < k; p++, w += g4)
            {
                float v = a[p];
                zi = MathF.FusedMultiplyAdd(v, w[0], zi);
                zf = MathF.FusedMultiplyAdd(v, w[hidden], zf);
                zo = MathF.FusedMultiplyAdd(v, w[2 * hidden], zo);
                zg = MathF.FusedMultiplyAdd(v, w[3 * hidden], zg);
            }
        }
        float* z = gates + (long)row * g4 + u;
        long o = (long)row * hidden + u;
        var i = LstmCell.Sigmoid(Vector256.Create(zi));
        var f = LstmCell.Sigmoid(Vector256.Create(zf));
        var og = LstmCell.Sigmoid(Vector256.Create(zo));
        var g = LstmCell.Tanh(Vector256.Create(zg));
        z[0] = i.ToScalar(); z[hidden] = f.ToScalar(); z[2 * hidden] = og.ToScalar(); z[3 * hidden] = g.ToScalar();
        var cn = Vector256.FusedMultiplyAdd(i, g, f * Vector256.Create(cPrev[o]));
        var tc = LstmCell.Tanh(cn);
        c[o] = cn.ToScalar();
        tanhC[o] = tc.ToScalar();
        h[o] = (og * tc).ToScalar();
    }
}
