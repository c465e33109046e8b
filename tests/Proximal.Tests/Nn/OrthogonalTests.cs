using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public class OrthogonalTests
{
    [Theory]
    [InlineData(64, 17, 1.4142135623730951)]
    [InlineData(6, 64, 0.01)]
    [InlineData(64, 64, 1.0)]
    [InlineData(1, 5, 1.0)]
    [InlineData(7, 1, 2.0)]
    public void RowsOrColumnsAreOrthonormalTimesGain(int rows, int cols, double gain)
    {
        var w = new float[rows * cols];
        Orthogonal.Fill(w, rows, cols, gain, new Rng(11));
        // Gram matrix of the shorter side: QᵀQ (rows ≥ cols) or QQᵀ (rows < cols) = gain²·I.
        bool byColumns = rows >= cols;
        int n = byColumns ? cols : rows, len = byColumns ? rows : cols;
        double at(int vec, int i) => byColumns ? w[i * cols + vec] : w[vec * cols + i];
        for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
        {
            double s = 0;
            for (int i = 0; i < len; i++) s += at(a, i) * at(b, i);
            Assert.Equal(a == b ? 1.0 : 0.0, s / (gain * gain), 2e-6);
        }
    }

    [Fact]
    public void SignCorrectionMakesDiagonalOfRPositive()
    {
        // Q is the sign-corrected factor of the Gaussian matrix drawn row-major: R = QᵀA has diag(R) > 0.
        const int m = 9, n = 4;
        var w = new float[m * n];
        Orthogonal.Fill(w, m, n, 1.0, new Rng(12));
        var rng = new Rng(12);
        var a = new double[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextGaussian();
        for (int j = 0; j < n; j++)
        {
            double r = 0;
            for (int i = 0; i < m; i++) r += w[i * n + j] * a[i * n + j];
            Assert.True(r > 0, $"R[{j},{j}] = {r}");
        }
        // And A = Q·R reconstructs: QᵀA is upper triangular.
        for (int j = 0; j < n; j++)
        for (int k = 0; k < j; k++)
        {
            double r = 0;
            for (int i = 0; i < m; i++) r += w[i * n + j] * a[i * n + k];
            Assert.Equal(0, r, 1e-5);
        }
    }

    [Fact]
    public void DeterministicPerSeedAndLinearInitZeroesBias()
    {
        var p1 = new Parameters(); var l1 = new Linear(p1, 5, 3);
        var p2 = new Parameters(); var l2 = new Linear(p2, 5, 3);
        p1.Values.AsSpan().Fill(1f);
        l1.InitializeOrthogonal(new Rng(5), 1.0);
        l2.InitializeOrthogonal(new Rng(5), 1.0);
        Assert.Equal(p1.Values, p2.Values);
        Assert.All(l1.BiasValues.ToArray(), b => Assert.Equal(0f, b));
        l2.InitializeOrthogonal(new Rng(6), 1.0);
        Assert.NotEqual(p1.Values, p2.Values);
    }
}
