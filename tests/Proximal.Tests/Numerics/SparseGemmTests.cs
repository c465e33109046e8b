using Proximal.Numerics;

namespace Proximal.Tests.Numerics;

/// <summary>
/// <see cref="SparseRows"/> and <see cref="SparseGemm"/>: products that skip a mostly-zero operand's zeros must give the
/// dense GEMM's bits exactly (a layer takes either path, so a run must not depend on which), on every tier and thread
/// count, and lie within the dot-product error bound of a float64 reference.
/// </summary>
public class SparseGemmTests
{
    private static Gemm.Tier[] Tiers => new[] { Gemm.Tier.Scalar, Gemm.Tier.V256, Gemm.Tier.V512 }
        .Where(t => t != Gemm.Tier.V512 || System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        .Where(t => t == Gemm.Tier.Scalar || System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated).ToArray();

    /// <summary>rows × cols with about <paramref name="density"/> of the entries nonzero: ones (board planes) or random values.</summary>
    private static float[] SparseMatrix(Rng rng, int rows, int cols, double density, bool binary)
    {
        var x = new float[rows * cols];
        for (int i = 0; i < x.Length; i++)
            if (rng.NextDouble() < density) x[i] = binary ? 1f : (float)rng.Uniform(-2, 2);
        return x;
    }

    private static float[] Dense(Rng rng, int n, double scale = 1)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)rng.Uniform(-scale, scale);
        return x;
    }

    private static SparseRows Compress(float[] x, int rows, int cols)
    {
        var s = new SparseRows();
        Assert.True(s.TryCompress(x, rows, cols, rows * cols));
        return s;
    }

    [Theory]
    [InlineData(1, 210, 256)]   // one Connect Four position through the first layer
    [InlineData(64, 210, 256)]  // a rollout step's batch
    [InlineData(37, 210, 64)]
    [InlineData(9, 5, 7)]       // no full vector: the scalar columns only
    [InlineData(20, 30, 100)]   // 64 + 32 + 4 columns: every chunk kind
    [InlineData(13, 300, 40)]   // k wider than one block of 256: two block sums, as the GEMM adds them
    [InlineData(11, 600, 24)]   // three blocks, some rows with a block of zeros only
    public void MultiplyGivesTheDenseGemmsBitsOnEveryTierAndThreadCount(int rows, int k, int n)
    {
        var rng = new Rng((ulong)(rows * 1000 + k * 7 + n));
        foreach (bool binary in new[] { true, false })
        foreach (double density in new[] { 0.0, 0.1, 0.5 })
        {
            var x = SparseMatrix(rng, rows, k, density, binary);
            if (rows > 3) Array.Clear(x, 2 * k, k); // an all-zero row
            var b = Dense(rng, k * n);
            var bt = new float[n * k]; // Bᵀ, as a layer stores W [out × in]
            for (int i = 0; i < k; i++) for (int j = 0; j < n; j++) bt[j * k + i] = b[i * n + j];
            var sparse = Compress(x, rows, k);
            foreach (float beta in new[] { 0f, 1f, -0.5f })
            {
                var c0 = Dense(rng, rows * n);
                var expected = (float[])c0.Clone();
                Gemm.Multiply(Transpose.No, Transpose.No, rows, n, k, 1f, x, k, b, n, beta, expected, n);
                var viaTransposed = (float[])c0.Clone();
                Gemm.Multiply(Transpose.No, Transpose.Yes, rows, n, k, 1f, x, k, bt, k, beta, viaTransposed, n);
                Assert.Equal(expected, viaTransposed); // the layer's form of the same product

                // float64 reference, within the dot-product error bound
                const double eps = 1.0 / (1 << 23);
                for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0, mag = 0;
                    for (int p = 0; p < k; p++) { double t = (double)x[r * k + p] * b[p * n + j]; s += t; mag += Math.Abs(t); }
                    double old = c0[r * n + j], expect = s + beta * old;
                    double bound = 4 * (k + 2) * eps * (mag + Math.Abs(beta * old)) + 1e-30;
                    Assert.True(Math.Abs(expected[r * n + j] - expect) <= bound, $"({r},{j}): {expected[r * n + j]} vs {expect}");
                }

                foreach (var tier in Tiers)
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    var c = (float[])c0.Clone();
                    SparseGemm.Multiply(sparse, b, n, beta, c, threads, tier);
                    Assert.Equal(expected, c);
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 210, 256)]
    [InlineData(2048, 210, 256)] // a self-play minibatch: eight blocks of 256 rows
    [InlineData(300, 17, 100)]   // 64 + 32 + 4 of C's rows: every chunk kind; two blocks
    [InlineData(257, 9, 5)]      // scalar rows only; a block of one row
    [InlineData(40, 600, 72)]
    public void AddTransposedProductGivesTheDenseGemmsBitsOnEveryTierAndThreadCount(int rows, int k, int n)
    {
        var rng = new Rng((ulong)(rows * 31 + k * 3 + n));
        foreach (bool binary in new[] { true, false })
        {
            var x = SparseMatrix(rng, rows, k, 0.12, binary);
            var g = Dense(rng, rows * n);
            var sparse = Compress(x, rows, k);
            var c0 = Dense(rng, n * k);
            var expected = (float[])c0.Clone();
            Gemm.Multiply(Transpose.Yes, Transpose.No, n, k, rows, 1f, g, n, x, k, 1f, expected, k);

            const double eps = 1.0 / (1 << 23);
            for (int o = 0; o < n; o += Math.Max(1, n / 7))
            for (int i = 0; i < k; i++)
            {
                double s = c0[o * k + i], mag = Math.Abs(s);
                for (int r = 0; r < rows; r++) { double t = (double)g[r * n + o] * x[r * k + i]; s += t; mag += Math.Abs(t); }
                double bound = 4 * (rows + 2) * eps * mag + 1e-30;
                Assert.True(Math.Abs(expected[o * k + i] - s) <= bound, $"({o},{i}): {expected[o * k + i]} vs {s}");
            }

            foreach (var tier in Tiers)
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var c = (float[])c0.Clone();
                SparseGemm.AddTransposedProduct(g, n, sparse, c, threads, tier);
                Assert.Equal(expected, c);
            }
        }
    }

    [Fact]
    public void CompressKeepsEveryEntryButZerosAndStopsAtItsBudget()
    {
        float[] x =
        [
            0, 1, -0f, 2, 0, 0, 0, 0, 0, 3, // row 0: 1 at 1, 2 at 3, 3 at 9 (a lane past the first vector)
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   // row 1: empty
            float.NaN, 0, 0, 0, 0, 0, 0, 0, -4, 0, // row 2: NaN is not zero
        ];
        var s = new SparseRows();
        Assert.True(s.TryCompress(x, 3, 10, 5));
        Assert.Equal(new[] { 0, 3, 3, 5 }, s.RowStarts.ToArray());
        Assert.Equal(new[] { 1, 3, 9, 0, 8 }, s.ColumnIndices.ToArray());
        Assert.Equal(new[] { 1f, 2f, 3f, float.NaN, -4f }, s.Values.ToArray());
        Assert.Equal(5, s.NonZeros);

        Assert.False(s.TryCompress(x, 3, 10, 4)); // five nonzeros, budget four
        Assert.Equal(0, s.Rows);
        Assert.Equal(0, s.NonZeros);
        Assert.True(s.TryCompress(x, 2, 10, 3)); // the first two rows only
        Assert.Equal(3, s.NonZeros);

        Assert.Throws<ArgumentException>(() => s.TryCompress(x, 4, 10, 100));
        Assert.Throws<ArgumentException>(() => SparseGemm.Multiply(s, new float[10 * 3 - 1], 3, 0f, new float[2 * 3]));
        Assert.Throws<ArgumentException>(() => SparseGemm.AddTransposedProduct(new float[2 * 3], 3, s, new float[3 * 10 - 1]));
    }
}
