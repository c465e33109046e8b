using Proximal.Numerics;

namespace Proximal.Nn;

/// <summary>
/// Orthogonal initialisation (Saxe, McClelland and Ganguli, 2014): the Q factor of a Gaussian matrix,
/// scaled by a gain. Computed in float64 by Householder QR, with each column of Q multiplied by the sign
/// of the matching diagonal entry of R so that Q is Haar-distributed (uniform over orthogonal matrices).
/// For a rows×cols matrix with rows ≥ cols the columns are orthonormal (QᵀQ = gain²·I); with rows &lt; cols
/// the rows are (QQᵀ = gain²·I).
/// </summary>
public static class Orthogonal
{
    /// <summary>
    /// Writes gain·Q into <paramref name="matrix"/> (row-major, <paramref name="rows"/>×<paramref name="cols"/>).
    /// Draws max(rows, cols)·min(rows, cols) standard normals from <paramref name="rng"/>, row-major over the
    /// tall (max×min) matrix that is factorised, which is transposed when rows &lt; cols.
    /// </summary>
    public static void Fill(Span<float> matrix, int rows, int cols, double gain, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (rows <= 0 || cols <= 0) throw new ArgumentOutOfRangeException(nameof(rows), $"Orthogonal init needs positive sizes, got {rows}×{cols}.");
        if (!double.IsFinite(gain)) throw new ArgumentOutOfRangeException(nameof(gain), gain, "Orthogonal init gain must be finite.");
        if (matrix.Length != (long)rows * cols) throw new ArgumentException($"Orthogonal init of a {rows}×{cols} matrix needs {(long)rows * cols} floats, got {matrix.Length}.", nameof(matrix));

        bool transpose = rows < cols;
        int m = Math.Max(rows, cols), n = Math.Min(rows, cols);
        var a = new double[m * n]; // tall m×n, row-major
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextGaussian();
        var q = ThinQ(a, m, n);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float v = (float)(gain * q[i * n + j]);
            if (transpose) matrix[j * cols + i] = v; else matrix[i * cols + j] = v;
        }
    }

    /// <summary>
    /// Thin Q (m×n, orthonormal columns) of the QR factorisation of the m×n matrix <paramref name="a"/>
    /// (m ≥ n), sign-corrected so that diag(R) ≥ 0. Overwrites <paramref name="a"/>.
    /// </summary>
    internal static double[] ThinQ(double[] a, int m, int n)
    {
        var vs = new double[n][];
        var signs = new double[n];
        for (int j = 0; j < n; j++)
        {
            // Householder vector v for column j below the diagonal: H = I − 2vvᵀ maps x to α·e₁.
            int len = m - j;
            var v = new double[len];
            double norm2 = 0;
            for (int i = 0; i < len; i++) { v[i] = a[(j + i) * n + j]; norm2 += v[i] * v[i]; }
            double norm = Math.Sqrt(norm2);
            if (norm == 0) { signs[j] = 1; vs[j] = v; continue; } // zero column: no reflection (v = 0)
            double alpha = v[0] > 0 ? -norm : norm; // opposite sign to x₀ avoids cancellation
            v[0] -= alpha;
            double vnorm = Math.Sqrt(norm2 - 2 * alpha * a[j * n + j] + alpha * alpha);
            for (int i = 0; i < len; i++) v[i] /= vnorm;
            vs[j] = v;
            signs[j] = alpha >= 0 ? 1 : -1; // R[j,j] = α
            for (int c = j; c < n; c++)
            {
                double dot = 0;
                for (int i = 0; i < len; i++) dot += v[i] * a[(j + i) * n + c];
                for (int i = 0; i < len; i++) a[(j + i) * n + c] -= 2 * dot * v[i];
            }
        }
        // Q = H₀·H₁·…·H_{n−1}·[I; 0]: apply the reflections in reverse to the first n identity columns.
        var q = new double[m * n];
        for (int j = 0; j < n; j++) q[j * n + j] = 1;
        for (int j = n - 1; j >= 0; j--)
        {
            var v = vs[j];
            int len = m - j;
            for (int c = 0; c < n; c++)
            {
                double dot = 0;
                for (int i = 0; i < len; i++) dot += v[i] * q[(j + i) * n + c];
                if (dot == 0) continue;
                for (int i = 0; i < len; i++) q[(j + i) * n + c] -= 2 * dot * v[i];
            }
        }
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            q[i * n + j] *= signs[j];
        return q;
    }
}
