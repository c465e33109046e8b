using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public class KernelTests
{
    [Fact]
    public void TanhIsAccurateEverywhere()
    {
        // Dense sweep, tiny values, saturation and specials. TensorPrimitives.Tanh is accurate to ~1e-7
        // absolute (not relative) near 0, which is far below the noise of a float32 network.
        var xs = new List<float>();
        for (int i = -20000; i <= 20000; i++) xs.Add(i * 1e-3f);
        xs.AddRange([1e-30f, -1e-30f, 1e-7f, 0.39999998f, 0.4f, 0.40000004f, 20f, -50f, 1e30f, float.MaxValue, float.Epsilon, 0f, -0f]);
        var x = xs.ToArray();
        var y = new Tanh(x.Length).Forward(x, 1);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Tanh(x[i]);
            double err = Math.Abs(y[i] - e);
            Assert.True(err <= 2e-7 + 1e-6 * Math.Abs(e), $"tanh({x[i]:R}) = {y[i]:R}, expected {e:R}");
        }
        Assert.True(float.IsNegative(new Tanh(1).Forward([-0f], 1)[0]));
        var special = new Tanh(3).Forward([float.PositiveInfinity, float.NegativeInfinity, float.NaN], 1);
        Assert.Equal(1f, special[0]);
        Assert.Equal(-1f, special[1]);
        Assert.True(float.IsNaN(special[2]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(37)]
    [InlineData(64)]
    [InlineData(100)]
    public void ColumnSumsMatchReference(int cols)
    {
        var rng = new Rng((ulong)cols);
        const int rows = 13;
        var m = Reference.RandomFloats(rng, rows * cols);
        var sums = Reference.RandomFloats(rng, cols);
        var expected = new double[cols];
        for (int c = 0; c < cols; c++)
        {
            expected[c] = sums[c];
            for (int r = 0; r < rows; r++) expected[c] += m[r * cols + c];
        }
        Kernels.AddColumnSums(m, rows, sums);
        Reference.Close(expected, sums, 1e-5, 1e-5, "sums");
    }

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    public void FusedBiasActivationEqualsSeparateLayers(Activation a)
    {
        // Mlp fuses each hidden bias into its activation; the public layers do the same math unfused.
        var rng = new Rng(30);
        var p = new Parameters();
        var mlp = new Mlp(p, [5, 19, 3], a, rng);
        for (int i = 0; i < p.Count; i++) p.Values[i] = (float)rng.NextGaussian();
        var x = Reference.RandomFloats(rng, 4 * 5);
        var fused = mlp.Forward(x, 4).ToArray();
        var h = mlp.Linears[0].Forward(x, 4);
        ActivationLayer act = a == Activation.Tanh ? new Tanh(19) : new Relu(19);
        var separate = mlp.Linears[1].Forward(act.Forward(h, 4), 4).ToArray();
        // Equal up to the order of one addition (b + x·Wᵀ vs x·Wᵀ + b inside a blocked GEMM).
        Reference.Close(Reference.ToDouble(separate), fused, 1e-6, 1e-6, "fused");
    }

    [Theory]
    [InlineData(64, 2500, 500)]
    [InlineData(11, 40, 40)]
    [InlineData(3, 10, 3)]
    [InlineData(7, 5, 0)]
    public void GatherRowsCopiesTheChosenRowsInOrder(int width, int sourceRows, int picked)
    {
        var rng = new Rng(31);
        var source = Reference.RandomFloats(rng, sourceRows * width);
        var rows = new int[picked];
        for (int j = 0; j < picked; j++) rows[j] = (int)(rng.NextUInt64() % (ulong)sourceRows); // repeats allowed
        var destination = new float[picked * width + 1];
        destination[^1] = 42f;
        Kernels.GatherRows(source, width, rows, destination);
        for (int j = 0; j < picked; j++)
            for (int c = 0; c < width; c++)
                Assert.Equal(source[rows[j] * width + c], destination[j * width + c]);
        Assert.Equal(42f, destination[^1]); // nothing written past the rows
    }

    [Fact]
    public void GatherRowsRejectsARowOutsideTheSourceAndASmallDestination()
    {
        var source = new float[4 * 3];
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.GatherRows(source, 3, [0, 4], new float[6]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.GatherRows(source, 3, [-1], new float[3]));
        Assert.Throws<ArgumentException>(() => Kernels.GatherRows(source, 3, [0, 1], new float[5]));
        Kernels.GatherRows(source, 0, [0, 7], new float[0]); // rows of width 0: nothing to copy, nothing out of range
    }
}
