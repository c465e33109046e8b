using System.CommandLine;
using System.Globalization;
using Proximal.Algorithms;
using Proximal.Algorithms.Registry;
using Proximal.Envs;
using Proximal.Common.Callbacks;
using Proximal.Common.Persistence;
using Proximal.Envs.Registry;
using Proximal.Envs.Vector;
using Proximal.MuJoCo.Binding;
using Proximal.Spaces;
using Proximal.Training.Runs;

namespace Proximal.Cli;

/// <summary>
/// <c>proximal eval MODEL|RUN_DIR [--env ID] [--episodes N] [--deterministic|--stochastic] [--seed S] [--n-envs K]</c>: plays
/// whole episodes with a saved policy on a fresh evaluation env (observation normalisation copied from the model and frozen).
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Model file written by `proximal train` (model.zip or a checkpoint), or a run folder (its model.zip)." };
        var env = new Option<string?>("--env") { Description = "Evaluate on this registered env id instead of the one the model was trained on (same observation and action spaces)." };
        var episodes = CliParsing.IntOption("--episodes", "-n", "Episodes to play.", 10);
        var deterministic = new Option<bool>("--deterministic") { Description = "Take the most likely action (default)." };
        var stochastic = new Option<bool>("--stochastic") { Description = "Sample actions from the policy." };
        var seed = CliParsing.WholeOption("--seed", "Seed of the evaluation env resets (default 12345).");
        var nEnvs = new Option<int?>("--n-envs") { Description = "Env copies the episodes are spread over (default min(4, episodes))." };
        var cmd = new Command("eval", "Evaluate a saved model: mean ± std of the episode return.");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { env, episodes, deterministic, stochastic, seed, nEnvs }) cmd.Options.Add(o);
        cmd.SetAction(pr => Run(pr.GetValue(model)!, pr.GetValue(env), pr.GetValue(episodes), pr.GetValue(deterministic), pr.GetValue(stochastic),
            pr.GetValue(seed) ?? 12345, pr.GetValue(nEnvs)));
        return cmd;
    }

    private static int Run(string path, string? envOverride, int episodes, bool deterministic, bool stochastic, long seed, int? nEnvs)
    {
        if (deterministic && stochastic) return CliParsing.UsageError("--deterministic and --stochastic exclude each other.");
        if (episodes <= 0) return CliParsing.UsageError($"--episodes must be at least 1 (got {episodes}).");
        if (nEnvs is <= 0) return CliParsing.UsageError($"--n-envs must be at least 1 (got {nEnvs}).");
        if (seed < 0) return CliParsing.UsageError($"--seed must be >= 0 (got {seed}).");
        if (Directory.Exists(path))
        {
            string inFolder = Path.Combine(path, RunDirectory.ModelFileName);
            if (!File.Exists(inFolder))
                return CliParsing.UsageError($"{path} is a folder without a {RunDirectory.ModelFileName}; give a run folder or a model file (e.g. a checkpoint in {Path.Combine(path, RunDirectory.CheckpointsFolderName)}).");
            path = inFolder;
        }

        BaseAlgorithm agent;
        try { agent = AlgorithmRegistry.Load(path); }
        catch (ModelFileException e) { return CliParsing.UsageError(e.Message); }
        catch (Exception e) when (e is ArgumentException or UnknownEnvException or NotSupportedException or MuJoCoLibraryException or MuJoCoException)
        { return CliParsing.UsageError($"cannot evaluate {path}: {e.Message}"); }

        using (agent)
        {
            int copies = nEnvs ?? Math.Min(4, episodes);
            string envId = envOverride ?? agent.EnvId!;
            VecEnv env;
            try
            {
                env = BaseAlgorithm.BuildEnv(envId, agent.BaseOptions, forEvaluation: true, numEnvs: copies);
            }
            catch (Exception e) when (e is ArgumentException or UnknownEnvException or NotSupportedException or MuJoCoLibraryException or MuJoCoException)
            { return CliParsing.UsageError($"--env {envId}: {e.Message}"); }
            using (env)
            {
                if (envOverride is not null)
                {
                    string? mismatch = Mismatch("observation", agent.ObservationSpace, env.SingleObservationSpace)
                                       ?? Mismatch("action", agent.ActionSpace, env.SingleActionSpace);
                    if (mismatch is not null)
                        return CliParsing.UsageError($"--env {envOverride}: the model was trained on {agent.EnvId}, and the {mismatch}.");
                }
                Evaluation.SyncNormalization(agent.Env, env);
                bool greedy = !stochastic;
                var sw = System.Diagnostics.Stopwatch.StartNew();
                var r = Evaluation.Evaluate(agent, env, episodes, greedy, (ulong)seed);
                var c = CultureInfo.InvariantCulture;
                Console.WriteLine(string.Format(c, "{0} on {1}{8}, trained {2:N0} steps; {3} episodes ({4}, seed {5}, {6} env{7}):",
                    agent.Algorithm, envId, agent.NumTimesteps, episodes, greedy ? "deterministic" : "stochastic", seed, copies, copies == 1 ? "" : "s",
                    envOverride is null || envOverride == agent.EnvId ? "" : $" (trained on {agent.EnvId})"));
                Console.WriteLine(string.Format(c, "mean return {0:F2} ± {1:F2}   (min {2:F2}, max {3:F2}, mean length {4:F1}; {5:F2} s)",
                    r.MeanReturn, r.StdReturn, r.Returns.Min(), r.Returns.Max(), r.MeanLength, sw.Elapsed.TotalSeconds));
                Console.WriteLine("returns: " + string.Join(" ", r.Returns.Select(x => x.ToString("G6", c))));
                return 0;
            }
        }
    }

    /// <summary>Null when <paramref name="other"/> is the same space as <paramref name="trained"/> (kind, shape and bounds).</summary>
    private static string? Mismatch(string what, Space trained, Space other) =>
        SpaceCodec.ToJson(trained).ToJsonString() == SpaceCodec.ToJson(other).ToJsonString()
            ? null
            : $"{what} spaces differ ({trained} there, {other} here)";
}
