using System.Diagnostics;
using System.Text.Json.Nodes;
using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Common.Callbacks;
using Proximal.Envs.Wrappers;
using Proximal.Numerics;

namespace Proximal.Distributed.Tests;

/// <summary>
/// The program each rank runs under mpirun in these tests: <c>dotnet Proximal.Distributed.Tests.dll worker SCENARIO OUT_DIR</c>.
/// Rank 0 writes OUT_DIR/result.json; failures end the job through MPI_Abort with one line on stderr, as the CLI does.
/// </summary>
public static class Worker
{
    public static int Main(string[] args)
    {
        if (args.Length < 3 || args[0] != "worker")
        {
            Console.Error.WriteLine("usage: Proximal.Distributed.Tests worker SCENARIO OUT_DIR (run by the tests under mpirun)");
            return 2;
        }
        string scenario = args[1], outDir = args[2];
        double timeout = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 30;
        using var comm = MpiCommunicator.Initialize(TimeSpan.FromSeconds(timeout));
        try
        {
            var result = scenario switch
            {
                "equivalence" => Equivalence(comm),
                "statistics" => Statistics(comm),
                "hang" => Fault(comm, rank1: () => Thread.Sleep(TimeSpan.FromMinutes(5))),
                "die" => Fault(comm, rank1: () => Process.GetCurrentProcess().Kill()),
                "drift" => Fault(comm, rank1: null, drift: true),
                "chief" => Chief(comm),
                _ => throw new ArgumentException($"unknown scenario {scenario}"),
            };
            if (comm.Rank == 0)
            {
                Directory.CreateDirectory(outDir);
                File.WriteAllText(Path.Combine(outDir, "result.json"), result.ToJsonString());
            }
            comm.Barrier();
            return 0;
        }
        catch (RankFailureException e)
        {
            comm.Abort(3, $"error: {e.Message}");
            return 3;
        }
    }

    // ---------------------------------------------------------------- equivalence: K ranks × N envs vs 1 × K·N envs

    internal const int N = 2, T = 16;

    private static OnPolicyAlgorithm Build(string algo, int envs, int minibatch, long seed = 7)
    {
        OnPolicyOptions o = algo switch
        {
            "ppo" => new PpoOptions { MinibatchSize = minibatch, NEpochs = 3, LearningRate = 1e-3 },
            "a2c" => new A2cOptions { NormalizeAdvantage = true, LearningRate = 1e-3 },
            "trpo" => new TrpoOptions { VfMinibatchSize = minibatch, VfEpochs = 2 },
            _ => throw new ArgumentException(algo),
        };
        o.NEnvs = envs;
        o.NSteps = T;
        o.Seed = seed;
        return (OnPolicyAlgorithm)Proximal.Algorithms.Registry.AlgorithmRegistry.Create(algo, "Pendulum-v1", o);
    }

    /// <summary>
    /// Fills the rollout with the columns [first, first + envs) of one fixed T × (K·N) data set (observations, actions,
    /// advantages, returns; log-probs and values from the policy itself), so every layout holds the same transitions.
    /// </summary>
    internal static void Fill(OnPolicyAlgorithm a, int totalEnvs, int first)
    {
        var b = a.LatestRollout;
        int envs = b.Envs, od = b.ObservationSize, ad = b.ActionSize;
        var rng = new Rng(2024);
        for (int t = 0; t < T; t++)
            for (int e = 0; e < totalEnvs; e++)
            {
                bool mine = e >= first && e < first + envs;
                int row = t * envs + (e - first);
                for (int j = 0; j < od; j++) { float v = (float)rng.NextGaussian(); if (mine) b.Observations[row * od + j] = v; }
                for (int j = 0; j < ad; j++) { float v = (float)rng.NextGaussian(); if (mine) b.Actions[row * ad + j] = v; }
                float adv = (float)(rng.NextGaussian() * 2 + 0.5), ret = (float)rng.NextGaussian();
                if (mine) { b.Advantages[row] = adv; b.Returns[row] = ret; }
            }
        var outputs = a.Policy.ActorOutputs(b.Observations, b.Count);
        a.Policy.Head.LogProb(outputs, b.Actions, b.LogProbs);
        a.Policy.Values(b.Observations, b.Count, b.Values);
    }

    private static JsonObject Equivalence(ICommunicator comm)
    {
        int k = comm.Size, rank = comm.Rank;
        var result = new JsonObject();
        foreach (string algo in new[] { "ppo", "a2c", "trpo" })
        {
            using var mine = Build(algo, N, N * T);
            var before = (float[])mine.Policy.Parameters.Values.Clone();
            mine.UseDataParallel(new DataParallel(comm));
            Fill(mine, k * N, rank * N);
            mine.TrainForTests();
            var p = mine.Policy.Parameters.Values;
            Span<double> sums = [DataParallel.Checksum(p)];
            var all = new double[k];
            comm.AllGather(sums, all);
            if (rank != 0) continue;

            using var reference = Build(algo, k * N, k * N * T);
            Fill(reference, k * N, 0);
            reference.TrainForTests();
            using var alone = Build(algo, N, N * T); // negative control: rank 0's data alone, no reduction
            Fill(alone, k * N, 0);
            alone.TrainForTests();
            var r = reference.Policy.Parameters.Values;
            result[algo] = new JsonObject
            {
                ["ranks_identical"] = all.All(c => c == all[0]),
                ["max_abs_diff"] = MaxAbsDiff(p, r),
                ["max_abs_update"] = MaxAbsDiff(before, r),
                ["control_max_abs_diff"] = MaxAbsDiff(alone.Policy.Parameters.Values, r),
                ["initial_equal"] = MaxAbsDiff(before, (float[])Build(algo, k * N, k * N * T).Policy.Parameters.Values.Clone()) == 0,
            };
        }
        return result;
    }

    private static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }

    // ---------------------------------------------------------------- statistics merged across ranks

    private static JsonObject Statistics(ICommunicator comm)
    {
        int k = comm.Size, rank = comm.Rank, d = 3, rowsPerRank = 5;
        var dp = new DataParallel(comm);
        var rng = new Rng(99);
        var all = new float[3][];
        for (int step = 0; step < 3; step++)
        {
            all[step] = new float[k * rowsPerRank * d];
            for (int i = 0; i < all[step].Length; i++) all[step][i] = (float)(rng.NextGaussian() * (1 + i % d) + 3 * (i % d));
        }
        var merged = new RunningMeanVar(d);
        merged.BeginSynchronizing();
        var reference = new RunningMeanVar(d);
        for (int step = 0; step < 3; step++)
        {
            merged.Update(all[step].AsSpan(rank * rowsPerRank * d, rowsPerRank * d));
            reference.Update(all[step]);
            if (step != 1) merged.SynchronizeAcross(dp); // two steps pending at once, then one
        }
        var adv = new float[k * 7];
        for (int i = 0; i < adv.Length; i++) adv[i] = (float)(rng.NextGaussian() * 3 + 1);
        var part = adv.AsSpan(rank * 7, 7).ToArray();
        Surrogate.NormalizeAdvantages(part, dp);
        Surrogate.NormalizeAdvantages(adv);
        double advDiff = MaxAbsDiff(part, adv.AsSpan(rank * 7, 7));
        Span<double> worst = [advDiff];
        comm.Sum(worst);
        double statDiff = 0;
        for (int j = 0; j < d; j++)
            statDiff = Math.Max(statDiff, Math.Max(Math.Abs(merged.Mean[j] - reference.Mean[j]), Math.Abs(merged.Variance[j] - reference.Variance[j])));
        return new JsonObject
        {
            ["statistics_max_abs_diff"] = statDiff,
            ["count_diff"] = Math.Abs(merged.Count - reference.Count),
            ["advantage_max_abs_diff_sum"] = worst[0],
        };
    }

    // ---------------------------------------------------------------- faults: a rank that hangs, dies, or drifts

    private static JsonObject Fault(ICommunicator comm, Action? rank1, bool drift = false)
    {
        var options = new PpoOptions { NEnvs = 2, NSteps = 32, MinibatchSize = 32, NEpochs = 2, Seed = 3 };
        using var ppo = Ppo.Create("CartPole-v1", options);
        ppo.UseDataParallel(new DataParallel(comm, checksumEvery: 1));
        var callbacks = new List<TrainingCallback>();
        if (comm.Rank == 1)
            callbacks.Add(new LambdaCallback((agent, _) =>
            {
                if (ppo.Iterations == 2)
                {
                    if (drift) ppo.Policy.Parameters.Values[0] += 1e-3f;
                    else rank1?.Invoke();
                }
                return true;
            }));
        ppo.Learn(64 * 6, callbacks);
        return new JsonObject { ["finished"] = true };
    }

    // ---------------------------------------------------------------- the chief/worker variant

    private static JsonObject Chief(ICommunicator comm) => ChiefScenario.Run(comm);
}
