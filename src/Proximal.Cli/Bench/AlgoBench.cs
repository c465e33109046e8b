using System.CommandLine;
using System.Diagnostics;
using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Registry;
using Proximal.Cli.Train;
using Proximal.Common.Config;
using Proximal.Envs.Registry;
using Proximal.MuJoCo.Binding;
using Proximal.Training.Sessions;

namespace Proximal.Cli.Bench;

/// <summary>
/// <c>proximal bench algos</c>: the on-policy family end to end — PPO, A2C, TRPO and ACKTR, each with its built-in config
/// for the task — for the same number of env steps in one process, interleaved in rounds (so a change of machine load hits
/// all four alike), printing wall time per env step, its ratio to PPO's (issue 9's target: TRPO and A2C within 1.3×),
/// where the time goes, and ACKTR's split of its update time into curvature work (K-FAC statistics, with the
/// sampled-target backward pass, and the damped inverses) vs the rest (target ≤ 25 %).
/// </summary>
public static class AlgoBench
{
    public static readonly string[] Algorithms = ["ppo", "a2c", "trpo", "acktr"];
    /// <summary>Issue 9's speed target: wall time per env step of TRPO and A2C ÷ PPO's.</summary>
    public const double TargetRatioToPpo = 1.3;
    /// <summary>Issue 9's target for ACKTR's curvature work as a share of its update time.</summary>
    public const double TargetCurvatureShare = 0.25;

    public static Command CreateCommand()
    {
        var env = new Option<string>("--env") { Description = "Task (default Hopper-v4; CartPole-v1 when libmujoco cannot be loaded).", DefaultValueFactory = _ => "Hopper-v4" };
        var steps = new Option<long>("--steps") { Description = "Env steps per algorithm per round.", DefaultValueFactory = _ => 20_000 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds; each runs every algorithm once, in a rotated order.", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per figure instead of a table." };
        var cmd = new Command("algos", "PPO, A2C, TRPO and ACKTR end to end with their configs, interleaved: wall time per env step, ratio to PPO, ACKTR's curvature share.");
        cmd.Options.Add(env);
        cmd.Options.Add(steps);
        cmd.Options.Add(rounds);
        cmd.Options.Add(json);
        cmd.SetAction(pr =>
        {
            long n = pr.GetValue(steps);
            int r = pr.GetValue(rounds);
            string envId = pr.GetValue(env)!;
            if (n < 1) return CliParsing.UsageError($"--steps must be at least 1; got {n}.");
            if (r < 1) return CliParsing.UsageError($"--rounds must be at least 1; got {r}.");
            try { EnvRegistry.GetSpec(envId); }
            catch (UnknownEnvException e) { return CliParsing.UsageError(e.Message); }
            if (IsMuJoCo(envId))
            {
                try { MuJoCoLibrary.EnsureLoaded(); }
                catch (MuJoCoLibraryException e)
                {
                    Console.Error.WriteLine($"note: {envId} needs MuJoCo, which cannot be loaded ({e.Message.ReplaceLineEndings(" ")}); benchmarking CartPole-v1 instead.");
                    envId = "CartPole-v1";
                }
            }
            var options = new Dictionary<string, AlgorithmOptions>();
            foreach (var algo in Algorithms)
            {
                var builtIn = BuiltInConfigs.Find(algo, envId);
                if (builtIn is null) return CliParsing.UsageError($"no built-in {algo} config for {envId}; bench algos needs all four (built-in: {string.Join(", ", BuiltInConfigs.EnvIds(algo))}).");
                try { options[algo] = TrainingConfig.Resolve(builtIn, algorithm: algo); }
                catch (ConfigException e) { return CliParsing.UsageError(e.Message); }
            }
            var report = new BenchReport(pr.GetValue(json));
            report.Header(MachineInfo.Current());
            Run(report, envId, options, n, r);
            report.Footer(MachineInfo.Current().LoadAverage);
            return 0;
        });
        return cmd;
    }

    private static bool IsMuJoCo(string envId) => envId.EndsWith("-v4", StringComparison.Ordinal);

    /// <summary>Sums over the rounds of one algorithm.</summary>
    private sealed class Totals
    {
        public double Wall, Env, Inference, Train, Statistics, Inverses, Precondition, LastReturn = double.NaN;
        public long Steps;
    }

    public static void Run(BenchReport report, string envId, IReadOnlyDictionary<string, AlgorithmOptions> options, long steps, int rounds)
    {
        ArgumentNullException.ThrowIfNull(report);
        report.Section($"On-policy family on {envId} with the built-in configs, {steps:N0} env steps per algorithm per round, {rounds} round(s), interleaved after an uncounted warm-up of two updates each, 1 thread");
        var totals = Algorithms.ToDictionary(a => a, _ => new Totals());
        // Warm-up, not counted: two updates of each, so that JIT compilation and first-touch allocations stay out of the figures.
        foreach (var algo in Algorithms)
        {
            var o = options[algo].Clone();
            long warm = 2L * o.NEnvs * ((OnPolicyOptions)o).NSteps;
            using var agent = AlgorithmRegistry.Create(algo, envId, o);
            agent.Learn(warm);
        }
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < Algorithms.Length; k++)
            {
                string algo = Algorithms[(k + round) % Algorithms.Length]; // rotate: no algorithm always runs first or last
                var o = options[algo].Clone();
                o.Seed = 1 + round;
                o.TotalSteps = steps;
                var t = totals[algo];
                using var agent = AlgorithmRegistry.Create(algo, envId, o);
                var sw = Stopwatch.StartNew();
                agent.Learn(steps);
                t.Wall += sw.Elapsed.TotalSeconds;
                t.Steps += agent.NumTimesteps;
                var timing = agent.Timing;
                t.Env += timing.Env; t.Inference += timing.Inference; t.Train += timing.Train;
                if (agent is Acktr acktr)
                {
                    var c = acktr.CurvatureTiming;
                    t.Statistics += c.Statistics; t.Inverses += c.Inverses; t.Precondition += c.Precondition;
                }
                if (agent.Metrics.TryGetValue("rollout/episode_return_mean", out double ret)) t.LastReturn = ret;
            }
        }

        double ppoPerStep = totals["ppo"].Wall / totals["ppo"].Steps;
        foreach (var algo in Algorithms)
        {
            var t = totals[algo];
            double perStep = t.Wall / t.Steps;
            bool targeted = algo is "a2c" or "trpo";
            report.Add(new BenchCase($"{algo} wall time per env step", perStep * 1e6, "µs/step",
                Ratio: algo == "ppo" ? null : perStep / ppoPerStep, RatioOf: algo == "ppo" ? null : "of ppo's, measured above" + (targeted ? $" (target ≤ {TargetRatioToPpo:G})" : ""),
                Note: $"{t.Steps:N0} steps in {t.Wall:F2} s"));
        }
        foreach (var algo in Algorithms)
        {
            var t = totals[algo];
            double other = Math.Max(0, t.Wall - t.Env - t.Inference - t.Train);
            report.Add(new BenchCase($"{algo} time: env / inference / update / other", 100 * t.Env / t.Wall, "% env",
                Note: $"inference {100 * t.Inference / t.Wall:F1} %, update {100 * t.Train / t.Wall:F1} %, other {100 * other / t.Wall:F1} %"));
        }
        var a = totals["acktr"];
        if (a.Train > 0)
        {
            double curvature = a.Statistics + a.Inverses;
            report.Add(new BenchCase("acktr curvature work (K-FAC statistics incl. the sampled-target backward, + inverses)", 100 * curvature / a.Train, "% of update",
                Note: $"target ≤ {100 * TargetCurvatureShare:G} %; statistics {100 * a.Statistics / a.Train:F1} %, inverses {100 * a.Inverses / a.Train:F1} %"));
            report.Add(new BenchCase("acktr preconditioning (G⁻¹∇W̃A⁻¹ per layer)", 100 * a.Precondition / a.Train, "% of update",
                Note: "applying the inverses; not counted as curvature work above"));
            report.Add(new BenchCase("acktr update time per env step", a.Train / a.Steps * 1e6, "µs/step"));
        }
        foreach (var algo in Algorithms)
            report.Add(new BenchCase($"{algo} training episode return (last 100, last round)", totals[algo].LastReturn, "return",
                Note: "a sanity figure: these runs are far too short to compare learning"));
    }
}
