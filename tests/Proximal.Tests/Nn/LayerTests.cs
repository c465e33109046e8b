using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public class LayerTests
{
    private static void RandomiseParameters(Parameters p, Rng rng, double scale = 0.5)
    {
        for (int i = 0; i < p.Count; i++) p.Values[i] = (float)(scale * rng.NextGaussian());
    }

    [Fact]
    public void LinearForwardMatchesReference()
    {
        var rng = new Rng(1);
        var p = new Parameters();
        var lin = new Linear(p, 5, 4, "l");
        RandomiseParameters(p, rng);
        var x = Reference.RandomFloats(rng, 3 * 5);
        var y = lin.Forward(x, 3);
        Reference.Close(Reference.Linear(lin, Reference.ToDouble(p.Values), Reference.ToDouble(x), 3), y, 1e-5, 1e-5, "y");
    }

    [Fact]
    public void LinearGradientsMatchFiniteDifferences()
    {
        var rng = new Rng(2);
        var p = new Parameters();
        var lin = new Linear(p, 5, 4, "l");
        RandomiseParameters(p, rng);
        const int batch = 3;
        var x = Reference.RandomFloats(rng, batch * 5);
        var c = Reference.RandomFloats(rng, batch * 4);
        lin.Forward(x, batch);
        p.ZeroGradients();
        var dx = lin.Backward(c).ToArray();
        var (dTheta, dX) = Reference.Gradients((t, xx) => Reference.Linear(lin, t, xx, batch),
            Reference.ToDouble(p.Values), Reference.ToDouble(x), Reference.ToDouble(c));
        Reference.Close(dTheta, p.Gradients, what: "dθ");
        Reference.Close(dX, dx, what: "dx");
        // K-FAC inputs: the layer keeps its input and the gradient w.r.t. its output.
        Assert.Equal(x, lin.LastInput.ToArray());
        Assert.Equal(c, lin.LastOutputGradient.ToArray());
    }

    /// <summary>Board-like input: about <paramref name="density"/> of the entries 1, the rest 0.</summary>
    private static float[] SparseOnes(Rng rng, int n, double density)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.NextDouble() < density ? 1f : 0f;
        return x;
    }

    [Fact]
    public void LinearWithAMostlyZeroInputTakesTheSparsePathWithTheDenseBitsAndTheReferenceGradients()
    {
        var rng = new Rng(21);
        var p = new Parameters();
        var lin = new Linear(p, 30, 40, "l");
        RandomiseParameters(p, rng);
        const int batch = 20; // at least MinSparseBatch
        var x = SparseOnes(rng, batch * 30, 0.1);
        var c = Reference.RandomFloats(rng, batch * 40);

        p.ZeroGradients();
        var y = lin.Forward(x, batch).ToArray();
        Assert.True(lin.LastForwardWasSparse);
        var dx = lin.Backward(c).ToArray();
        var grads = p.Gradients.ToArray();

        // float64 reference and finite differences
        Reference.Close(Reference.Linear(lin, Reference.ToDouble(p.Values), Reference.ToDouble(x), batch), y, 1e-5, 1e-5, "y");
        var (dTheta, dX) = Reference.Gradients((t, xx) => Reference.Linear(lin, t, xx, batch),
            Reference.ToDouble(p.Values), Reference.ToDouble(x), Reference.ToDouble(c));
        Reference.Close(dTheta, grads, what: "dθ");
        Reference.Close(dX, dx, what: "dx");

        // the dense path on the same layer: the same bits
        lin.SparseInputs = false;
        p.ZeroGradients();
        Assert.Equal(y, lin.Forward(x, batch).ToArray());
        Assert.False(lin.LastForwardWasSparse);
        Assert.Equal(dx, lin.Backward(c).ToArray());
        Assert.Equal(grads, p.Gradients.ToArray());
        lin.SparseInputs = true;

        // too few rows, or too many nonzeros: dense
        lin.Forward(x.AsSpan(0, 15 * 30), 15);
        Assert.False(lin.LastForwardWasSparse);
        lin.Forward(SparseOnes(rng, batch * 30, 0.5), batch);
        Assert.False(lin.LastForwardWasSparse);
        lin.Forward(x, batch);
        Assert.True(lin.LastForwardWasSparse);

        // The transposed weights the sparse path keeps between forwards follow every change of W.
        foreach (int changed in new[] { 0, 5 * 30 + 7, lin.Weight.Length - 1 })
        {
            x[changed % 30] = 1f; // row 0 reads the changed weight's column
            var beforeY = lin.Forward(x, batch).ToArray();
            p.Values[lin.Weight.Offset + changed] += 0.5f;
            var sparseY = lin.Forward(x, batch).ToArray();
            Assert.True(lin.LastForwardWasSparse);
            Assert.NotEqual(beforeY[changed / 30], sparseY[changed / 30]);
            lin.SparseInputs = false;
            Assert.Equal(lin.Forward(x, batch).ToArray(), sparseY);
            lin.SparseInputs = true;
        }
    }

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    public void ActivationGradientAndJvpMatchFiniteDifferences(Activation a)
    {
        var rng = new Rng(3);
        const int batch = 4, size = 37; // 37 exercises both the vector body and the scalar tail
        ActivationLayer layer = a == Activation.Tanh ? new Tanh(size) : new Relu(size);
        var x = Reference.RandomFloats(rng, batch * size);
        var c = Reference.RandomFloats(rng, batch * size);
        var y = layer.Forward(x, batch);
        Reference.Close(Reference.Act(a, Reference.ToDouble(x)), y, 1e-6, 1e-6, "y");
        var dx = layer.Backward(c);
        var (_, dX) = Reference.Gradients((t, xx) => Reference.Act(a, xx), [], Reference.ToDouble(x), Reference.ToDouble(c));
        Reference.Close(dX, dx, what: "dx");

        var tx = Reference.RandomFloats(rng, batch * size);
        var jvp = layer.Jvp(default, tx);
        var fd = Reference.DirectionalDerivative((t, xx) => Reference.Act(a, xx), [], Reference.ToDouble(x), [], Reference.ToDouble(tx));
        Reference.Close(fd, jvp, what: "jvp");
        Assert.All(layer.Jvp(default).ToArray(), v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(Activation.Tanh, false)]
    [InlineData(Activation.Relu, false)]
    [InlineData(Activation.Tanh, true)]
    public void MlpGradientsMatchFiniteDifferences(Activation a, bool withGains)
    {
        var rng = new Rng(4);
        var p = new Parameters();
        var mlp = new Mlp(p, [5, 7, 6, 3], a, rng, withGains ? Mlp.DefaultHiddenGain : 1.0, withGains ? 0.01 : 1.0);
        if (!withGains) RandomiseParameters(p, rng); // non-zero biases too
        const int batch = 4;
        var x = Reference.RandomFloats(rng, batch * 5);
        var c = Reference.RandomFloats(rng, batch * 3);
        var y = mlp.Forward(x, batch);
        Reference.Close(Reference.Mlp(mlp, Reference.ToDouble(p.Values), Reference.ToDouble(x), batch), y, 1e-5, 1e-4, "y");
        p.ZeroGradients();
        var dx = mlp.Backward(c).ToArray();
        var (dTheta, dX) = Reference.Gradients((t, xx) => Reference.Mlp(mlp, t, xx, batch),
            Reference.ToDouble(p.Values), Reference.ToDouble(x), Reference.ToDouble(c));
        Reference.Close(dTheta, p.Gradients, what: "dθ");
        Reference.Close(dX, dx, what: "dx");
    }

    [Fact]
    public void BackwardAccumulatesAndSkippingInputGradientKeepsParameterGradients()
    {
        var rng = new Rng(5);
        var p = new Parameters();
        var mlp = new Mlp(p, [3, 8, 2], Activation.Tanh, rng);
        var x = Reference.RandomFloats(rng, 6 * 3);
        var c = Reference.RandomFloats(rng, 6 * 2);
        mlp.Forward(x, 6);
        p.ZeroGradients();
        Assert.Equal(6 * 3, mlp.Backward(c).Length);
        var once = p.Gradients.ToArray();
        Assert.Contains(once, g => g != 0);
        Assert.True(mlp.Backward(c, computeInputGradient: false).IsEmpty);
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], p.Gradients[i], 1e-6f * (1 + Math.Abs(once[i])));
        p.ZeroGradients();
        Assert.All(p.Gradients, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void BackwardWithoutParameterGradientsFormsTheSameLayerGradientsAndLeavesTheParameterGradientsAlone()
    {
        var rng = new Rng(7);
        var p = new Parameters();
        var mlp = new Mlp(p, [4, 6, 5, 3], Activation.Tanh, rng);
        var x = Reference.RandomFloats(rng, 5 * 4);
        var c = Reference.RandomFloats(rng, 5 * 3);
        mlp.Forward(x, 5);
        p.ZeroGradients();
        var dxFull = mlp.Backward(c).ToArray();
        var outputGradients = mlp.Linears.Select(l => l.LastOutputGradient.ToArray()).ToArray();
        Assert.Contains(p.Gradients, g => g != 0);

        p.ZeroGradients();
        p.Gradients[3] = 0.5f; // whatever is there stays there
        var dx = mlp.Backward(c, computeInputGradient: true, parameterGradients: false).ToArray();
        Assert.Equal(dxFull, dx); // the same products in the same order: the same bits
        for (int i = 0; i < mlp.Linears.Count; i++) Assert.Equal(outputGradients[i], mlp.Linears[i].LastOutputGradient.ToArray());
        for (int i = 0; i < p.Count; i++) Assert.Equal(i == 3 ? 0.5f : 0f, p.Gradients[i]);
    }

    [Fact]
    public void MlpExposesKfacStatisticsOfEveryLinear()
    {
        var rng = new Rng(6);
        var p = new Parameters();
        var mlp = new Mlp(p, [4, 6, 5, 3], Activation.Tanh, rng);
        const int batch = 5;
        var x = Reference.RandomFloats(rng, batch * 4);
        var c = Reference.RandomFloats(rng, batch * 3);
        mlp.Forward(x, batch);
        p.ZeroGradients();
        mlp.Backward(c, computeInputGradient: false);
        Assert.Equal(x, mlp.Linears[0].LastInput.ToArray());
        Assert.Equal(c, mlp.Linears[2].LastOutputGradient.ToArray());
        // For every layer, ∂L/∂W must equal gᵀ·x built from the exposed statistics.
        foreach (var lin in mlp.Linears)
        {
            var xs = lin.LastInput; var gs = lin.LastOutputGradient;
            Assert.Equal(batch * lin.InputSize, xs.Length);
            Assert.Equal(batch * lin.OutputSize, gs.Length);
            var gw = p.GradientsOf(lin.Weight);
            for (int o = 0; o < lin.OutputSize; o++)
            for (int k = 0; k < lin.InputSize; k++)
            {
                double s = 0;
                for (int b = 0; b < batch; b++) s += (double)gs[b * lin.OutputSize + o] * xs[b * lin.InputSize + k];
                Assert.Equal(s, gw[o * lin.InputSize + k], 1e-5);
            }
        }
        mlp.Forward(x, batch);
        Assert.True(mlp.Linears[0].LastOutputGradient.IsEmpty); // stale gradient is not exposed after a new forward
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void JvpMatchesFiniteDifferences(bool withInputTangent)
    {
        var rng = new Rng(7);
        var p = new Parameters();
        var extra = p.Allocate(3, "log_std"); // a model holds more than this network: tangent covers all
        var mlp = new Mlp(p, [5, 7, 6, 3], Activation.Tanh, rng, outputGain: 1.0);
        RandomiseParameters(p, rng);
        const int batch = 4;
        var x = Reference.RandomFloats(rng, batch * 5);
        mlp.Forward(x, batch);
        var dTheta = Reference.RandomFloats(rng, p.Count);
        var dX = withInputTangent ? Reference.RandomFloats(rng, batch * 5) : new float[batch * 5];
        var jvp = withInputTangent ? mlp.Jvp(dTheta, dX) : mlp.Jvp(dTheta);
        var fd = Reference.DirectionalDerivative((t, xx) => Reference.Mlp(mlp, t, xx, batch),
            Reference.ToDouble(p.Values), Reference.ToDouble(x), Reference.ToDouble(dTheta), Reference.ToDouble(dX));
        Reference.Close(fd, jvp, what: "jvp");
        // The point of `extra`: the network's slices do not start at 0 in the tangent, so a Jvp that indexed
        // the tangent from 0 (its own layout) instead of from each layer's offset fails the comparison above.
        Assert.Equal(3, mlp.Linears[0].Weight.Offset);
        // And a tangent on parameters outside this network does not move its outputs.
        var expected = jvp.ToArray();
        for (int i = 0; i < extra.Length; i++) dTheta[extra.Offset + i] += 10f;
        var jvpWithExtra = withInputTangent ? mlp.Jvp(dTheta, dX) : mlp.Jvp(dTheta);
        Assert.Equal(expected, jvpWithExtra.ToArray());
    }

    [Fact]
    public void LinearJvpMatchesFiniteDifferences()
    {
        var rng = new Rng(8);
        var p = new Parameters();
        var lin = new Linear(p, 6, 3);
        RandomiseParameters(p, rng);
        const int batch = 2;
        var x = Reference.RandomFloats(rng, batch * 6);
        lin.Forward(x, batch);
        var dTheta = Reference.RandomFloats(rng, p.Count);
        var dX = Reference.RandomFloats(rng, batch * 6);
        var fd = Reference.DirectionalDerivative((t, xx) => Reference.Linear(lin, t, xx, batch),
            Reference.ToDouble(p.Values), Reference.ToDouble(x), Reference.ToDouble(dTheta), Reference.ToDouble(dX));
        Reference.Close(fd, lin.Jvp(dTheta, dX), what: "jvp");
    }

    [Fact]
    public void WorkspacesGrowAndAreReusedForSmallerBatches()
    {
        var rng = new Rng(9);
        var p = new Parameters();
        var mlp = new Mlp(p, [3, 5, 2], Activation.Relu, rng);
        RandomiseParameters(p, rng);
        foreach (int batch in new[] { 2, 9, 1, 9, 4 })
        {
            var x = Reference.RandomFloats(rng, batch * 3);
            var y = mlp.Forward(x, batch);
            Assert.Equal(batch * 2, y.Length);
            Reference.Close(Reference.Mlp(mlp, Reference.ToDouble(p.Values), Reference.ToDouble(x), batch), y, 1e-5, 1e-5, $"batch {batch}");
            Assert.Equal(batch * 3, mlp.Backward(new float[batch * 2]).Length);
        }
    }

    [Fact]
    public void SameSeedGivesBitIdenticalModels()
    {
        float[] Run()
        {
            var rng = new Rng(10);
            var p = new Parameters();
            var mlp = new Mlp(p, [4, 16, 16, 2], Activation.Tanh, rng);
            var x = Reference.RandomFloats(rng, 8 * 4);
            var y = mlp.Forward(x, 8).ToArray();
            mlp.Backward(y);
            return [.. y, .. p.Values, .. p.Gradients];
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void MlpAllocatesNamedSlicesInOneBuffer()
    {
        var p = new Parameters();
        var actor = new Mlp(p, [17, 64, 64, 6], Activation.Tanh, new Rng(1), outputGain: 0.01, name: "actor");
        var logStd = p.Allocate(6, "log_std");
        var critic = new Mlp(p, [17, 64, 64, 1], Activation.Tanh, new Rng(2), name: "critic");
        int actorCount = 17 * 64 + 64 + 64 * 64 + 64 + 64 * 6 + 6;
        Assert.Equal(actorCount + 6 + 17 * 64 + 64 + 64 * 64 + 64 + 64 + 1, p.Count);
        Assert.Equal(p.Count, p.Gradients.Length);
        Assert.Equal(actorCount, logStd.Offset);
        Assert.Equal(p["critic.2.bias"], critic.Linears[2].Bias);
        Assert.Equal(["actor.0.weight", "actor.0.bias", "actor.1.weight", "actor.1.bias", "actor.2.weight", "actor.2.bias", "log_std"],
            p.Slices.Take(7).Select(s => s.Name));
        // Values allocated before the buffer grew are kept; biases are zero.
        Assert.Contains(p.ValuesOf(actor.Linears[0].Weight).ToArray(), v => v != 0);
        Assert.All(p.ValuesOf(critic.Linears[1].Bias).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(p.ValuesOf(logStd).ToArray(), v => Assert.Equal(0f, v));
    }
}
