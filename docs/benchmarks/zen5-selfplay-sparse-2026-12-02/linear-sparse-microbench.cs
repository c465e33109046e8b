#:project /work/main/src/Proximal/Proximal.csproj
#:property AllowUnsafeBlocks=true
using System.Diagnostics;
using Proximal.Numerics;
using Proximal.Nn;
using Proximal.Envs.Games;

int k = 210, n = 256;
var rng = new Rng(1);
var x = new float[4096 * k];
int filled = 0;
while (filled < 4096)
{
    var board = new ConnectFour();
    while (filled < 4096)
    {
        board.WriteObservation(x.AsSpan(filled * k, k)); filled++;
        int c; do c = rng.NextInt(7); while (!board.IsLegal(c));
        if (board.Play(c) != GameOutcome.Ongoing) break;
    }
}
var p = new Parameters();
var lin = new Linear(p, k, n, "l");
lin.InitializeOrthogonal(rng, 1.0);
var g = new float[4096 * n];
for (int i = 0; i < g.Length; i++) g[i] = (float)rng.Uniform(-1, 1);
double T(Action a) { for (int i = 0; i < 300; i++) a(); var sw = Stopwatch.StartNew(); int it = 0; while (sw.ElapsedMilliseconds < 200) { a(); it++; } return sw.Elapsed.TotalMilliseconds * 1000 / it; }
Console.WriteLine($"tier {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "V512" : "V256")}");
foreach (int threads in new[] { 1, 2 })
foreach (int batch in new[] { 16, 32, 64, 128, 256, 2048 })
{
    lin.Threads = threads;
    var xs = x.AsSpan(0, batch * k).ToArray();
    var gs = g.AsSpan(0, batch * n).ToArray();
    double[] f = new double[2], b = new double[2];
    for (int rep = 0; rep < 2; rep++)
    foreach (bool sparse in new[] { false, true })
    {
        typeof(Linear).GetProperty("SparseInputs", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.SetValue(lin, sparse);
        double tf = T(() => lin.Forward(xs, batch));
        double tb = T(() => { lin.Forward(xs, batch); lin.Backward(gs, computeInputGradient: false); }) - tf;
        int s = sparse ? 1 : 0;
        f[s] = rep == 0 ? tf : Math.Min(f[s], tf); b[s] = rep == 0 ? tb : Math.Min(b[s], tb);
    }
    Console.WriteLine($"threads {threads} batch {batch,5}: forward dense {f[0],8:F1} us sparse {f[1],8:F1} us ({f[0] / f[1]:F2}x) | dW dense {b[0],8:F1} sparse {b[1],8:F1} ({b[0] / b[1]:F2}x)");
}
