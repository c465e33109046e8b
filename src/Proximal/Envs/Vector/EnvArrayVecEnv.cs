using System.Diagnostics;
using Proximal.Spaces;

namespace Proximal.Envs.Vector;

/// <summary>
/// The shared body of <see cref="SyncVecEnv"/> and <see cref="ThreadedVecEnv"/>: an array of envs, the
/// final-observation buffers and the per-env step-and-auto-reset routine. Each env only touches its own rows,
/// so any split of the envs over threads gives the same numbers.
/// </summary>
public abstract unsafe class EnvArrayVecEnv : VecEnv
{
    private readonly IEnv[] _envs;
    private readonly int _obsSize, _actSize;
    private readonly float[] _final;
    private readonly bool[] _hasFinal;
    private readonly int[] _episodeStep;
    private readonly Exception?[] _exceptions;
    private readonly Fault[] _faults;
    private volatile bool _anyFault;
    private bool _needsReset = true;
    private ulong? _baseSeed;
    private long _stepCount;

    // Buffers of the call in progress, pinned by the caller for its duration (workers read them).
    private float* _obs, _rew;
    private float* _act;
    private bool* _term, _trunc;

    private struct Fault { public string? Quantity; public int Element; public double Value; public int EpisodeStep; }

    private protected EnvArrayVecEnv(IReadOnlyList<IEnv> envs)
    {
        ArgumentNullException.ThrowIfNull(envs);
        if (envs.Count == 0) throw new ArgumentException("A VecEnv needs at least one env.", nameof(envs));
        _envs = envs.ToArray();
        for (int i = 0; i < _envs.Length; i++)
            if (_envs[i] is null) throw new ArgumentException($"Env {i} is null.", nameof(envs));
        for (int i = 0; i < _envs.Length; i++)
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(_envs[i], _envs[j])) throw new ArgumentException($"Envs {j} and {i} are the same object; a VecEnv needs N separate envs.", nameof(envs));
        SingleObservationSpace = _envs[0].ObservationSpace;
        SingleActionSpace = _envs[0].ActionSpace;
        _obsSize = SingleObservationSpace.FlatSize;
        _actSize = SingleActionSpace.FlatSize;
        for (int i = 1; i < _envs.Length; i++)
        {
            var e = _envs[i];
            if (e.ObservationSpace.GetType() != SingleObservationSpace.GetType() || e.ObservationSpace.FlatSize != _obsSize)
                throw new ArgumentException($"Env {i} has observation space {e.ObservationSpace}, env 0 has {SingleObservationSpace}; all envs must match.", nameof(envs));
            if (e.ActionSpace.GetType() != SingleActionSpace.GetType() || e.ActionSpace.FlatSize != _actSize)
                throw new ArgumentException($"Env {i} has action space {e.ActionSpace}, env 0 has {SingleActionSpace}; all envs must match.", nameof(envs));
        }
        _maskProviders = MaskProviders(_envs);
        if (_maskProviders is not null) _masks = new bool[_envs.Length * ((Spaces.Discrete)SingleActionSpace).N];
        _final = new float[_envs.Length * _obsSize];
        _hasFinal = new bool[_envs.Length];
        _episodeStep = new int[_envs.Length];
        _exceptions = new Exception?[_envs.Length];
        _faults = new Fault[_envs.Length];
    }

    // [action masks] Each env's legal actions after its latest reset or step, gathered here when every env provides them.
    private readonly IActionMaskProvider[]? _maskProviders;
    private readonly bool[] _masks = [];

    public override ReadOnlySpan<bool> ActionMasks => _masks;

    /// <summary>The mask providers of the envs (looking through wrappers), or null unless every env has one and actions are Discrete.</summary>
    private IActionMaskProvider[]? MaskProviders(IEnv[] envs)
    {
        if (SingleActionSpace is not Spaces.Discrete) return null;
        var providers = new IActionMaskProvider[envs.Length];
        for (int i = 0; i < envs.Length; i++)
        {
            IEnv e = envs[i];
            while (e is not IActionMaskProvider && e is Wrappers.EnvWrapper w) e = w.Inner;
            if (e is not IActionMaskProvider p) return null;
            providers[i] = p;
        }
        return providers;
    }

    /// <summary>Copies env i's mask into its row; a mask of the wrong length is the env's fault, reported like its exceptions.</summary>
    private void GatherMask(int i)
    {
        if (_maskProviders is null) return;
        var mask = _maskProviders[i].ActionMask;
        int n = _masks.Length / _envs.Length;
        if (mask.Length != n)
            throw new InvalidOperationException($"its action mask has {mask.Length} entries; the action space has {n} actions.");
        mask.CopyTo(_masks.AsSpan(i * n, n));
    }

    public IReadOnlyList<IEnv> Envs => _envs;
    public override int NumEnvs => _envs.Length;
    public override Space SingleObservationSpace { get; }
    public override Space SingleActionSpace { get; }
    public override ReadOnlySpan<float> FinalObservations => _final;
    public override ReadOnlySpan<bool> HasFinalObservation => _hasFinal;
    public override long StepCount => _stepCount;

    public override void Reset(Span<float> observations, ulong? seed = null)
    {
        CheckObservations(observations);
        // Unseeded first reset: draw one base seed so the N envs still start differently (seed + i).
        if (seed is null && _baseSeed is null) seed = EnvSeeding.EntropySeed();
        _baseSeed = seed ?? _baseSeed;
        Array.Clear(_hasFinal);
        Array.Clear(_episodeStep);
        fixed (float* o = observations)
        {
            _obs = o;
            _seedForReset = seed;
            try { RunAll(Command.Reset); }
            finally { _obs = null; }
        }
        ThrowIfFaulted("reset");
        _needsReset = false;
    }

    private ulong? _seedForReset;

    public override void Step(ReadOnlySpan<float> actions, Span<float> observations, Span<float> rewards, Span<bool> terminated, Span<bool> truncated)
    {
        CheckStepBuffers(actions, observations, rewards, terminated, truncated);
        if (_needsReset) throw new InvalidOperationException("Call Reset before Step (after construction, or after an env failed).");
        fixed (float* a = actions)
        fixed (float* o = observations)
        fixed (float* r = rewards)
        fixed (bool* te = terminated)
        fixed (bool* tr = truncated)
        {
            _act = a; _obs = o; _rew = r; _term = te; _trunc = tr;
            try { RunAll(Command.Step); }
            finally { _act = null; _obs = null; _rew = null; _term = null; _trunc = null; }
        }
        ThrowIfFaulted("step");
        _stepCount++;
    }

    public override bool TrySaveSnapshot(IDictionary<string, double[]> snapshot)
    {
        if (_needsReset) return false;
        var parts = new double[_envs.Length][];
        for (int i = 0; i < _envs.Length; i++)
        {
            int size = EnvChainSnapshot.Size(_envs[i]);
            if (size < 0) return false;
            parts[i] = new double[size];
            EnvChainSnapshot.Save(_envs[i], parts[i]);
        }
        for (int i = 0; i < parts.Length; i++) snapshot[$"envs/{i}"] = parts[i];
        snapshot["vec/episode_step"] = Array.ConvertAll(_episodeStep, s => (double)s);
        snapshot["vec/step_count"] = [_stepCount];
        return true;
    }

    public override void LoadSnapshot(IReadOnlyDictionary<string, double[]> snapshot)
    {
        for (int i = 0; i < _envs.Length; i++)
        {
            int size = EnvChainSnapshot.Size(_envs[i]);
            if (size < 0) throw new NotSupportedException($"Env {i} ({_envs[i]}) cannot restore a snapshot.");
            EnvChainSnapshot.Load(_envs[i], SnapshotEntry(snapshot, $"envs/{i}", size));
        }
        var steps = SnapshotEntry(snapshot, "vec/episode_step", _envs.Length);
        for (int i = 0; i < steps.Length; i++) _episodeStep[i] = checked((int)steps[i]);
        _stepCount = checked((long)SnapshotEntry(snapshot, "vec/step_count", 1)[0]);
        Array.Clear(_hasFinal);
        _needsReset = false;
    }

    private protected enum Command { Step = 1, Reset = 2, Stop = 3 }

    /// <summary>Runs <paramref name="command"/> over all envs (by calling <see cref="RunRange"/> on blocks), returning when all are done.</summary>
    private protected abstract void RunAll(Command command);

    private protected void RunRange(Command command, int start, int end)
    {
        if (command == Command.Step) StepRange(start, end);
        else if (command == Command.Reset) ResetRange(start, end);
    }

    private void ResetRange(int start, int end)
    {
        int o = _obsSize;
        for (int i = start; i < end; i++)
        {
            var obs = new Span<float>(_obs + (long)i * o, o);
            try { _envs[i].Reset(obs, _seedForReset is { } s ? unchecked(s + (ulong)i) : null); GatherMask(i); }
            catch (Exception e) { _exceptions[i] = e; _anyFault = true; return; }
            CheckObservation(i, obs, "reset observation");
        }
    }

    private void StepRange(int start, int end)
    {
        int o = _obsSize, a = _actSize;
        var final = _final;
        for (int i = start; i < end; i++)
        {
            var obs = new Span<float>(_obs + (long)i * o, o);
            StepResult r;
            try { r = _envs[i].Step(new ReadOnlySpan<float>(_act + (long)i * a, a), obs); }
            catch (Exception e) { _exceptions[i] = e; _anyFault = true; return; }
            int step = ++_episodeStep[i];
            float reward = (float)r.Reward;
            _rew[i] = reward;
            _term[i] = r.Terminated;
            _trunc[i] = r.Truncated;
            if (!float.IsFinite(reward)) Record(i, "reward", -1, r.Reward);
            CheckObservation(i, obs, "observation");
            if (r.Terminated || r.Truncated)
            {
                obs.CopyTo(final.AsSpan(i * o, o));
                _hasFinal[i] = true;
                _episodeStep[i] = 0;
                try { _envs[i].Reset(obs, null); }
                catch (Exception e) { _exceptions[i] = e; _anyFault = true; return; }
                CheckObservation(i, obs, "reset observation");
            }
            else _hasFinal[i] = false;
            try { GatherMask(i); } // the mask of the observation now in obs (the new episode's after an auto-reset)
            catch (Exception e) { _exceptions[i] = e; _anyFault = true; return; }
        }
    }

    private void CheckObservation(int i, ReadOnlySpan<float> obs, string quantity)
    {
        int k = Finite.FirstNonFinite(obs);
        if (k >= 0) Record(i, quantity, k, obs[k]);
    }

    private void Record(int i, string quantity, int element, double value)
    {
        if (_faults[i].Quantity is null) _faults[i] = new Fault { Quantity = quantity, Element = element, Value = value, EpisodeStep = _episodeStep[i] };
        _anyFault = true;
    }

    private void ThrowIfFaulted(string operation)
    {
        if (!_anyFault) return;
        _anyFault = false;
        _needsReset = true;
        // Report the lowest env index so the message does not depend on thread timing.
        for (int i = 0; i < _envs.Length; i++)
        {
            var e = _exceptions[i];
            var f = _faults[i];
            _exceptions[i] = null;
            _faults[i] = default;
            if (e is not null)
            {
                ClearFaults(i + 1);
                throw new EnvStepException(i, _stepCount, operation, e);
            }
            if (f.Quantity is not null)
            {
                ClearFaults(i + 1);
                throw new NonFiniteValueException(i, _stepCount, f.EpisodeStep, f.Quantity, f.Element, f.Value);
            }
        }
    }

    private void ClearFaults(int from)
    {
        for (int j = from; j < _envs.Length; j++) { _exceptions[j] = null; _faults[j] = default; }
    }

    protected void DisposeEnvs()
    {
        foreach (var e in _envs) e.Dispose();
    }

    [Conditional("DEBUG")]
    private protected static void AssertRange(int start, int end, int n) => Debug.Assert(0 <= start && start <= end && end <= n);
}
