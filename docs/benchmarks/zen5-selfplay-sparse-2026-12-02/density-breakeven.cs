#:project /work/main/src/Proximal/Proximal.csproj
using System.Diagnostics;
using Proximal.Numerics;
int rows = 2048, k = 210, n = 256;
var rng = new Rng(1);
var g = new float[rows * n]; for (int i = 0; i < g.Length; i++) g[i] = (float)rng.Uniform(-1, 1);
var dw = new float[n * k]; var w = new float[n * k]; var wt = new float[k * n]; var y = new float[rows * n];
double T(Action a) { for (int i = 0; i < 50; i++) a(); var sw = Stopwatch.StartNew(); int it = 0; while (sw.ElapsedMilliseconds < 250) { a(); it++; } return sw.Elapsed.TotalMilliseconds * 1000 / it; }
foreach (double density in new[] { 0.05, 0.09, 0.15, 0.25, 0.35 })
{
    var x = new float[rows * k]; for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() < density ? 1f : 0f;
    var sp = new SparseRows();
    double s = T(() => { sp.TryCompress(x, rows, k, rows * k); SparseGemm.Multiply(sp, wt, n, 0f, y); SparseGemm.AddTransposedProduct(g, n, sp, dw); });
    double d = T(() => { Gemm.Multiply(Transpose.No, Transpose.Yes, rows, n, k, 1f, x, k, w, k, 0f, y, n); Gemm.Multiply(Transpose.Yes, Transpose.No, n, k, rows, 1f, g, n, x, k, 1f, dw, k); });
    Console.WriteLine($"density {density:P0}: sparse (compress + forward + dW) {s:F0} us, dense {d:F0} us, {d / s:F2}x");
}
