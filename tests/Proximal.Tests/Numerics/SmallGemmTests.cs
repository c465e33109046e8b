using Proximal.Numerics;

namespace Proximal.Tests.Numerics;

public class SmallGemmTests
{
    private static float[] Random(Rng rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)rng.Uniform(-1, 1);
        return x;
    }

    /// <summary>
    /// Every shape class (rows: 4-row tiles and single rows; columns: 16-wide tiles, an 8-wide tail, single columns;
    /// k 0, 1, odd, long), with row strides above the row length, against a float64 product, C's padding untouched.
    /// </summary>
    [Theory]
    [InlineData(8, 256, 64)]
    [InlineData(8, 64, 256)]
    [InlineData(1, 16, 3)]
    [InlineData(5, 27, 9)]
    [InlineData(7, 8, 1)]
    [InlineData(3, 5, 0)]
    [InlineData(4, 33, 17)]
    public void MultiplyAndMultiplyAddMatchAFloat64Product(int m, int n, int k)
    {
        var rng = new Rng((ulong)(m * 1000 + n * 10 + k));
        int lda = k + 2, ldb = n + 3, ldc = n + 1;
        var a = Random(rng, Math.Max(0, (m - 1) * lda + k));
        var b = Random(rng, Math.Max(0, (k - 1) * ldb + n));
        foreach (bool accumulate in new[] { false, true })
        {
            var c = Random(rng, (m - 1) * ldc + n);
            var c0 = (float[])c.Clone();
            if (accumulate) SmallGemm.MultiplyAdd(m, n, k, a, lda, b, ldb, c, ldc);
            else SmallGemm.Multiply(m, n, k, a, lda, b, ldb, c, ldc);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = accumulate ? c0[i * ldc + j] : 0, bound = accumulate ? Math.Abs(c0[i * ldc + j]) : 0;
                    for (int p = 0; p < k; p++)
                    {
                        s += (double)a[i * lda + p] * b[p * ldb + j];
                        bound += Math.Abs((double)a[i * lda + p] * b[p * ldb + j]);
                    }
                    Assert.True(Math.Abs(s - c[i * ldc + j]) <= 2 * (k + 1) * 6e-8 * bound + 1e-30,
                        $"accumulate {accumulate}: C[{i},{j}] = {c[i * ldc + j]}, float64 {s}");
                }
                if (i < m - 1) Assert.Equal(c0[i * ldc + n], c[i * ldc + n]); // the gap between rows
            }
        }
    }

    /// <summary>
    /// Each output's summation order is fixed (one FMA per k in order), so a row computed alone has exactly the bits it
    /// has inside a many-row product — what makes an LSTM step for one env equal its row of the batched step.
    /// </summary>
    [Fact]
    public void ARowAloneHasTheBitsItHasInsideABiggerProduct()
    {
        const int m = 7, n = 45, k = 37;
        var rng = new Rng(5);
        var a = Random(rng, m * k);
        var b = Random(rng, k * n);
        var bias = Random(rng, m * n);
        var all = (float[])bias.Clone();
        SmallGemm.MultiplyAdd(m, n, k, a, k, b, n, all, n);
        var plain = new float[m * n];
        SmallGemm.Multiply(m, n, k, a, k, b, n, plain, n);
        for (int i = 0; i < m; i++)
        {
            var one = bias.AsSpan(i * n, n).ToArray();
            SmallGemm.MultiplyAdd(1, n, k, a.AsSpan(i * k, k), k, b, n, one, n);
            Assert.Equal(all.AsSpan(i * n, n).ToArray(), one);
            var onePlain = new float[n];
            SmallGemm.Multiply(1, n, k, a.AsSpan(i * k, k), k, b, n, onePlain, n);
            Assert.Equal(plain.AsSpan(i * n, n).ToArray(), onePlain);
        }
    }

    /// <summary>
    /// C = Aᵀ·B with A stored [k × m] (the ∂W_ihᵀ = Xᵀ·dZ form) against a float64 product, thin (2 rows) and with
    /// 4-row tiles, strides above the row length.
    /// </summary>
    [Theory]
    [InlineData(2, 128, 256)]
    [InlineData(5, 200, 31)]
    [InlineData(4, 7, 3)]
    public void MultiplyTransposedAMatchesAFloat64Product(int m, int n, int k)
    {
        var rng = new Rng((ulong)(m * 7 + n * 3 + k));
        int lda = m + 1, ldb = n + 2, ldc = n + 3;
        var a = Random(rng, (k - 1) * lda + m);
        var b = Random(rng, (k - 1) * ldb + n);
        var c = Random(rng, (m - 1) * ldc + n);
        var c0 = (float[])c.Clone();
        SmallGemm.MultiplyTransposedA(m, n, k, a, lda, b, ldb, c, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0, bound = 0;
                for (int p = 0; p < k; p++)
                {
                    s += (double)a[p * lda + i] * b[p * ldb + j];
                    bound += Math.Abs((double)a[p * lda + i] * b[p * ldb + j]);
                }
                Assert.True(Math.Abs(s - c[i * ldc + j]) <= 2 * (k + 1) * 6e-8 * bound + 1e-30, $"C[{i},{j}] = {c[i * ldc + j]}, float64 {s}");
            }
            if (i < m - 1) Assert.Equal(c0[i * ldc + n], c[i * ldc + n]);
        }
    }

    /// <summary>
    /// The Vector512 tiles (AVX-512 machines) and the Vector256 ones give the same bits for every form and a spread of
    /// shapes (32-, 16-, 8-wide and single columns; 128- and 64-wide single rows). Without AVX-512 the Vector512 code runs
    /// in software: slower, same bits.
    /// </summary>
    [Theory]
    [InlineData(8, 32, 128)]
    [InlineData(8, 128, 34)]
    [InlineData(2, 128, 256)]
    [InlineData(7, 201, 19)]
    [InlineData(1, 77, 5)]
    public void BothTiersGiveTheSameBits(int m, int n, int k)
    {
        var rng = new Rng((ulong)(m * 31 + n * 7 + k));
        var a = Random(rng, m * k);
        var b = Random(rng, k * n);
        var c = Random(rng, m * n);
        foreach (var (transposeA, accumulate) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var narrow = (float[])c.Clone();
            var wide = (float[])c.Clone();
            int lda = transposeA ? m : k;
            SmallGemm.Run(m, n, k, a, lda, transposeA, b, n, narrow, n, accumulate, wide: false);
            SmallGemm.Run(m, n, k, a, lda, transposeA, b, n, wide, n, accumulate, wide: true);
            Assert.True(narrow.AsSpan().SequenceEqual(wide), $"transposeA {transposeA}, accumulate {accumulate}: the tiers differ");
        }
    }

    [Fact]
    public void ShortOperandsAreRejectedWithAMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => SmallGemm.Multiply(2, 3, 4, new float[7], 4, new float[12], 3, new float[6], 3));
        Assert.Contains("A has 7 floats", e.Message);
        Assert.Throws<ArgumentException>(() => SmallGemm.MultiplyAdd(2, 3, 4, new float[8], 4, new float[12], 2, new float[6], 3));
    }
}
