using System.CommandLine;
using System.Diagnostics;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.SelfPlay;
using Proximal.Cli.Train;
using Proximal.Common.Config;
using Proximal.Training.Sessions;

namespace Proximal.Cli.Bench;

/// <summary>
/// <c>proximal bench selfplay</c>: the shipped Connect Four self-play config's learner moves per second in its steady
/// state — the snapshot pool full, so the opponents' moves take one forward per pool slot in use, as they do for all but
/// the first few percent of a run — with the time split, the cost of one rating, and the wall time the config's
/// total_steps take at that speed, against issue 12's budget of 30 minutes on 2 cores.
/// </summary>
public static class SelfPlayBench
{
    public const string EnvId = "ConnectFour-v0";
    /// <summary>Issue 12: the self-play agent trains within a budget of under 30 minutes on 2 cores.</summary>
    public const double BudgetMinutes = 30;

    public static Command CreateCommand()
    {
        var updates = new Option<int>("--updates") { Description = "Updates measured (after 3 warm-up updates).", DefaultValueFactory = _ => 40 };
        var threads = new Option<int?>("--threads") { Description = "Train threads (default: the config's train_threads)." };
        var set = new Option<string[]>("--set") { Description = "Override a hyperparameter of the config, key=value (e.g. n_epochs=3). Repeatable.", AllowMultipleArgumentsPerToken = true };
        var compareDense = new Option<bool>("--compare-dense") { Description = "Also measure the same updates with the first layers' sparse input path off (the same bits, the dense GEMM), for the ratio." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per figure instead of a table." };
        var cmd = new Command("selfplay", "Self-play PPO on Connect Four (the built-in config): learner moves/s with the snapshot pool full, time split, one rating's cost, projected wall time of the config's total_steps against the 30-minute budget.");
        foreach (var o in new Option[] { updates, threads, set, compareDense, json }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            int u = pr.GetValue(updates);
            if (u is < 1 or > 100_000) return CliParsing.UsageError($"--updates must be between 1 and 100000 (got {u}).");
            int? t = pr.GetValue(threads);
            if (t is < 1 or > 256) return CliParsing.UsageError($"--threads must be between 1 and 256 (got {t}).");
            string[] overrides = pr.GetValue(set) ?? [];
            PpoOptions options;
            try
            {
                var config = BuiltInConfigs.Find("ppo", EnvId) ?? throw new ConfigException($"no built-in ppo config for {EnvId}.");
                options = (PpoOptions)TrainingConfig.Resolve(config, overrides: overrides);
            }
            catch (ConfigException e) { return CliParsing.UsageError(e.Message); }
            if (t is { } tt) options.TrainThreads = tt;
            var report = new BenchReport(pr.GetValue(json));
            report.Header(MachineInfo.Current());
            Run(report, options, u, overrides, pr.GetValue(compareDense));
            report.Footer(MachineInfo.Current().LoadAverage);
            return 0;
        });
        return cmd;
    }

    public static void Run(BenchReport report, PpoOptions options, int updates, IReadOnlyList<string>? overrides = null, bool compareDense = false)
    {
        var sp = options.SelfPlay;
        long total = options.TotalSteps, batch = (long)options.NEnvs * options.NSteps;
        report.Section($"{EnvId}: {options.NEnvs} games × {options.NSteps} moves ({batch:N0} per update), {options.NEpochs} epochs, minibatch " +
                       $"{options.MinibatchSize}, {(options.Policy.SharedTrunk ? "shared trunk" : "separate networks")} [{string.Join(", ", options.Policy.HiddenSizes)}], {options.TrainThreads} train " +
                       $"thread{(options.TrainThreads == 1 ? "" : "s")}; pool of {sp.PoolSize} filled first, {updates} updates measured after 3 warm-up" +
                       (overrides is { Count: > 0 } ? $"; --set {string.Join(" ", overrides)}" : ""));
        var measured = options.Clone();
        measured.SelfPlay.EvalEvery = 0; // ratings are timed on their own below
        using var agent = (Ppo)Algorithms.Registry.AlgorithmRegistry.Create("ppo", EnvId, measured);
        // --compare-dense: a twin from the same seed with the sparse input path off (the same bits, the dense GEMM's time),
        // timed in alternating rounds of a few updates so that both see the machine in the same state.
        using var dense = compareDense ? (Ppo)Algorithms.Registry.AlgorithmRegistry.Create("ppo", EnvId, measured.Clone()) : null;
        if (dense is not null) dense.Policy.SparseInputs = false;
        var agents = dense is null ? new[] { agent } : new[] { agent, dense };
        foreach (var a in agents)
        {
            var league = a.League!;
            while (league.PoolCount < league.Options.PoolSize) league.AddSnapshot(); // the steady state: every pool slot can be drawn
            a.Learn(3 * batch);
        }
        var times = new Measured[agents.Length];
        int round = dense is null ? updates : Math.Min(updates, 5);
        for (int done = 0; done < updates; done += round)
        {
            int n = Math.Min(round, updates - done);
            for (int i = 0; i < agents.Length; i++) times[i] += Measure(agents[i], n, batch);
        }
        var m = times[0];
        double movesPerSecond = m.Moves / m.Wall, perUpdate = m.Wall / updates;
        report.Add(new BenchCase("self-play ppo end to end, pool full", movesPerSecond, "moves/s",
            Note: $"{1e3 * perUpdate:F0} ms per update"));
        report.Add(new BenchCase("games + opponents' moves / learner inference / update", 100 * m.Env / m.Wall, "% of wall",
            Note: $"/ {100 * m.Inference / m.Wall:F1} % / {100 * m.Train / m.Wall:F1} % ({1e3 * m.Env / updates:F1} / {1e3 * m.Inference / updates:F1} / {1e3 * m.Train / updates:F1} ms per update)"));
        if (dense is not null)
        {
            var d = times[1];
            report.Add(new BenchCase("the same, dense input path (sparse path off), rounds alternated", d.Moves / d.Wall, "moves/s",
                Note: $"{1e3 * d.Wall / updates:F0} ms per update (update {1e3 * d.Train / updates:F1} ms, rollout {1e3 * (d.Env + d.Inference) / updates:F1} ms); " +
                      $"sparse: update {1e3 * m.Train / updates:F1} ms, rollout {1e3 * (m.Env + m.Inference) / updates:F1} ms; the sparse path is " +
                      $"{movesPerSecond / (d.Moves / d.Wall):F2}x as fast end to end, {d.Train / m.Train:F2}x in the update"));
        }

        double rating = double.PositiveInfinity;
        if (sp.EvalEvery > 0)
        {
            for (int i = 0; i < 2; i++)
            {
                var r = Stopwatch.StartNew();
                Ratings.Rate(agent.Policy, sp.EvalGames, (ulong)(i + 1), sp.EvalOpeningPlies);
                rating = Math.Min(rating, r.Elapsed.TotalSeconds);
            }
            report.Add(new BenchCase($"one rating ({sp.EvalGames} games per colour against each reference)", rating, "s",
                Note: $"every {sp.EvalEvery} updates"));
        }
        long ratings = sp.EvalEvery > 0 ? total / batch / sp.EvalEvery : 0;
        double minutes = (total / movesPerSecond + ratings * (sp.EvalEvery > 0 ? rating : 0)) / 60;
        report.Add(new BenchCase($"projected wall time of total_steps {total:N0}", minutes, "min",
            Note: $"{ratings} ratings included; budget {BudgetMinutes:G} min on 2 cores: {(minutes <= BudgetMinutes ? "within" : "OVER")}"));
    }

    private readonly record struct Measured(double Moves, double Wall, double Env, double Inference, double Train)
    {
        public static Measured operator +(Measured a, Measured b) =>
            new(a.Moves + b.Moves, a.Wall + b.Wall, a.Env + b.Env, a.Inference + b.Inference, a.Train + b.Train);
    }

    /// <summary>Times <paramref name="updates"/> updates of <paramref name="agent"/> (pool full and warmed up already).</summary>
    private static Measured Measure(Ppo agent, int updates, long batch)
    {
        var t0 = agent.Timing;
        long s0 = agent.NumTimesteps;
        var sw = Stopwatch.StartNew();
        agent.Learn(updates * batch);
        double wall = sw.Elapsed.TotalSeconds;
        var t1 = agent.Timing;
        return new(agent.NumTimesteps - s0, wall, t1.Env - t0.Env, t1.Inference - t0.Inference, t1.Train - t0.Train);
    }
}
