using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proximal.Algorithms.OnPolicy;
using Proximal.Cli.Train;
using Proximal.Distributed;
using Proximal.Training.Sessions;

namespace Proximal.Cli.Bench;

/// <summary>
/// <c>proximal bench distributed</c>: data-parallel PPO scaling. For each task and each K it runs
/// <c>mpirun -np K</c> ranks of this program (hidden <c>--rank-worker</c> mode) with the task's shipped PPO config per
/// rank (Hopper/HalfCheetah: 1 env × 2048 steps, 10 epochs × 32 minibatches of 64), and reports env steps/s (all
/// ranks), optimiser updates/s, the speed-up over K = 1 measured in the same run, and the time in the gradient
/// all-reduce per update: inside training (waiting for the slower rank included) and alone (back-to-back calls).
/// K above the core count is run oversubscribed and labelled so.
/// </summary>
public static class DistributedBench
{
    private const string Marker = "PXBENCH ";

    public static Command CreateCommand()
    {
        var envs = new Option<string>("--envs") { Description = "Comma-separated env ids.", DefaultValueFactory = _ => "Hopper-v4,HalfCheetah-v4" };
        var ranks = new Option<string>("--ranks") { Description = "Comma-separated numbers of ranks K.", DefaultValueFactory = _ => "1,2,4,8" };
        var iterations = CliParsing.IntOption("--iterations", "", "Measured iterations per case (after one warm-up iteration).", 3);
        var json = new Option<bool>("--json") { Description = "Print one JSON object per figure instead of a table." };
        var worker = new Option<bool>("--rank-worker") { Hidden = true };
        var env = new Option<string?>("--env") { Hidden = true };
        var cmd = new Command("distributed", "Data-parallel PPO under mpirun: env steps/s and updates/s for K ranks, speed-up over K = 1, all-reduce time per update and its share.");
        foreach (var o in new Option[] { envs, ranks, iterations, json, worker, env }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            int n = pr.GetValue(iterations);
            if (n < 1) return CliParsing.UsageError($"--iterations must be at least 1 (got {n}).");
            if (pr.GetValue(worker)) return RankWorker(pr.GetValue(env) ?? "Hopper-v4", n);
            var ks = new List<int>();
            foreach (var s in pr.GetValue(ranks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1 || k > 64)
                { return CliParsing.UsageError($"--ranks: '{s}' is not a number of ranks from 1 to 64."); }
                ks.Add(k);
            }
            var ids = pr.GetValue(envs)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var id in ids)
                if (BuiltInConfigs.Find("ppo", id) is null) return CliParsing.UsageError($"--envs: no shipped PPO config for '{id}' (configs/ppo/).");
            string mpirun;
            try { mpirun = FindMpirun(); }
            catch (MpiUnavailableException e) { return CliParsing.UsageError(e.Message); }
            var report = new BenchReport(pr.GetValue(json));
            report.Header(MachineInfo.Current());
            foreach (var id in ids)
                if (Run(report, mpirun, id, ks, n) is { } problem) { Console.Error.WriteLine($"error: {problem}"); return 1; }
            report.Footer(MachineInfo.Current().LoadAverage);
            return 0;
        });
        return cmd;
    }

    private static string FindMpirun() =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists)
        ?? throw new MpiUnavailableException($"mpirun not found: {MpiCommunicator.InstallHint}.");

    private static string? Run(BenchReport report, string mpirun, string envId, IReadOnlyList<int> ks, int iterations)
    {
        int cores = Environment.ProcessorCount;
        report.Section($"PPO on {envId}, shipped config per rank (configs/ppo/{envId}.yaml), {iterations} iteration(s) after 1 warm-up, {cores} cores");
        double? baseSps = null, baseUps = null;
        foreach (int k in ks)
        {
            var (result, problem) = Launch(mpirun, k, envId, iterations);
            if (result is null) return $"mpirun -np {k} (bench distributed on {envId}) failed: {problem}";
            double sps = result["steps_per_second"]!.GetValue<double>(), ups = result["updates_per_second"]!.GetValue<double>();
            double inTraining = result["allreduce_ms_per_update"]!.GetValue<double>(), alone = result["allreduce_alone_ms"]!.GetValue<double>();
            double updateMs = result["update_ms_per_update"]!.GetValue<double>();
            string label = k > cores ? $"K = {k} (oversubscribed: {k} ranks on {cores} cores)" : $"K = {k}";
            if (k == 1) { baseSps = sps; baseUps = ups; }
            report.Add(new BenchCase($"{label}: env steps/s (all ranks)", sps, "steps/s",
                Ratio: k > 1 && baseSps is { } b ? sps / b : null, RatioOf: k > 1 && baseSps is not null ? "of K = 1 (target ≥ 1.8× at K = 2 on 2 cores)" : null));
            report.Add(new BenchCase($"{label}: optimiser updates/s", ups, "updates/s",
                Ratio: k > 1 && baseUps is { } u ? ups / u : null, RatioOf: k > 1 && baseUps is not null ? "of K = 1" : null));
            if (k > 1)
            {
                report.Add(new BenchCase($"{label}: all-reduce in training (waits incl.)", inTraining, "ms/update",
                    Ratio: inTraining / updateMs, RatioOf: "of the update's time (target < 0.05)"));
                report.Add(new BenchCase($"{label}: all-reduce alone, {result["gradient_bytes"]!.GetValue<long>():N0} B", alone, "ms/update",
                    Ratio: alone / updateMs, RatioOf: "of the update's time"));
            }
            report.Add(new BenchCase($"{label}: update time (minibatch fwd+bwd+reduce+Adam)", updateMs, "ms/update"));
        }
        return null;
    }

    private static (JsonObject? Result, string Problem) Launch(string mpirun, int k, string envId, int iterations)
    {
        var psi = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-np", k.ToString(CultureInfo.InvariantCulture), "--allow-run-as-root", "--oversubscribe",
                     Environment.ProcessPath!, Path.Combine(AppContext.BaseDirectory, "Proximal.Cli.dll"),
                     "bench", "distributed", "--rank-worker", "--env", envId, "--iterations", iterations.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        // The .NET console may put a terminal control sequence before the first line: find the marker anywhere in it.
        var line = output.Split('\n').FirstOrDefault(l => l.Contains(Marker, StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
            return (null, (err.Result + output).Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.Ordinal))?.Trim() ?? $"exit code {p.ExitCode}, no result line");
        return (JsonNode.Parse(line[(line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..])!.AsObject(), "");
    }

    /// <summary>One rank of a measurement (run by mpirun): PPO with the shipped config, timed; rank 0 prints one JSON line.</summary>
    private static int RankWorker(string envId, int iterations)
    {
        using var comm = MpiCommunicator.Initialize(TimeSpan.FromSeconds(300));
        try
        {
            var options = (PpoOptions)TrainingConfig.Resolve(BuiltInConfigs.Find("ppo", envId), algorithm: "ppo");
            using var ppo = Ppo.Create(envId, options);
            var dp = new DataParallel(comm, checksumEvery: 1);
            ppo.UseDataParallel(dp);
            long perIteration = (long)options.NEnvs * options.NSteps * comm.Size;
            ppo.Learn(perIteration); // warm-up: JIT, workspaces
            comm.Barrier();
            var before = (Steps: ppo.NumTimesteps, Train: ppo.Timing.Train, Reduce: dp.GradientReduceSeconds, Reduces: dp.GradientReduces);
            var clock = Stopwatch.StartNew();
            ppo.Learn(perIteration * iterations);
            comm.Barrier();
            double wall = clock.Elapsed.TotalSeconds;
            long updates = dp.GradientReduces - before.Reduces;
            double reduce = dp.GradientReduceSeconds - before.Reduce, train = ppo.Timing.Train - before.Train;

            // The all-reduce alone: the same payload, back to back, all ranks lined up by a barrier first.
            var gradient = new float[ppo.Policy.Parameters.Count];
            comm.Barrier();
            const int repeats = 200;
            var alone = Stopwatch.StartNew();
            for (int i = 0; i < repeats; i++) comm.Sum(gradient);
            double aloneMs = 1e3 * alone.Elapsed.TotalSeconds / repeats;

            // Rank 0 reports the mean over ranks of the per-rank figures.
            Span<double> mine = [reduce, train, aloneMs];
            comm.Sum(mine);
            if (comm.Rank == 0)
            {
                int k = comm.Size;
                var result = new JsonObject
                {
                    ["ranks"] = k,
                    ["steps_per_second"] = (ppo.NumTimesteps - before.Steps) / wall,
                    ["updates_per_second"] = updates / wall,
                    ["allreduce_ms_per_update"] = 1e3 * mine[0] / k / updates,
                    ["update_ms_per_update"] = 1e3 * mine[1] / k / updates,
                    ["allreduce_alone_ms"] = mine[2] / k,
                    ["gradient_bytes"] = dp.GradientBytes,
                    ["wall_seconds"] = wall,
                };
                Console.WriteLine(Marker + result.ToJsonString());
            }
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            comm.Abort(1, $"error: rank {comm.Rank}: {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
    }
}
