using System.Diagnostics;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Spaces;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// The off-policy loop (SAC, TD3, TQC): each iteration steps the N envs <c>train_freq</c> times — uniformly random
/// actions for the first <c>learning_starts</c> steps, then the algorithm's exploratory actions — storing every
/// transition (with the true final observation where an episode ended) in a <see cref="ReplayBuffer"/>; then, once
/// learning has started, runs <c>gradient_steps</c> of the algorithm's <see cref="TrainStep"/>, each on a fresh
/// minibatch sampled into caller-owned arrays. The algorithm implements acting and its update; the loop, the buffer
/// and its place in the model file are here.
/// </summary>
public abstract class OffPolicyAlgorithm : BaseAlgorithm
{
    private readonly OffPolicyOptions _options;
    private readonly float[] _actions, _envActions, _rewards, _nextObs, _prevObs;
    private readonly bool[] _terminated, _truncated;

    protected OffPolicyAlgorithm(VecEnv env, OffPolicyOptions options, string? envId, bool ownsEnv)
        : base(env, options, envId, ownsEnv)
    {
        _options = options;
        int n = options.NEnvs, od = env.ObservationSize, ad = env.ActionSize;
        Replay = new ReplayBuffer(options.BufferSize, od, ad);
        _actions = new float[n * ad];
        _envActions = new float[n * ad];
        _rewards = new float[n];
        _nextObs = new float[n * od];
        _prevObs = new float[n * od];
        _terminated = new bool[n];
        _truncated = new bool[n];
        int b = options.BatchSize;
        Batch = new Minibatch(new float[b * od], new float[b * ad], new float[b], new float[b * od], new bool[b]);
    }

    public ReplayBuffer Replay { get; }
    /// <summary>Gradient steps taken so far.</summary>
    public long GradientStepsTaken { get; private set; }

    /// <summary>One sampled minibatch: [B × obs], [B × act], [B], [B × obs], [B] (owned by the loop, refilled each step).</summary>
    protected sealed record Minibatch(float[] Observations, float[] Actions, float[] Rewards, float[] NextObservations, bool[] Terminated);
    protected Minibatch Batch { get; }

    protected sealed override void RunIteration(double scheduleFraction)
    {
        int n = _options.NEnvs, od = Env.ObservationSize;
        for (int s = 0; s < _options.TrainFreq; s++)
        {
            long a0 = Stopwatch.GetTimestamp();
            var obs = CurrentObservations;
            if (NumTimesteps < _options.LearningStarts)
                for (int i = 0; i < n; i++) SampleUniformAction(_actions.AsSpan(i * Env.ActionSize, Env.ActionSize));
            else
                ExploreActions(obs, n, _actions);
            ToEnvActions(_actions, _envActions);
            obs.CopyTo(_prevObs);
            AddInferenceTicks(Stopwatch.GetTimestamp() - a0);

            StepEnvs(_envActions, _rewards, _terminated, _truncated);

            // s′ is the next observation of the same episode: the final one where an episode just ended.
            CurrentObservations.CopyTo(_nextObs);
            var has = Env.HasFinalObservation;
            var final = Env.FinalObservations;
            for (int i = 0; i < n; i++)
                if ((_terminated[i] || _truncated[i]) && has[i]) final.Slice(i * od, od).CopyTo(_nextObs.AsSpan(i * od, od));
            Replay.Add(_prevObs, StoredActions(_actions), _rewards, _nextObs, _terminated);
        }
        if (NumTimesteps < _options.LearningStarts || Replay.Count == 0) return;
        _updateFraction = scheduleFraction;
        TimedUpdate(_update ??= RunUpdates); // one cached delegate: a lambda capturing the fraction allocated every env step
    }

    private double _updateFraction;
    private Action? _update;

    /// <summary>The iteration's <c>gradient_steps</c> updates, each on a fresh minibatch, at <see cref="_updateFraction"/>.</summary>
    private void RunUpdates()
    {
        for (int g = 0; g < _options.GradientSteps; g++)
        {
            Replay.Sample(TrainRng, Batch.Observations, Batch.Actions, Batch.Rewards, Batch.NextObservations, Batch.Terminated);
            TrainStep(_updateFraction);
            GradientStepsTaken++;
        }
        IterationMetrics["train/gradient_steps"] = GradientStepsTaken;
        IterationMetrics["train/buffer_size"] = Replay.Count;
    }

    /// <summary>
    /// Runs <paramref name="gradientSteps"/> gradient steps now, each on a fresh minibatch sampled from the replay buffer
    /// (SB3's <c>train(gradient_steps)</c>), at the schedule fraction of the current step, outside <see cref="BaseAlgorithm.Learn"/>:
    /// for custom loops and for timing the update alone (<c>proximal bench nn</c>). The buffer must hold transitions.
    /// </summary>
    public void Train(int gradientSteps = 1)
    {
        if (gradientSteps < 1) throw new ArgumentOutOfRangeException(nameof(gradientSteps), gradientSteps, "Train needs at least one gradient step.");
        if (Replay.Count == 0) throw new InvalidOperationException("Train samples from the replay buffer, which is empty: Learn first (it stores every step it takes).");
        double fraction = Schedule.FractionAt(NumTimesteps);
        for (int g = 0; g < gradientSteps; g++)
        {
            Replay.Sample(TrainRng, Batch.Observations, Batch.Actions, Batch.Rewards, Batch.NextObservations, Batch.Terminated);
            TrainStep(fraction);
            GradientStepsTaken++;
        }
    }

    /// <summary>A uniformly random action in the space's policy coordinates (before <see cref="BaseAlgorithm.ToEnvActions"/>).</summary>
    protected virtual void SampleUniformAction(Span<float> action)
    {
        if (ActionSpace is Box box && !box.IsBounded)
            throw new NotSupportedException($"Off-policy algorithms need a bounded Box action space for their warm-up actions; got {box}.");
        ActionSpace.Sample(TrainRng, action);
    }

    /// <summary>The algorithm's exploratory actions for the N current observations (e.g. SAC samples, TD3 adds noise).</summary>
    protected abstract void ExploreActions(ReadOnlySpan<float> observations, int count, Span<float> actions);

    /// <summary>What the buffer stores for taken actions (e.g. rescaled to [−1, 1]); the actions as taken by default.</summary>
    protected virtual ReadOnlySpan<float> StoredActions(ReadOnlySpan<float> actions) => actions;

    /// <summary>One gradient step on <see cref="Batch"/> (just sampled).</summary>
    protected abstract void TrainStep(double scheduleFraction);

    protected override void SaveState(ModelStateWriter writer)
    {
        writer.Metadata["gradient_steps_taken"] = GradientStepsTaken;
        writer.Metadata["replay_saved"] = _options.SaveReplayBuffer;
        if (!_options.SaveReplayBuffer) return;
        int rows = Replay.Count < Replay.Capacity ? Replay.Count : Replay.Capacity;
        // The ring's raw arrays up to what is filled (rows below Count), so sampling resumes exactly.
        writer.Add(new ModelArray("replay/observations", Replay.ObservationsArray.AsMemory(0, rows * Replay.ObservationSize)));
        writer.Add(new ModelArray("replay/next_observations", Replay.NextObservationsArray.AsMemory(0, rows * Replay.ObservationSize)));
        writer.Add(new ModelArray("replay/actions", Replay.ActionsArray.AsMemory(0, rows * Replay.ActionSize)));
        writer.Add(new ModelArray("replay/rewards", Replay.RewardsArray.AsMemory(0, rows)));
        var term = new float[rows];
        for (int i = 0; i < rows; i++) term[i] = Replay.TerminatedArray[i] ? 1 : 0;
        writer.Add(new ModelArray("replay/terminated", term.AsMemory()));
        writer.Add(new ModelArray("replay/bookkeeping", Replay.Bookkeeping.AsMemory()));
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        GradientStepsTaken = reader.Metadata["gradient_steps_taken"] is null ? 0 : reader.GetLong("gradient_steps_taken");
        if (!reader.Has("replay/bookkeeping")) return; // saved without its buffer: refills from learning_starts
        var model = reader.Model;
        var book = model.GetInt64("replay/bookkeeping", 3).Span;
        int rows = (int)Math.Min(book[1], Replay.Capacity);
        try { Replay.LoadBookkeeping(book); }
        catch (ArgumentException e) { throw new ModelFileException(reader.Path, $"model file {reader.Path}: {e.Message}"); }
        model.GetFloat32("replay/observations", rows * Replay.ObservationSize).Span.CopyTo(Replay.ObservationsArray);
        model.GetFloat32("replay/next_observations", rows * Replay.ObservationSize).Span.CopyTo(Replay.NextObservationsArray);
        model.GetFloat32("replay/actions", rows * Replay.ActionSize).Span.CopyTo(Replay.ActionsArray);
        model.GetFloat32("replay/rewards", rows).Span.CopyTo(Replay.RewardsArray);
        var term = model.GetFloat32("replay/terminated", rows).Span;
        for (int i = 0; i < rows; i++) Replay.TerminatedArray[i] = term[i] != 0;
    }
}
