using Proximal.Envs.Vector;
using Proximal.Envs.Wrappers;

namespace Proximal.Common.Callbacks;

/// <summary>Mean and standard deviation of the undiscounted return over evaluation episodes.</summary>
public sealed record EvaluationResult(double MeanReturn, double StdReturn, double[] Returns, int[] Lengths)
{
    public double MeanLength => Lengths.Length == 0 ? double.NaN : Lengths.Average();
}

/// <summary>Runs a policy for whole episodes on an evaluation VecEnv (SB3's evaluate_policy protocol).</summary>
public static class Evaluation
{
    /// <summary>
    /// Plays <paramref name="episodes"/> episodes, spread evenly over the env's N copies (env i plays
    /// ⌈(episodes − i)/N⌉ of them, so short episodes are not over-represented). Returns are read from the
    /// env's <see cref="VecEpisodeStatistics"/>, so they are raw (unnormalised) rewards; the env must have one.
    /// </summary>
    public static EvaluationResult Evaluate(IAgent agent, VecEnv env, int episodes, bool deterministic = true, ulong? seed = null)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(env);
        if (episodes <= 0) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "Evaluation needs at least one episode.");
        var log = env.Episodes ?? throw new ArgumentException("The evaluation env has no episode statistics; build it with VecEnvBuilder (statistics are on by default).", nameof(env));
        int n = env.NumEnvs;
        var obs = new float[n * env.ObservationSize];
        var actions = new float[n * env.ActionSize];
        var rewards = new float[n];
        var term = new bool[n];
        var trunc = new bool[n];
        var targets = new int[n];
        for (int i = 0; i < n; i++) targets[i] = (episodes - i + n - 1) / n;
        var counts = new int[n];
        var returns = new List<double>(episodes);
        var lengths = new List<int>(episodes);
        // A recurrent agent carries one state per env, reset where an episode starts (every env at the first step).
        var recurrent = agent as IRecurrentAgent;
        var state = recurrent?.NewPredictState(n);
        var starts = new bool[n];
        Array.Fill(starts, true);
        log.Clear();
        env.Reset(obs, seed);
        while (returns.Count < episodes)
        {
            // normalized: the env normalises (frozen, the training statistics)
            if (recurrent is not null) recurrent.Predict(obs, actions, state!, starts, deterministic, normalized: true);
            else if (!env.ActionMasks.IsEmpty && agent is IMaskedAgent masked) // legal moves only, on envs with action masks
                masked.Predict(obs, env.ActionMasks, actions, deterministic, normalized: true);
            else agent.Predict(obs, actions, deterministic, normalized: true);
            env.Step(actions, obs, rewards, term, trunc);
            for (int i = 0; i < n; i++) starts[i] = term[i] || trunc[i];
            while (log.TryDequeue(out var e))
            {
                if (counts[e.EnvIndex] >= targets[e.EnvIndex]) continue;
                counts[e.EnvIndex]++;
                returns.Add(e.Return);
                lengths.Add(e.Length);
            }
        }
        double mean = returns.Average();
        double std = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / returns.Count);
        return new EvaluationResult(mean, std, returns.ToArray(), lengths.ToArray());
    }

    /// <summary>Copies the training env's observation-normalisation statistics into the evaluation env and freezes them there.</summary>
    public static void SyncNormalization(VecEnv training, VecEnv evaluation)
    {
        var from = training.Find<VecNormalizeObservation>();
        var to = evaluation.Find<VecNormalizeObservation>();
        if (from is null && to is null) return;
        if (from is null || to is null)
            throw new InvalidOperationException("The training and evaluation envs differ in observation normalisation; build both with the same options.");
        to.SetState(from.GetState());
        to.Frozen = true;
    }
}
