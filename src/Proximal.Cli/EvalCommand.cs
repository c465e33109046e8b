using System.CommandLine;
using System.Globalization;
using Proximal.Algorithms;
using Proximal.Algorithms.Registry;
using Proximal.Envs;
using Proximal.Common.Callbacks;
using Proximal.Common.Persistence;
using Proximal.Envs.Registry;

namespace Proximal.Cli;

/// <summary>
/// <c>proximal eval MODEL [--episodes N] [--deterministic|--stochastic] [--seed S] [--n-envs K]</c>: plays whole episodes
/// with a saved policy on a fresh evaluation env (observation normalisation copied from the model and frozen).
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Model file written by `proximal train` (model.zip or a checkpoint)." };
        var episodes = new Option<int>("--episodes", "-n") { Description = "Episodes to play.", DefaultValueFactory = _ => 10 };
        var deterministic = new Option<bool>("--deterministic") { Description = "Take the most likely action (default)." };
        var stochastic = new Option<bool>("--stochastic") { Description = "Sample actions from the policy." };
        var seed = new Option<long>("--seed") { Description = "Seed of the evaluation env resets.", DefaultValueFactory = _ => 12345 };
        var nEnvs = new Option<int?>("--n-envs") { Description = "Env copies the episodes are spread over (default min(4, episodes))." };
        var cmd = new Command("eval", "Evaluate a saved model: mean ± std of the episode return.");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { episodes, deterministic, stochastic, seed, nEnvs }) cmd.Options.Add(o);
        cmd.SetAction(pr => Run(pr.GetValue(model)!, pr.GetValue(episodes), pr.GetValue(deterministic), pr.GetValue(stochastic),
            pr.GetValue(seed), pr.GetValue(nEnvs)));
        return cmd;
    }

    private static int Run(string path, int episodes, bool deterministic, bool stochastic, long seed, int? nEnvs)
    {
        static int Usage(string m) { Console.Error.WriteLine($"error: {m}"); return 2; }
        if (deterministic && stochastic) return Usage("--deterministic and --stochastic exclude each other.");
        if (episodes <= 0) return Usage($"--episodes must be at least 1 (got {episodes}).");
        if (nEnvs is <= 0) return Usage($"--n-envs must be at least 1 (got {nEnvs}).");
        if (seed < 0) return Usage($"--seed must be >= 0 (got {seed}).");

        BaseAlgorithm agent;
        try { agent = AlgorithmRegistry.Load(path); }
        catch (ModelFileException e) { return Usage(e.Message); }
        catch (Exception e) when (e is ArgumentException or UnknownEnvException or NotSupportedException)
        { return Usage($"cannot evaluate {path}: {e.Message}"); }

        using (agent)
        {
            int copies = nEnvs ?? Math.Min(4, episodes);
            using var env = BaseAlgorithm.BuildEnv(agent.EnvId!, agent.BaseOptions, forEvaluation: true, numEnvs: copies);
            Evaluation.SyncNormalization(agent.Env, env);
            bool greedy = !stochastic;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var r = Evaluation.Evaluate(agent, env, episodes, greedy, (ulong)seed);
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Format(c, "{0} on {1}, trained {2:N0} steps; {3} episodes ({4}, seed {5}, {6} env{7}):",
                agent.Algorithm, agent.EnvId, agent.NumTimesteps, episodes, greedy ? "deterministic" : "stochastic", seed, copies, copies == 1 ? "" : "s"));
            Console.WriteLine(string.Format(c, "mean return {0:F2} ± {1:F2}   (min {2:F2}, max {3:F2}, mean length {4:F1}; {5:F2} s)",
                r.MeanReturn, r.StdReturn, r.Returns.Min(), r.Returns.Max(), r.MeanLength, sw.Elapsed.TotalSeconds));
            Console.WriteLine("returns: " + string.Join(" ", r.Returns.Select(x => x.ToString("G6", c))));
            return 0;
        }
    }
}
