// A probe (docs/benchmarks.md, "Tenth session"): how often do a TQC actor's raw log-std outputs fall below the clamps of SB3 (-20) and ours (-5),
// and how often is |u| large enough for SB3's 1e-6 in log(1 - tanh^2 u + 1e-6) to matter, over the replay buffer's states.
using Proximal.Algorithms.OffPolicy;
Proximal.MuJoCo.MuJoCoTasks.Register();
var tqc = Tqc.Load(args[0]);
var rb = tqc.Replay; int n = rb.Count, od = rb.ObservationSize, ad = rb.ActionSize;
int last = Math.Min(n, args.Length > 1 ? int.Parse(args[1]) : 200_000);
Console.WriteLine($"model {args[0]}: steps {tqc.NumTimesteps}, buffer {n}, using the {last} newest rows");
var net = tqc.Actor.Network; var obs = rb.ObservationsArray;
long below5 = 0, below20 = 0, above2 = 0, total = 0, bigU = 0, bigMu = 0; double minLs = double.MaxValue, sumLs = 0;
var perDimBelow5 = new long[ad]; var rng = new Random(1);
long newest = rb.Added; int cap = rb.Capacity;
const int B = 1000; var x = new float[B * od];
for (int s = 0; s < last; s += B)
{
    int b = Math.Min(B, last - s);
    for (int i = 0; i < b; i++) { long idx = ((newest - 1 - s - i) % cap + cap) % cap; Array.Copy(obs, idx * od, x, i * od, od); }
    var y = net.Forward(x.AsSpan(0, b * od), b);
    for (int i = 0; i < b; i++)
        for (int j = 0; j < ad; j++)
        {
            double mu = y[i * 2 * ad + j], ls = y[i * 2 * ad + ad + j];
            total++; sumLs += ls; minLs = Math.Min(minLs, ls);
            if (ls < -5) { below5++; perDimBelow5[j]++; }
            if (ls < -20) below20++;
            if (ls > 2) above2++;
            if (Math.Abs(mu) > 7.25) bigMu++;
            double sd = Math.Exp(Math.Clamp(ls, -5, 2));
            double e = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            if (Math.Abs(mu + sd * e) > 7.25) bigU++;
        }
}
Console.WriteLine($"raw log std: mean {sumLs / total:F3}, min {minLs:F3}; below -5: {100.0 * below5 / total:F4} % ({below5} of {total}); below -20: {100.0 * below20 / total:F4} %; above 2: {100.0 * above2 / total:F4} %");
Console.WriteLine($"per action dim below -5 (%): {string.Join(", ", perDimBelow5.Select(c => (100.0 * c / (total / ad)).ToString("F3")))}");
Console.WriteLine($"|mean u| > 7.25: {100.0 * bigMu / total:F4} %; sampled |u| > 7.25 (1e-6 term matters): {100.0 * bigU / total:F4} %");
