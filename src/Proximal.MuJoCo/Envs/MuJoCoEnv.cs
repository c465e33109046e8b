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
/// </summary>
public abstract class MuJoCoEnv : IEnv
{
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
