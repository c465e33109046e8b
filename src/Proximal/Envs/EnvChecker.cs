using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Envs;

/// <summary>How thoroughly <see cref="EnvChecker"/> exercises an env.</summary>
public sealed record EnvCheckOptions
{
    /// <summary>Random-action steps taken (resetting at episode ends).</summary>
    public int Steps { get; init; } = 200;
    public ulong Seed { get; init; } = 12345;
    /// <summary>Replay the first steps under the same seed and actions and require identical results.</summary>
    public bool CheckDeterminism { get; init; } = true;
    /// <summary>Require that wrongly sized action and observation buffers are rejected with an ArgumentException.</summary>
    public bool CheckBufferValidation { get; init; } = true;
}

/// <summary>What <see cref="EnvChecker.Check"/> found: every problem, each as a sentence.</summary>
public sealed class EnvCheckReport(string env, IReadOnlyList<string> problems)
{
    public string Env { get; } = env;
    public IReadOnlyList<string> Problems { get; } = problems;
    public bool Passed => Problems.Count == 0;

    public void ThrowIfFailed()
    {
        if (!Passed) throw new InvalidOperationException(ToString());
    }

    public override string ToString() => Passed
        ? $"{Env}: all checks passed."
        : $"{Env}: {Problems.Count} problem{(Problems.Count == 1 ? "" : "s")}:\n" + string.Join("\n", Problems.Select(p => "  - " + p));
}

/// <summary>
/// Validates a user's environment against the <see cref="IEnv"/> contract: spaces, observations inside the
/// observation space and fully written, finite rewards and observations, reset/step behaviour (episode ends,
/// buffer validation) and determinism under a seed. Reports every problem rather than stopping at the first.
/// </summary>
public static class EnvChecker
{
    public static EnvCheckReport Check(IEnv env, EnvCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        options ??= new EnvCheckOptions();
        if (options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Steps, "EnvCheckOptions.Steps must be ≥ 1.");
        var problems = new List<string>();
        var seen = new HashSet<string>();
        void Problem(string key, string message)
        {
            // One report per kind of problem, so 200 identical failures read as one.
            if (seen.Add(key)) problems.Add(message);
        }
        string name = env.GetType().Name;

        Space? obsSpace = null, actSpace = null;
        try { obsSpace = env.ObservationSpace; } catch (Exception e) { Problem("obs-space", $"ObservationSpace threw {e.GetType().Name}: {e.Message}"); }
        try { actSpace = env.ActionSpace; } catch (Exception e) { Problem("act-space", $"ActionSpace threw {e.GetType().Name}: {e.Message}"); }
        if (obsSpace is null) Problem("obs-space", "ObservationSpace is null.");
        if (actSpace is null) Problem("act-space", "ActionSpace is null.");
        if (obsSpace is null || actSpace is null) return new EnvCheckReport(name, problems);
        if (obsSpace.FlatSize <= 0) Problem("obs-size", $"ObservationSpace {obsSpace} has FlatSize {obsSpace.FlatSize}; it must be > 0.");
        if (actSpace.FlatSize <= 0) Problem("act-size", $"ActionSpace {actSpace} has FlatSize {actSpace.FlatSize}; it must be > 0.");
        if (problems.Count > 0) return new EnvCheckReport(name, problems);
        if (obsSpace is Box ob && Array.Exists(ob.Low.ToArray(), float.IsNaN)) Problem("obs-box", "ObservationSpace has NaN bounds.");

        int o = obsSpace.FlatSize, a = actSpace.FlatSize;
        var obs = new float[o];
        var action = new float[a];

        bool Reset(ulong? seed, string when)
        {
            Array.Fill(obs, float.NaN);
            try { env.Reset(obs, seed); }
            catch (Exception e) { Problem("reset-throw", $"Reset({(seed is null ? "" : $"seed: {seed}")}) {when} threw {e.GetType().Name}: {e.Message}"); return false; }
            CheckObservation("Reset", when);
            return true;
        }

        void CheckObservation(string call, string when)
        {
            int bad = Finite.FirstNonFinite(obs);
            if (bad >= 0)
            {
                Problem($"{call}-nonfinite", float.IsNaN(obs[bad])
                    ? $"{call} {when} left observation element {bad} NaN (not written, or NaN); every one of the {o} elements must be written with a finite value."
                    : $"{call} {when} wrote {obs[bad]} to observation element {bad}; observations must be finite.");
                return;
            }
            if (obsSpace.Explain(obs) is { } why) Problem($"{call}-space", $"{call} {when} returned an observation outside ObservationSpace {obsSpace}: {why}.");
        }

        var rng = new Rng(options.Seed ^ 0x5DEECE66DUL);
        bool resetOk = Reset(options.Seed, "with a seed");

        // Random rollout: spaces, finiteness and the episode contract.
        int determinismSteps = Math.Min(options.Steps, 50);
        var recordedObs = new float[determinismSteps * o];
        var recordedActions = new float[determinismSteps * a];
        var recordedResults = new StepResult[determinismSteps];
        int episodes = 0;
        if (resetOk)
        {
            var initial = (float[])obs.Clone();
            for (int t = 0; t < options.Steps; t++)
            {
                actSpace.Sample(rng, action);
                StepResult r;
                Array.Fill(obs, float.NaN);
                try { r = env.Step(action, obs); }
                catch (Exception e) { Problem("step-throw", $"Step {t} with action [{string.Join(", ", action)}] (inside ActionSpace {actSpace}) threw {e.GetType().Name}: {e.Message}"); break; }
                CheckObservation("Step", $"at step {t}");
                if (!double.IsFinite(r.Reward)) Problem("reward", $"Step {t} returned reward {r.Reward}; rewards must be finite.");
                if (t < determinismSteps)
                {
                    obs.CopyTo(recordedObs, t * o);
                    action.CopyTo(recordedActions, t * a);
                    recordedResults[t] = r;
                }
                if (r.Terminated || r.Truncated)
                {
                    episodes++;
                    if (!Reset(null, $"after the episode ended at step {t}")) break;
                    if (t + 1 < determinismSteps) { determinismSteps = t + 1; }
                }
            }

            if (options.CheckDeterminism)
            {
                if (Reset(options.Seed, "with the same seed again"))
                {
                    if (!obs.AsSpan().SequenceEqual(initial))
                        Problem("determinism-reset", $"Reset with seed {options.Seed} twice gave different observations ([{string.Join(", ", initial)}] then [{string.Join(", ", obs)}]); Reset(seed) must reseed the env's generator.");
                    else
                        for (int t = 0; t < determinismSteps; t++)
                        {
                            StepResult r;
                            try { r = env.Step(recordedActions.AsSpan(t * a, a), obs); }
                            catch (Exception e) { Problem("step-throw", $"Step {t} of the replay threw {e.GetType().Name}: {e.Message}"); break; }
                            if (!obs.AsSpan().SequenceEqual(recordedObs.AsSpan(t * o, o)) || !r.Equals(recordedResults[t]))
                            {
                                Problem("determinism-step", $"Replaying the same seed and actions diverged at step {t}: first run gave {recordedResults[t]}, replay gave {r}" +
                                        (obs.AsSpan().SequenceEqual(recordedObs.AsSpan(t * o, o)) ? "." : " and a different observation.") +
                                        " An env must depend only on its seed and actions (no shared or unseeded random generator, no clock).");
                                break;
                            }
                            if (r.Terminated || r.Truncated) break;
                        }
                }
            }
        }

        if (options.CheckBufferValidation && resetOk)
        {
            ExpectArgumentException(() => env.Reset(new float[o + 1], options.Seed), $"Reset accepted an observation buffer of {o + 1} values (expected {o}).", Problem);
            Reset(options.Seed, "before the buffer checks");
            ExpectArgumentException(() => env.Step(new float[a + 1], obs), $"Step accepted an action of {a + 1} values (expected {a}).", Problem);
            Reset(options.Seed, "before the buffer checks");
            actSpace.Sample(rng, action);
            ExpectArgumentException(() => env.Step(action, new float[o + 1]), $"Step accepted an observation buffer of {o + 1} values (expected {o}).", Problem);
        }
        return new EnvCheckReport(name, problems);
    }

    private static void ExpectArgumentException(Action call, string message, Action<string, string> problem)
    {
        try { call(); }
        catch (ArgumentException) { return; }
        catch (Exception e) { problem(message, $"{message[..^1]} and threw {e.GetType().Name} instead of an ArgumentException: {e.Message}"); return; }
        problem(message, message + " Wrongly sized buffers must throw an ArgumentException naming the size expected.");
    }
}
