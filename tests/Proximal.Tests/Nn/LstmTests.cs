using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public class LstmTests
{
    /// <summary>
    /// Independent float64 LSTM written from the equations (gate order i, f, o, g; zero state at an episode start).
    /// theta is the flat parameter vector; h0 and c0 are [B × H]. Returns h of every step [T × B × H].
    /// </summary>
    private static double[] RefForward(Lstm lstm, double[] theta, double[] x, double[] h0, double[] c0, bool[]? starts, int steps, int batch)
        => RefForward(lstm.WeightIh.Offset, lstm.WeightHh.Offset, lstm.Bias.Offset, lstm.InputSize, lstm.HiddenSize, theta, x, h0, c0, starts, steps, batch);

    /// <summary>The same reference with the parameter offsets given (W_ih, W_hh, b in <paramref name="theta"/>).</summary>
    internal static double[] RefForward(int wih, int whh, int bias, int nin, int nh, double[] theta, double[] x, double[] h0, double[] c0, bool[]? starts, int steps, int batch)
    {
        double W(int gate, int unit, int k) => theta[wih + (gate * nh + unit) * nin + k];
        double U(int gate, int unit, int k) => theta[whh + (gate * nh + unit) * nh + k];
        double Bi(int gate, int unit) => theta[bias + gate * nh + unit];
        static double Sig(double z) => 1 / (1 + Math.Exp(-z));
        var y = new double[steps * batch * nh];
        var h = (double[])h0.Clone();
        var c = (double[])c0.Clone();
        for (int t = 0; t < steps; t++)
        {
            var hn = new double[batch * nh];
            var cn = new double[batch * nh];
            for (int b = 0; b < batch; b++)
            {
                bool reset = starts is not null && starts[t * batch + b];
                for (int u = 0; u < nh; u++)
                {
                    var z = new double[4];
                    for (int gate = 0; gate < 4; gate++)
                    {
                        double s = Bi(gate, u);
                        for (int k = 0; k < nin; k++) s += W(gate, u, k) * x[(t * batch + b) * nin + k];
                        if (!reset) for (int k = 0; k < nh; k++) s += U(gate, u, k) * h[b * nh + k];
                        z[gate] = s;
                    }
                    double i = Sig(z[0]), f = Sig(z[1]), o = Sig(z[2]), g = Math.Tanh(z[3]);
                    double cPrev = reset ? 0 : c[b * nh + u];
                    cn[b * nh + u] = f * cPrev + i * g;
                    hn[b * nh + u] = o * Math.Tanh(cn[b * nh + u]);
                }
            }
            h = hn; c = cn;
            Array.Copy(h, 0, y, t * batch * nh, batch * nh);
        }
        return y;
    }

    private static (Lstm Lstm, Parameters P) Build(int nin, int nh, int seed, bool randomBias = true)
    {
        var p = new Parameters();
        var lstm = new Lstm(p, nin, nh, "l");
        var rng = new Rng((ulong)seed);
        lstm.InitializeOrthogonal(rng);
        if (randomBias) for (int i = lstm.Bias.Offset; i < lstm.Bias.Offset + lstm.Bias.Length; i++) p.Values[i] = (float)(0.5 * rng.NextGaussian());
        return (lstm, p);
    }

    [Fact]
    public void ForwardMatchesFloat64ReferenceWithResetsAndInitialState()
    {
        const int nin = 3, nh = 5, steps = 6, batch = 3;
        var (lstm, p) = Build(nin, nh, 1);
        var rng = new Rng(11);
        var x = Reference.RandomFloats(rng, steps * batch * nin);
        var h0 = Reference.RandomFloats(rng, batch * nh, 0.5);
        var c0 = Reference.RandomFloats(rng, batch * nh, 0.5);
        var starts = new bool[steps * batch];
        starts[0 * batch + 2] = true; // sequence 2 ignores the initial state
        starts[3 * batch + 1] = true; // sequence 1 resets in the middle
        var y = lstm.Forward(x, steps, batch, starts, h0, c0).ToArray();
        var expected = RefForward(lstm, Reference.ToDouble(p.Values), Reference.ToDouble(x), Reference.ToDouble(h0), Reference.ToDouble(c0), starts, steps, batch);
        Reference.Close(expected, y, 1e-5, 1e-4, "h");
        Reference.Close(expected.AsSpan((steps - 1) * batch * nh).ToArray(), lstm.FinalHidden, 1e-5, 1e-4, "h_T");
    }

    [Fact]
    public void ResetMakesTheInitialStateIrrelevantAndStepEqualsSequence()
    {
        const int nin = 2, nh = 4, steps = 5, batch = 2;
        var (lstm, _) = Build(nin, nh, 2);
        var rng = new Rng(12);
        var x = Reference.RandomFloats(rng, steps * batch * nin);
        var starts = new bool[steps * batch];
        starts[0] = starts[1] = true;
        var withZero = lstm.Forward(x, steps, batch, starts).ToArray();
        var withState = lstm.Forward(x, steps, batch, starts, Reference.RandomFloats(rng, batch * nh), Reference.RandomFloats(rng, batch * nh)).ToArray();
        Assert.Equal(withZero, withState); // bit for bit: the state is zeroed, never mixed in

        // Step-by-step with a caller-owned state gives the same bits as the whole sequence.
        starts[2 * batch + 1] = true;
        var whole = lstm.Forward(x, steps, batch, starts).ToArray();
        var state = new LstmState(batch, nh);
        for (int t = 0; t < steps; t++)
        {
            var h = lstm.Step(x.AsSpan(t * batch * nin, batch * nin), state, starts.AsSpan(t * batch, batch)).ToArray();
            Assert.Equal(whole.AsSpan(t * batch * nh, batch * nh).ToArray(), h);
        }
    }

    [Fact]
    public void GradientsMatchFiniteDifferencesOfTheFloat64Reference()
    {
        const int nin = 3, nh = 4, steps = 5, batch = 3;
        var (lstm, p) = Build(nin, nh, 3);
        var rng = new Rng(13);
        var x = Reference.RandomFloats(rng, steps * batch * nin);
        var h0 = Reference.RandomFloats(rng, batch * nh, 0.5);
        var c0 = Reference.RandomFloats(rng, batch * nh, 0.5);
        var cost = Reference.RandomFloats(rng, steps * batch * nh);
        var starts = new bool[steps * batch];
        starts[0 * batch + 2] = true; // no gradient may reach h0/c0 of sequence 2
        starts[2 * batch + 0] = true; // nor cross this reset

        lstm.Forward(x, steps, batch, starts, h0, c0);
        p.ZeroGradients();
        var dx = lstm.Backward(cost).ToArray();
        var dh0 = lstm.InitialHiddenGradient.ToArray();
        var dc0 = lstm.InitialCellGradient.ToArray();

        // Finite differences over one packed vector [θ | h0 | c0] and over x.
        int np = p.Count, ns = batch * nh;
        var packed = Reference.ToDouble(p.Values).Concat(Reference.ToDouble(h0)).Concat(Reference.ToDouble(c0)).ToArray();
        double[] F(double[] v, double[] xx) =>
            RefForward(lstm, v[..np], xx, v[np..(np + ns)], v[(np + ns)..], starts, steps, batch);
        var (dPacked, dX) = Reference.Gradients(F, packed, Reference.ToDouble(x), Reference.ToDouble(cost));
        Reference.Close(dPacked[..np], p.Gradients, 1e-4, 1e-3, "dθ");
        Reference.Close(dPacked[np..(np + ns)], dh0, 1e-4, 1e-3, "dh0");
        Reference.Close(dPacked[(np + ns)..], dc0, 1e-4, 1e-3, "dc0");
        Reference.Close(dX, dx, 1e-4, 1e-3, "dx");
        for (int k = 0; k < nh; k++) { Assert.Equal(0f, dh0[2 * nh + k]); Assert.Equal(0f, dc0[2 * nh + k]); }
        Assert.Contains(dh0, v => v != 0);
    }

    /// <summary>
    /// The fused cell runs eight units at a time and the leftover units one lane at a time; 9 units take both paths,
    /// 16 only the vector one (the tests above, at 4 and 5 units, only the leftover one). Forward and every gradient
    /// against the float64 reference, with a reset and an initial state.
    /// </summary>
    [Theory]
    [InlineData(9)]
    [InlineData(16)]
    public void ForwardAndGradientsMatchTheFloat64ReferenceOnTheVectorPath(int nh)
    {
        const int nin = 3, steps = 4, batch = 5;
        var (lstm, p) = Build(nin, nh, 6);
        var rng = new Rng(16);
        var x = Reference.RandomFloats(rng, steps * batch * nin);
        var h0 = Reference.RandomFloats(rng, batch * nh, 0.5);
        var c0 = Reference.RandomFloats(rng, batch * nh, 0.5);
        var cost = Reference.RandomFloats(rng, steps * batch * nh);
        var starts = new bool[steps * batch];
        starts[0 * batch + 1] = true;
        starts[2 * batch + 4] = true;

        var y = lstm.Forward(x, steps, batch, starts, h0, c0).ToArray();
        var expected = RefForward(lstm, Reference.ToDouble(p.Values), Reference.ToDouble(x), Reference.ToDouble(h0), Reference.ToDouble(c0), starts, steps, batch);
        Reference.Close(expected, y, 1e-5, 1e-4, "h");
        p.ZeroGradients();
        var dx = lstm.Backward(cost).ToArray();
        var dh0 = lstm.InitialHiddenGradient.ToArray();
        var dc0 = lstm.InitialCellGradient.ToArray();

        int np = p.Count, ns = batch * nh;
        var packed = Reference.ToDouble(p.Values).Concat(Reference.ToDouble(h0)).Concat(Reference.ToDouble(c0)).ToArray();
        double[] F(double[] v, double[] xx) =>
            RefForward(lstm, v[..np], xx, v[np..(np + ns)], v[(np + ns)..], starts, steps, batch);
        var (dPacked, dX) = Reference.Gradients(F, packed, Reference.ToDouble(x), Reference.ToDouble(cost));
        Reference.Close(dPacked[..np], p.Gradients, 1e-4, 1e-3, "dθ");
        Reference.Close(dPacked[np..(np + ns)], dh0, 1e-4, 1e-3, "dh0");
        Reference.Close(dPacked[(np + ns)..], dc0, 1e-4, 1e-3, "dc0");
        Reference.Close(dX, dx, 1e-4, 1e-3, "dx");
    }

    /// <summary>
    /// The forward pass keeps a transposed copy of W_hh and rebuilds it only when W_hh's bits change: after an
    /// in-place change of the weights (what an optimiser step does) the output must follow the new weights.
    /// </summary>
    [Fact]
    public void ChangingTheRecurrentWeightsInPlaceChangesTheNextForwardPass()
    {
        const int nin = 2, nh = 8, steps = 3, batch = 2;
        var (lstm, p) = Build(nin, nh, 7);
        var rng = new Rng(17);
        var x = Reference.RandomFloats(rng, steps * batch * nin);
        lstm.Forward(x, steps, batch);
        for (int i = lstm.WeightHh.Offset; i < lstm.WeightHh.Offset + lstm.WeightHh.Length; i += 7) p.Values[i] += 0.25f;
        var y = lstm.Forward(x, steps, batch).ToArray();
        var expected = RefForward(lstm, Reference.ToDouble(p.Values), Reference.ToDouble(x), new double[batch * nh], new double[batch * nh], null, steps, batch);
        Reference.Close(expected, y, 1e-5, 1e-4, "h after the weight change");
    }

    /// <summary>
    /// The cached [W_ih | W_hh]ᵀ must also follow an in-place change of the input weights (the fused step reads the
    /// input projection from the same copy).
    /// </summary>
    [Fact]
    public void ChangingTheInputWeightsInPlaceChangesTheNextForwardPass()
    {
        const int nin = 2, nh = 8, steps = 3, batch = 2;
        var (lstm, p) = Build(nin, nh, 8);
        var rng = new Rng(18);
        var x = Reference.RandomFloats(rng, steps * batch * nin);
        lstm.Forward(x, steps, batch);
        for (int i = lstm.WeightIh.Offset; i < lstm.WeightIh.Offset + lstm.WeightIh.Length; i += 5) p.Values[i] -= 0.3f;
        var y = lstm.Forward(x, steps, batch).ToArray();
        var expected = RefForward(lstm, Reference.ToDouble(p.Values), Reference.ToDouble(x), new double[batch * nh], new double[batch * nh], null, steps, batch);
        Reference.Close(expected, y, 1e-5, 1e-4, "h after the input weight change");
    }

    /// <summary>
    /// The step kernel comes in two forms (fused product + cell; product then cell pass) and two tiers (Vector512,
    /// Vector256 tiles), picked by the machine. All four must give the same bits — outputs, final state and every
    /// gradient — for unit counts that take the 16-wide, 8-wide and single-unit paths and a batch that leaves row tails
    /// (5 rows: a 4-row tile + 1, two 2-row tiles + 1). On a machine without AVX-512 the Vector512 code runs in software:
    /// slower, same bits.
    /// </summary>
    [Theory]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(40)]
    public void FusedAndSplitStepsOnBothTiersGiveTheSameBits(int nh)
    {
        const int nin = 3, steps = 5, batch = 5;
        var rng = new Rng(19);
        var x = Reference.RandomFloats(rng, steps * batch * nin);
        var h0 = Reference.RandomFloats(rng, batch * nh, 0.5);
        var c0 = Reference.RandomFloats(rng, batch * nh, 0.5);
        var cost = Reference.RandomFloats(rng, steps * batch * nh);
        var starts = new bool[steps * batch];
        starts[1 * batch + 2] = true;
        starts[3 * batch + 4] = true;
        (float[] Y, float[] Hn, float[] Cn, float[] Grad, float[] Dx, float[] Dh0, float[] Dc0) Run(bool fused, bool wide)
        {
            var (lstm, p) = Build(nin, nh, 9);
            lstm.FusedStep = fused;
            lstm.Wide = wide;
            var y = lstm.Forward(x, steps, batch, starts, h0, c0).ToArray();
            p.ZeroGradients();
            var dx = lstm.Backward(cost).ToArray();
            return (y, lstm.FinalHidden.ToArray(), lstm.FinalCell.ToArray(), (float[])p.Gradients.Clone(), dx,
                lstm.InitialHiddenGradient.ToArray(), lstm.InitialCellGradient.ToArray());
        }
        var reference = Run(fused: false, wide: false);
        var expected = RefForward(Build(nin, nh, 9).Lstm, Reference.ToDouble(Build(nin, nh, 9).P.Values), Reference.ToDouble(x),
            Reference.ToDouble(h0), Reference.ToDouble(c0), starts, steps, batch);
        Reference.Close(expected, reference.Y, 1e-5, 1e-4, "h"); // and the shared result is right
        foreach (var (fused, wide) in new[] { (true, true), (true, false), (false, true) })
        {
            var other = Run(fused, wide);
            string what = $"fused {fused}, wide {wide} vs product + cell pass, Vector256";
            Assert.True(reference.Y.AsSpan().SequenceEqual(other.Y), $"h: {what}");
            Assert.True(reference.Hn.AsSpan().SequenceEqual(other.Hn), $"h_T: {what}");
            Assert.True(reference.Cn.AsSpan().SequenceEqual(other.Cn), $"c_T: {what}");
            Assert.True(reference.Grad.AsSpan().SequenceEqual(other.Grad), $"dθ: {what}");
            Assert.True(reference.Dx.AsSpan().SequenceEqual(other.Dx), $"dx: {what}");
            Assert.True(reference.Dh0.AsSpan().SequenceEqual(other.Dh0), $"dh0: {what}");
            Assert.True(reference.Dc0.AsSpan().SequenceEqual(other.Dc0), $"dc0: {what}");
        }
    }

    [Fact]
    public void InitialisationIsOrthogonalPerGateWithForgetBiasOne()
    {
        const int nin = 3, nh = 4;
        var (lstm, p) = Build(nin, nh, 4, randomBias: false);
        var b = p.ValuesOf(lstm.Bias).ToArray();
        for (int k = 0; k < 4 * nh; k++) Assert.Equal(k is >= nh and < 2 * nh ? 1f : 0f, b[k]);
        var whh = p.ValuesOf(lstm.WeightHh).ToArray();
        for (int g = 0; g < 4; g++) // each square recurrent block: UᵀU = I
            for (int i = 0; i < nh; i++)
                for (int j = 0; j < nh; j++)
                {
                    double s = 0;
                    for (int r = 0; r < nh; r++) s += whh[g * nh * nh + r * nh + i] * whh[g * nh * nh + r * nh + j];
                    Assert.Equal(i == j ? 1.0 : 0.0, s, 1e-5);
                }
    }

    [Fact]
    public void SteadyStateForwardAndBackwardAllocateNothing()
    {
        const int nin = 4, nh = 16, steps = 8, batch = 4;
        var (lstm, p) = Build(nin, nh, 5);
        var rng = new Rng(14);
        var x = Reference.RandomFloats(rng, steps * batch * nin);
        var g = Reference.RandomFloats(rng, steps * batch * nh);
        var starts = new bool[steps * batch];
        starts[5] = true;
        var state = new LstmState(batch, nh);
        void Run()
        {
            lstm.Forward(x, steps, batch, starts, state.Hidden, state.Cell);
            lstm.Backward(g);
            lstm.Step(x.AsSpan(0, batch * nin), state, starts.AsSpan(0, batch));
        }
        for (int i = 0; i < 3; i++) Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
