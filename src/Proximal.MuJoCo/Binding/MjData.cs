using System.Runtime.InteropServices;

namespace Proximal.MuJoCo.Binding;

internal sealed class MjDataHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle()
    {
        NativeMethods.DeleteData(handle);
        return true;
    }
}

/// <summary>
/// Simulation state (mjData) for one <see cref="MjModel"/>. The array properties are views straight
/// into MuJoCo's memory (no copies); they stay valid until <see cref="Dispose"/>. Row-major layouts
/// follow MuJoCo: e.g. <see cref="Xpos"/> is nbody × 3, <see cref="Cinert"/> nbody × 10.
/// </summary>
public sealed unsafe class MjData : IDisposable
{
    private readonly MjDataHandle _handle;
    private readonly DataPointers _p;
    private readonly int _nq, _nv, _nu, _na, _nbody, _nsite;

    public MjData(MjModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        nint data = NativeMethods.MakeData(model.Pointer);
        if (data == 0) throw new MuJoCoException($"mj_makeData failed: {NativeMethods.LastErrorMessage()}");
        _handle = new MjDataHandle();
        Marshal.InitHandle(_handle, data);
        DataPointers p;
        NativeMethods.GetDataPointers(data, &p);
        _p = p;
        (_nq, _nv, _nu, _na, _nbody, _nsite) = (model.Nq, model.Nv, model.Nu, model.Na, model.Nbody, model.Nsite);
    }

    public MjModel Model { get; }

    private nint Data
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle.DangerousGetHandle();
        }
    }

    private Span<double> View(double* p, int n)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return new Span<double>(p, n);
    }

    /// <summary>Simulation time in seconds (settable, to restore a saved state).</summary>
    public double Time
    {
        get { ObjectDisposedException.ThrowIf(_handle.IsClosed, this); return *_p.Time; }
        set { ObjectDisposedException.ThrowIf(_handle.IsClosed, this); *_p.Time = value; }
    }

    public Span<double> Qpos => View(_p.Qpos, _nq);
    public Span<double> Qvel => View(_p.Qvel, _nv);
    public Span<double> Ctrl => View(_p.Ctrl, _nu);
    /// <summary>Actuator activations (na; empty for plain motors).</summary>
    public Span<double> Act => View(_p.Act, _na);
    /// <summary>The accelerations the next constraint solve starts from (nv): mj_step leaves the last
    /// solution here, so it is part of the state that makes the next step bit-identical.</summary>
    public Span<double> QaccWarmstart => View(_p.QaccWarmstart, _nv);
    /// <summary>Com-based external force on each body (nbody × 6), filled by <see cref="RnePostConstraint"/>.</summary>
    public Span<double> CfrcExt => View(_p.CfrcExt, _nbody * 6);
    public Span<double> Xpos => View(_p.Xpos, _nbody * 3);
    public Span<double> Xipos => View(_p.Xipos, _nbody * 3);
    public Span<double> SubtreeCom => View(_p.SubtreeCom, _nbody * 3);
    public Span<double> Cinert => View(_p.Cinert, _nbody * 10);
    public Span<double> Cvel => View(_p.Cvel, _nbody * 6);
    public Span<double> QfrcActuator => View(_p.QfrcActuator, _nv);
    public Span<double> QfrcConstraint => View(_p.QfrcConstraint, _nv);
    public Span<double> SiteXpos => View(_p.SiteXpos, _nsite * 3);

    /// <summary>mj_resetData: default pose, zero velocity and controls, time 0.</summary>
    public void Reset() => Check(NativeMethods.Reset(Model.Pointer, Data), "mj_resetData");

    /// <summary>mj_forward: recomputes every derived quantity from qpos, qvel, ctrl.</summary>
    public void Forward() => Check(NativeMethods.Forward(Model.Pointer, Data), "mj_forward");

    /// <summary>mj_rnePostConstraint: fills cacc, cfrc_int and cfrc_ext.</summary>
    public void RnePostConstraint() => Check(NativeMethods.RnePostConstraint(Model.Pointer, Data), "mj_rnePostConstraint");

    /// <summary><paramref name="substeps"/> mj_step calls with the current controls.</summary>
    public void Step(int substeps = 1)
    {
        if (substeps < 1) throw new ArgumentOutOfRangeException(nameof(substeps), substeps, "At least one mj_step is needed.");
        Check(NativeMethods.Step(Model.Pointer, Data, null, 0, substeps, 0), "mj_step");
    }

    /// <summary>One Gymnasium-style env step in a single native call: ctrl = <paramref name="controls"/>,
    /// <paramref name="substeps"/> mj_step calls, then mj_rnePostConstraint when asked. Allocates nothing.</summary>
    public void Step(ReadOnlySpan<float> controls, int substeps, bool rnePostConstraint)
    {
        if (controls.Length != _nu)
            throw new ArgumentException($"Expected {_nu} controls (model nu), got {controls.Length}.", nameof(controls));
        if (substeps < 1) throw new ArgumentOutOfRangeException(nameof(substeps), substeps, "At least one mj_step is needed.");
        fixed (float* c = controls)
            Check(NativeMethods.Step(Model.Pointer, Data, c, _nu, substeps, rnePostConstraint ? 1 : 0), "mj_step");
    }

    /// <summary>The raw-simulator yardstick for benchmarks, entirely in native code (see pxm_bench_raw).</summary>
    internal void RunRawBenchmark(long envSteps, int substeps, long episodeLength, ulong seed)
        => Check(NativeMethods.BenchRaw(Model.Pointer, Data, envSteps, substeps, episodeLength, seed), "raw benchmark");

    private void Check(int status, string call)
    {
        GC.KeepAlive(this);
        GC.KeepAlive(Model);
        if (status != 0) throw new MuJoCoException($"{call} failed: {NativeMethods.LastErrorMessage()}");
    }

    public void Dispose() => _handle.Dispose();
}
