using System.Runtime.InteropServices;
using System.Text;

namespace Proximal.MuJoCo.Binding;

/// <summary>MuJoCo integrators (mjtIntegrator).</summary>
public enum MjIntegrator { Euler = 0, RK4 = 1, ImplicitFast = 2 }

internal sealed class MjModelHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;
    protected override bool ReleaseHandle()
    {
        NativeMethods.DeleteModel(handle);
        return true;
    }
}

/// <summary>A compiled MuJoCo model (mjModel). Read-only after loading; owns native memory.</summary>
public sealed unsafe class MjModel : IDisposable
{
    private const int ErrorLength = 2048;
    private readonly MjModelHandle _handle;
    private readonly ModelInfo _info;

    private MjModel(MjModelHandle handle)
    {
        _handle = handle;
        ModelInfo info;
        NativeMethods.GetModelInfo(handle.DangerousGetHandle(), &info);
        _info = info;
    }

    /// <summary>Parses and compiles MJCF text.</summary>
    public static MjModel FromXmlString(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        if (xml.Length == 0) throw new ArgumentException("The MJCF text is empty.", nameof(xml));
        MuJoCoLibrary.EnsureLoaded();
        byte[] bytes = Encoding.UTF8.GetBytes(xml);
        byte* error = stackalloc byte[ErrorLength];
        error[0] = 0;
        nint model;
        fixed (byte* p = bytes) model = NativeMethods.LoadXmlString(p, bytes.Length, error, ErrorLength);
        return Wrap(model, error, "MJCF text");
    }

    /// <summary>Parses and compiles an MJCF (or URDF) file.</summary>
    public static MjModel FromXmlFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"MuJoCo model file '{path}' does not exist.", path);
        MuJoCoLibrary.EnsureLoaded();
        byte* error = stackalloc byte[ErrorLength];
        error[0] = 0;
        nint model = NativeMethods.LoadXmlFile(Path.GetFullPath(path), error, ErrorLength);
        return Wrap(model, error, $"model file '{path}'");
    }

    private static MjModel Wrap(nint model, byte* error, string what)
    {
        if (model == 0)
        {
            string message = NativeMethods.Utf8(error);
            if (message.Length == 0) message = NativeMethods.LastErrorMessage();
            throw new MuJoCoException($"MuJoCo could not load the {what}: {message}");
        }
        var handle = new MjModelHandle();
        Marshal.InitHandle(handle, model);
        return new MjModel(handle);
    }

    internal nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle.DangerousGetHandle();
        }
    }

    public int Nq => _info.Nq;
    public int Nv => _info.Nv;
    public int Nu => _info.Nu;
    /// <summary>Number of actuator activation states (dimension of <see cref="MjData.Act"/>).</summary>
    public int Na => _info.Na;
    public int Nbody => _info.Nbody;
    public int Nsite => _info.Nsite;
    public int Njnt => _info.Njnt;
    public int Ngeom => _info.Ngeom;
    public double Timestep => _info.Timestep;
    public MjIntegrator Integrator => (MjIntegrator)_info.Integrator;

    /// <summary>Body masses (nbody, world first).</summary>
    public ReadOnlySpan<double> BodyMass => View(_info.BodyMass, Nbody);
    /// <summary>Control ranges (nu × 2: low, high).</summary>
    public ReadOnlySpan<double> ActuatorCtrlRange => View(_info.ActuatorCtrlRange, 2 * Nu);
    /// <summary>Whether each control is limited to its range (nu).</summary>
    public ReadOnlySpan<byte> ActuatorCtrlLimited => new(PointerCheck(_info.ActuatorCtrlLimited), Nu);
    /// <summary>Joint ranges (njnt × 2).</summary>
    public ReadOnlySpan<double> JointRange => View(_info.JntRange, 2 * Njnt);
    /// <summary>Default pose (nq).</summary>
    public ReadOnlySpan<double> Qpos0 => View(_info.Qpos0, Nq);

    /// <summary>Index of the named body; throws when there is none.</summary>
    public int BodyId(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        int id = NativeMethods.BodyId(Pointer, name);
        GC.KeepAlive(this);
        return id >= 0 ? id : throw new ArgumentException($"The model has no body named '{name}'.", nameof(name));
    }

    /// <summary>Index of the named site; throws when there is none.</summary>
    public int SiteId(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        int id = NativeMethods.SiteId(Pointer, name);
        GC.KeepAlive(this);
        return id >= 0 ? id : throw new ArgumentException($"The model has no site named '{name}'.", nameof(name));
    }

    private ReadOnlySpan<double> View(double* p, int n) => new(PointerCheck(p), n);

    private T* PointerCheck<T>(T* p) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return p;
    }

    public void Dispose() => _handle.Dispose();
}
