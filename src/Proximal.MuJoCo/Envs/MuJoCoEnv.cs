using System.Reflection;
using Proximal.Envs;
using Proximal.MuJoCo.Binding;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.MuJoCo.Envs;

/// <summary>
/// Common machinery of the Gymnasium v4 MuJoCo tasks: model from an embedded MJCF file, action space
/// from the actuators' ctrlrange, step = ctrl ← action, frame_skip mj_step calls, mj_rnePostConstraint.
/// Observations are computed in float64 and cast to float32. No time limit here: the registry's
/// TimeLimit wrapper adds it.
/// <para>Full state (<see cref="ISimulationState"/>), as doubles: time, qpos (nq), qvel (nv), act (na),
/// qacc_warmstart (nv: the constraint solver warm-starts from it, so without it the next step differs in
/// the last bits), the generator (<see cref="Rng.StateLength"/> ulongs, bit patterns stored as doubles),
/// then the task's own values (<see cref="TaskStateSize"/>). Restoring it on a fresh env of the same task
/// continues bit for bit, e.g. to resume training exactly.</para>
/// </summary>
public abstract class MuJoCoEnv : IEnv, ISimulationState, IEnvSnapshot
{
    // The full simulation state already includes the generator, so it is also the training-resume snapshot.
    int IEnvSnapshot.SnapshotSize => StateSize;
    void IEnvSnapshot.SaveSnapshot(Span<double> snapshot) => GetState(snapshot);
    void IEnvSnapshot.LoadSnapshot(ReadOnlySpan<double> snapshot) => SetState(snapshot);

    private readonly Rng _rng;
    private bool _needsReset = true;

    protected MuJoCoEnv(string modelFile, int frameSkip, int observationSize, ulong seed)
    {
        if (frameSkip < 1) throw new ArgumentOutOfRangeException(nameof(frameSkip), frameSkip, "frame_skip must be at least 1.");
        Model = MjModel.FromXmlString(LoadEmbeddedModel(modelFile));
        try
        {
            Data = new MjData(Model);
        }
        catch
        {
            Model.Dispose();
            throw;
        }
        FrameSkip = frameSkip;
        Dt = Model.Timestep * frameSkip;
        InitQpos = Model.Qpos0.ToArray();
        InitQvel = new double[Model.Nv];
        ObservationSpace = new Box(float.NegativeInfinity, float.PositiveInfinity, observationSize);
        ActionSpace = ActionSpaceFromActuators(Model);
        _rng = new Rng(seed);
    }

    public MjModel Model { get; }
    public MjData Data { get; }
    public int FrameSkip { get; }
    /// <summary>Seconds per env step: timestep × frame_skip.</summary>
    public double Dt { get; }
    public Space ObservationSpace { get; }
    public Space ActionSpace { get; }
    protected double[] InitQpos { get; }
    protected double[] InitQvel { get; }

    public void Reset(Span<float> observation, ulong? seed = null)
    {
        CheckObservation(observation);
        if (seed is { } s) _rng.Reseed(s);
        Data.Reset();
        ResetModel(_rng);
        // As Gymnasium's set_state: derived quantities (xpos, xipos, ...) match the new state.
        Data.Forward();
        _needsReset = false;
        WriteObservation(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != Model.Nu)
            throw new ArgumentException($"{GetType().Name} expects an action of {Model.Nu} values, got {action.Length}.", nameof(action));
        CheckObservation(observation);
        if (_needsReset) throw new InvalidOperationException($"{GetType().Name}: call Reset before the first Step.");
        return StepCore(action, observation);
    }

    public int StateSize => 1 + 2 * Model.Nv + Model.Nq + Model.Na + Rng.StateLength + TaskStateSize;

    public void GetState(Span<double> state)
    {
        CheckStateLength(state.Length);
        int o = 0;
        state[o++] = Data.Time;
        Append(Data.Qpos, state, ref o);
        Append(Data.Qvel, state, ref o);
        Append(Data.Act, state, ref o);
        Append(Data.QaccWarmstart, state, ref o);
        Span<ulong> rng = stackalloc ulong[Rng.StateLength];
        _rng.GetState(rng);
        foreach (ulong word in rng) state[o++] = BitConverter.UInt64BitsToDouble(word);
        GetTaskState(state[o..]);
    }

    /// <summary>Restores a state from <see cref="GetState"/> (of this env or another env of the same task);
    /// the next <c>Step</c> continues exactly as the saved env would have.</summary>
    public void SetState(ReadOnlySpan<double> state)
    {
        CheckStateLength(state.Length);
        int nq = Model.Nq, nv = Model.Nv, na = Model.Na;
        ReadOnlySpan<double> qpos = state.Slice(1, nq), qvel = state.Slice(1 + nq, nv), act = state.Slice(1 + nq + nv, na);
        ReadOnlySpan<double> warmstart = state.Slice(1 + nq + nv + na, nv);
        int rngAt = 1 + nq + 2 * nv + na;
        CheckFinite(state[..1], "time", 0);
        CheckFinite(qpos, "qpos", 1);
        CheckFinite(qvel, "qvel", 1 + nq);
        CheckFinite(act, "act", 1 + nq + nv);
        CheckFinite(warmstart, "qacc_warmstart", 1 + nq + nv + na);
        Span<ulong> rng = stackalloc ulong[Rng.StateLength];
        for (int i = 0; i < rng.Length; i++) rng[i] = BitConverter.DoubleToUInt64Bits(state[rngAt + i]);
        _rng.SetState(rng);  // validates first, so a corrupt generator leaves the simulator untouched
        Data.Time = state[0];
        qpos.CopyTo(Data.Qpos);
        qvel.CopyTo(Data.Qvel);
        act.CopyTo(Data.Act);
        // mj_forward makes every derived quantity match the state; it does not advance time.
        Data.Forward();
        warmstart.CopyTo(Data.QaccWarmstart);
        SetTaskState(state[(rngAt + Rng.StateLength)..]);
        _needsReset = false;
    }

    /// <summary>Gymnasium's <c>set_state(qpos, qvel)</c>: sets the configuration and velocities, keeps time,
    /// activations and the generator, and recomputes every derived quantity (as after a reset). Use
    /// <see cref="SetState"/> instead to continue a saved trajectory bit for bit.</summary>
    public void SetPhysicsState(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel)
    {
        if (qpos.Length != Model.Nq) throw new ArgumentException($"{GetType().Name}: qpos has {qpos.Length} values, the model has nq = {Model.Nq}.", nameof(qpos));
        if (qvel.Length != Model.Nv) throw new ArgumentException($"{GetType().Name}: qvel has {qvel.Length} values, the model has nv = {Model.Nv}.", nameof(qvel));
        CheckFinite(qpos, "qpos", -1);
        CheckFinite(qvel, "qvel", -1);
        qpos.CopyTo(Data.Qpos);
        qvel.CopyTo(Data.Qvel);
        Data.Forward();
        _needsReset = false;
    }

    /// <summary>Writes the current observation (e.g. after <see cref="SetState"/> or <see cref="SetPhysicsState"/>).</summary>
    public void GetObservation(Span<float> observation)
    {
        CheckObservation(observation);
        WriteObservation(observation);
    }

    /// <summary>Number of task-specific doubles at the end of the state: values of derived quantities that
    /// the next step reads BEFORE it simulates. MuJoCo leaves those from the last substep's forward pass
    /// (not recomputed at the final state), so a recomputation on restore would differ; the state carries them.</summary>
    protected virtual int TaskStateSize => 0;

    protected virtual void GetTaskState(Span<double> state) { }

    /// <summary>Called after the physics state is restored and mj_forward has run.</summary>
    protected virtual void SetTaskState(ReadOnlySpan<double> state) { }

    private static void Append(ReadOnlySpan<double> values, Span<double> destination, ref int offset)
    {
        values.CopyTo(destination[offset..]);
        offset += values.Length;
    }

    private void CheckStateLength(int length)
    {
        if (length != StateSize)
            throw new ArgumentException($"{GetType().Name} state has {StateSize} values (time 1, qpos {Model.Nq}, qvel {Model.Nv}, act {Model.Na}, " +
                                        $"qacc_warmstart {Model.Nv}, generator {Rng.StateLength}, task {TaskStateSize}), but the buffer holds {length}.", "state");
    }

    /// <param name="stateOffset">Where <paramref name="values"/> start in the state vector (negative: not part of one).</param>
    private void CheckFinite(ReadOnlySpan<double> values, string what, int stateOffset)
    {
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new ArgumentException($"{GetType().Name}: {what}[{i}]{(stateOffset >= 0 ? $" (state value {stateOffset + i})" : "")} is {values[i]}; a MuJoCo state must be finite.",
                    stateOffset >= 0 ? "state" : what);
    }

    /// <summary>Sets ctrl = action and advances one env step (frame_skip substeps + mj_rnePostConstraint).</summary>
    protected void Simulate(ReadOnlySpan<float> action) => Data.Step(action, FrameSkip, rnePostConstraint: true);

    /// <summary>Draws the reset state (Data is at the model's default pose when called).</summary>
    protected abstract void ResetModel(Rng rng);

    protected abstract StepResult StepCore(ReadOnlySpan<float> action, Span<float> observation);

    protected abstract void WriteObservation(Span<float> observation);

    /// <summary>qpos ← InitQpos + U(±qposScale), qvel ← InitQvel + U(±qvelScale).</summary>
    protected void SetUniformNoiseState(Rng rng, double qposScale, double qvelScale)
    {
        Span<double> qpos = Data.Qpos, qvel = Data.Qvel;
        for (int i = 0; i < qpos.Length; i++) qpos[i] = InitQpos[i] + rng.Uniform(-qposScale, qposScale);
        for (int i = 0; i < qvel.Length; i++) qvel[i] = InitQvel[i] + rng.Uniform(-qvelScale, qvelScale);
    }

    /// <summary>qpos ← InitQpos + U(±qposScale), qvel ← InitQvel + qvelScale·N(0, 1).</summary>
    protected void SetUniformGaussianNoiseState(Rng rng, double qposScale, double qvelScale)
    {
        Span<double> qpos = Data.Qpos, qvel = Data.Qvel;
        for (int i = 0; i < qpos.Length; i++) qpos[i] = InitQpos[i] + rng.Uniform(-qposScale, qposScale);
        for (int i = 0; i < qvel.Length; i++) qvel[i] = InitQvel[i] + qvelScale * rng.NextGaussian();
    }

    protected static double SumOfSquares(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += (double)v * v;
        return sum;
    }

    protected static void WriteClipped(ReadOnlySpan<double> values, double bound, Span<float> destination)
    {
        for (int i = 0; i < values.Length; i++) destination[i] = (float)Math.Clamp(values[i], -bound, bound);
    }

    protected static void Write(ReadOnlySpan<double> values, Span<float> destination)
    {
        for (int i = 0; i < values.Length; i++) destination[i] = (float)values[i];
    }

    private void CheckObservation(Span<float> observation)
    {
        if (observation.Length != ObservationSpace.FlatSize)
            throw new ArgumentException($"{GetType().Name} writes {ObservationSpace.FlatSize} observation values, but the buffer holds {observation.Length}.", nameof(observation));
    }

    private static Box ActionSpaceFromActuators(MjModel model)
    {
        var low = new float[model.Nu];
        var high = new float[model.Nu];
        ReadOnlySpan<double> range = model.ActuatorCtrlRange;
        ReadOnlySpan<byte> limited = model.ActuatorCtrlLimited;
        for (int i = 0; i < model.Nu; i++)
        {
            // Gymnasium: Box(low=ctrlrange[:, 0], high=ctrlrange[:, 1]); every v4 actuator is ctrl-limited.
            if (limited[i] == 0) throw new InvalidOperationException($"Actuator {i} has no ctrlrange; the v4 tasks need bounded actions.");
            low[i] = (float)range[2 * i];
            high[i] = (float)range[2 * i + 1];
        }
        return new Box(low, high);
    }

    internal static string LoadEmbeddedModel(string fileName)
    {
        string resource = $"Proximal.MuJoCo.Models.{fileName}";
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded model '{resource}' is missing from Proximal.MuJoCo.dll.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private bool _disposed;

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (disposing)
        {
            Data.Dispose();
            Model.Dispose();
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
