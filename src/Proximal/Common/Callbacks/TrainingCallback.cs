namespace Proximal.Common.Callbacks;

/// <summary>
/// Hooks into a training run. <see cref="OnIterationEnd"/> runs after every update with that update's
/// metrics (a callback may add its own, e.g. "eval/mean_return", before they are logged); returning
/// false ends training after the current update.
/// </summary>
public abstract class TrainingCallback
{
    public virtual void OnTrainingStart(IAgent agent) { }
    public virtual bool OnIterationEnd(IAgent agent, IDictionary<string, double> metrics) => true;
    public virtual void OnTrainingEnd(IAgent agent) { }
}

/// <summary>Evaluates the policy every <paramref name="everySteps"/> env steps on a separate env (deterministic by default).</summary>
public sealed class EvalCallback(Func<Envs.Vector.VecEnv> makeEnv, long everySteps, int episodes = 10, bool deterministic = true,
    double? stopAtMeanReturn = null, ulong seed = 12345) : TrainingCallback, IDisposable
{
    private Envs.Vector.VecEnv? _env;
    private long _next = everySteps;
    private readonly List<(long Step, EvaluationResult Result)> _history = [];

    public long EverySteps { get; } = everySteps > 0 ? everySteps : throw new ArgumentOutOfRangeException(nameof(everySteps), everySteps, "Evaluation interval must be > 0 steps.");
    public IReadOnlyList<(long Step, EvaluationResult Result)> History => _history;
    public EvaluationResult? Last => _history.Count == 0 ? null : _history[^1].Result;
    public double BestMeanReturn { get; private set; } = double.NegativeInfinity;
    /// <summary>True when training was stopped because the mean return reached the threshold.</summary>
    public bool ReachedThreshold { get; private set; }

    public override void OnTrainingStart(IAgent agent) => _next = (agent.NumTimesteps / EverySteps + 1) * EverySteps;

    public override bool OnIterationEnd(IAgent agent, IDictionary<string, double> metrics)
    {
        if (agent.NumTimesteps < _next) return true;
        _next = (agent.NumTimesteps / EverySteps + 1) * EverySteps;
        var result = Run(agent);
        metrics["eval/mean_return"] = result.MeanReturn;
        metrics["eval/std_return"] = result.StdReturn;
        metrics["eval/mean_length"] = result.MeanLength;
        if (stopAtMeanReturn is { } t && result.MeanReturn >= t) { ReachedThreshold = true; return false; }
        return true;
    }

    /// <summary>Evaluates now (also used by the CLI at the end of training).</summary>
    public EvaluationResult Run(IAgent agent)
    {
        _env ??= makeEnv();
        Evaluation.SyncNormalization(agent.Env, _env);
        // The same seed for every evaluation: successive figures differ only by the policy.
        var result = Evaluation.Evaluate(agent, _env, episodes, deterministic, seed);
        _history.Add((agent.NumTimesteps, result));
        BestMeanReturn = Math.Max(BestMeanReturn, result.MeanReturn);
        return result;
    }

    public void Dispose() => _env?.Dispose();
}

/// <summary>Saves the model every <paramref name="everySteps"/> env steps as checkpoints/model_&lt;steps&gt;.zip.</summary>
public sealed class CheckpointCallback(string directory, long everySteps) : TrainingCallback
{
    private long _next = everySteps;
    public long EverySteps { get; } = everySteps > 0 ? everySteps : throw new ArgumentOutOfRangeException(nameof(everySteps), everySteps, "Checkpoint interval must be > 0 steps.");
    public string Directory { get; } = directory ?? throw new ArgumentNullException(nameof(directory));
    public List<string> Saved { get; } = [];

    public override void OnTrainingStart(IAgent agent) => _next = (agent.NumTimesteps / EverySteps + 1) * EverySteps;

    public override bool OnIterationEnd(IAgent agent, IDictionary<string, double> metrics)
    {
        if (agent.NumTimesteps < _next) return true;
        _next = (agent.NumTimesteps / EverySteps + 1) * EverySteps;
        System.IO.Directory.CreateDirectory(Directory);
        string path = Path.Combine(Directory, $"model_{agent.NumTimesteps}.zip");
        agent.Save(path);
        Saved.Add(path);
        return true;
    }
}

/// <summary>Stops training once the mean return of recent training episodes reaches a threshold.</summary>
public sealed class StopOnRewardThreshold(double threshold, string metric = "rollout/episode_return_mean") : TrainingCallback
{
    public double Threshold { get; } = threshold;
    public override bool OnIterationEnd(IAgent agent, IDictionary<string, double> metrics)
        => !(metrics.TryGetValue(metric, out double v) && v >= Threshold);
}

/// <summary>Calls a delegate after each update (progress display, custom logging); returning false stops training.</summary>
public sealed class LambdaCallback(Func<IAgent, IDictionary<string, double>, bool> onIterationEnd) : TrainingCallback
{
    public override bool OnIterationEnd(IAgent agent, IDictionary<string, double> metrics) => onIterationEnd(agent, metrics);
}
