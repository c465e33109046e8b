using System.CommandLine;
using System.Diagnostics;
using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Cli.Train;
using Proximal.Common.Config;
using Proximal.Envs.Registry;
using Proximal.Training.Sessions;

namespace Proximal.Cli.Bench;

/// <summary>
/// <c>proximal bench recurrent</c>: recurrent PPO's end-to-end env steps/s against feed-forward PPO with the same
/// config (same N envs × T steps, minibatches, epochs, heads), the LSTM switched off. Runs alternate and each side
/// keeps its best, so a change in machine load during the benchmark hits both alike.
/// </summary>
public static class RecurrentBench
{
    /// <summary>Recurrent PPO should run at no less than this fraction of feed-forward PPO's steps/s (issue 12).</summary>
    public const double TargetRatio = 0.25;

    public static Command CreateCommand()
    {
        var env = new Option<string>("--env") { Description = "Environment id with a built-in recurrent ppo config.", DefaultValueFactory = _ => "CartPoleNoVel-v1" };
        var steps = new Option<long>("--steps") { Description = "Environment steps per run.", DefaultValueFactory = _ => 20_000 };
        var repeats = new Option<int>("--repeats") { Description = "Runs of each kind (alternating); the best of each counts.", DefaultValueFactory = _ => 2 };
        var threads = new Option<int?>("--threads") { Description = "Train threads for both sides (default: the config's train_threads)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per figure instead of a table." };
        var cmd = new Command("recurrent", "Recurrent PPO vs feed-forward PPO env steps/s with the same N, T and update settings (the built-in config, LSTM on and off).");
        foreach (var o in new Option[] { env, steps, repeats, threads, json }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            string id = pr.GetValue(env)!;
            long n = pr.GetValue(steps);
            int r = pr.GetValue(repeats);
            if (r < 1) return CliParsing.UsageError($"--repeats must be at least 1 (got {r}).");
            int? t = pr.GetValue(threads);
            if (t is < 1 or > 256) return CliParsing.UsageError($"--threads must be between 1 and 256 (got {t}).");
            PpoOptions recurrent;
            try
            {
                EnvRegistry.GetSpec(id);
                var config = BuiltInConfigs.Find("ppo", id) ?? throw new ConfigException($"no built-in ppo config for {id}.");
                recurrent = (PpoOptions)TrainingConfig.Resolve(config);
                if (!recurrent.Policy.Recurrent) throw new ConfigException($"the built-in ppo config of {id} is not recurrent (policy.lstm_hidden_size is 0).");
            }
            catch (Exception e) when (e is UnknownEnvException or ConfigException) { return CliParsing.UsageError(e.Message); }
            if (t is { } tt) recurrent.TrainThreads = tt;
            long rollout = (long)recurrent.NEnvs * recurrent.NSteps;
            if (n < rollout) return CliParsing.UsageError($"--steps must be at least one rollout ({rollout} steps); got {n}.");
            var report = new BenchReport(pr.GetValue(json));
            report.Header(MachineInfo.Current());
            Run(report, id, recurrent, n, r);
            report.Footer(MachineInfo.Current().LoadAverage);
            return 0;
        });
        return cmd;
    }

    public static void Run(BenchReport report, string envId, PpoOptions recurrent, long steps, int repeats)
    {
        var feedForward = (PpoOptions)recurrent.Clone();
        feedForward.Policy.LstmHiddenSize = 0;
        feedForward.Policy.LstmSequenceLength = 0;
        feedForward.Policy.SharedLstm = false;
        var p = recurrent.Policy;
        report.Section($"{envId}: {recurrent.NEnvs} envs × {recurrent.NSteps} steps, {recurrent.NEpochs} epochs, minibatch {recurrent.MinibatchSize}, " +
                       $"heads [{string.Join(", ", p.HiddenSizes)}]; recurrent: LSTM {p.LstmHiddenSize}" +
                       (p.SharedLstm ? " shared" : p.EnableCriticLstm ? " + critic LSTM" : ", feed-forward critic") +
                       $", sequences of {(p.LstmSequenceLength == 0 ? recurrent.NSteps : p.LstmSequenceLength)}; {steps:N0} steps per run, best of {repeats}, " +
                       $"{recurrent.TrainThreads} train thread{(recurrent.TrainThreads == 1 ? "" : "s")} each" +
                       (recurrent.TrainThreads >= 2 && p.EnableCriticLstm && !p.SharedLstm ? " (recurrent: actor and critic side by side)" : ""));
        double bestFf = 0, bestRec = 0;
        (double Env, double Inference, double Train) recTiming = default, ffTiming = default;
        double recWall = 0, ffWall = 0;
        for (int i = 0; i < repeats; i++)
        {
            var (ffSps, ffT, ffW) = Measure(envId, feedForward, steps);
            if (ffSps > bestFf) { bestFf = ffSps; ffTiming = ffT; ffWall = ffW; }
            var (recSps, recT, recW) = Measure(envId, recurrent, steps);
            if (recSps > bestRec) { bestRec = recSps; recTiming = recT; recWall = recW; }
        }
        report.Add(new BenchCase("feed-forward ppo end to end", bestFf, "steps/s"));
        report.Add(new BenchCase("recurrent ppo end to end", bestRec, "steps/s", Ratio: bestRec / bestFf,
            RatioOf: $"of feed-forward ppo (target ≥ {TargetRatio:G})"));
        Split(report, "feed-forward", ffTiming, ffWall);
        Split(report, "recurrent", recTiming, recWall);
        PolicyPass(report, envId, recurrent);
    }

    /// <summary>
    /// What the update is made of: one minibatch's forward + backward pass through the recurrent policy (L steps × S
    /// sequences, the config's shape), its LSTM arithmetic rate, and the LSTM arithmetic of a whole update per env step
    /// — the part no kernel can remove (E epochs re-run every sequence forward and backward through time).
    /// </summary>
    private static void PolicyPass(BenchReport report, string envId, PpoOptions options)
    {
        using var agent = (RecurrentPpo)Algorithms.Registry.AlgorithmRegistry.Create("ppo", envId, options);
        var policy = agent.Policy;
        int l = agent.SequenceLength, s = options.MinibatchSize / l, rows = l * s, h = policy.HiddenSize, ni = policy.ObservationSize;
        var obs = new float[rows * ni];
        var rng = new Proximal.Numerics.Rng(1);
        for (int i = 0; i < obs.Length; i++) obs[i] = (float)rng.Uniform(-1, 1);
        var starts = new bool[rows];
        var initial = policy.NewState(s);
        var gradOutputs = new float[rows * policy.OutputSize];
        var gradValues = new float[rows];
        Array.Fill(gradOutputs, 1e-3f);
        Array.Fill(gradValues, 1e-3f);
        void Pass()
        {
            policy.Parameters.ZeroGradients();
            policy.Forward(obs, l, s, starts, initial, out _);
            policy.Backward(gradOutputs, gradValues);
        }
        for (int i = 0; i < 5; i++) Pass();
        int reps = 0;
        var sw = Stopwatch.StartNew();
        do { Pass(); reps++; } while (sw.Elapsed.TotalSeconds < 1.0);
        double seconds = sw.Elapsed.TotalSeconds / reps;
        int lstms = policy.HasCriticLstm ? 2 : 1;
        // forward 4H(In + H), backward dz·W_hh 4H·H + ∂W_hh 4H·H + ∂W_ih 4H·In multiply-adds per row and LSTM
        double macsPerRow = lstms * 4.0 * h * (3.0 * h + 2.0 * ni);
        double gflops = 2 * macsPerRow * rows / seconds / 1e9;
        double perRollout = 2 * macsPerRow * options.NEnvs * options.NSteps * options.NEpochs;
        report.Add(new BenchCase($"recurrent policy forward + backward, {l} × {s} sequences", seconds * 1e3, "ms",
            Note: $"LSTM arithmetic at {gflops:F1} GFLOP/s; an update does {perRollout / 1e9:F2} GFLOP of it per {options.NEnvs * options.NSteps} env steps"));
    }

    private static void Split(BenchReport report, string kind, (double Env, double Inference, double Train) t, double wall)
    {
        report.Add(new BenchCase($"{kind}: env / inference / update", 100 * t.Env / wall, "% of wall",
            Note: $"/ {100 * t.Inference / wall:F1} % / {100 * t.Train / wall:F1} %"));
    }

    private static (double Sps, (double Env, double Inference, double Train) Timing, double Wall) Measure(string envId, PpoOptions options, long steps)
    {
        using var agent = Algorithms.Registry.AlgorithmRegistry.Create("ppo", envId, options);
        var sw = Stopwatch.StartNew();
        agent.Learn(steps);
        double wall = sw.Elapsed.TotalSeconds;
        return (agent.NumTimesteps / wall, agent.Timing, wall);
    }
}
