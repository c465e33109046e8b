using System.Runtime.InteropServices;
using System.Text;

namespace Proximal.MuJoCo.Binding;

/// <summary>MuJoCo integrators (mjtIntegrator).</summary>
public enum MjIntegrator { Euler = 0, RK4 = 1, ImplicitFast = 2 }

/// <summary>Mirror of the shim's <c>pxm_model_facts</c>: compiled physical facts, read-only views. Keep the field order in sync.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ModelFacts
{
    public fixed double Gravity[3];
    public double Density, Viscosity;
    public int Solver, Iterations, Collision, Cone;
    public double* BodyPos, BodyIpos, BodyInertia;
    public int* JntType;
    public byte* JntLimited;
    public double* JntPos, JntAxis;
    public double* JntStiffness;
    public double* DofArmature, DofDamping;
    public int* GeomType, GeomContype, GeomConaffinity, GeomCondim;
    public double* GeomSize, GeomFriction;
    public double* GeomMargin, GeomSolref, GeomSolimp;
    public double* ActuatorGear;
}

internal static unsafe partial class NativeMethods
{
    [LibraryImport(ShimLibrary, EntryPoint = "pxm_model_facts_get")]
    internal static partial void GetModelFacts(nint model, ModelFacts* facts);
}

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
    private readonly ModelFacts _facts;
    private readonly double[] _gravity;

    private MjModel(MjModelHandle handle)
    {
        _handle = handle;
        ModelInfo info;
        NativeMethods.GetModelInfo(handle.DangerousGetHandle(), &info);
        _info = info;
        ModelFacts facts;
        NativeMethods.GetModelFacts(handle.DangerousGetHandle(), &facts);
        _facts = facts;
        _gravity = [facts.Gravity[0], facts.Gravity[1], facts.Gravity[2]];
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

    // Compiled physical facts (read-only), mainly for checking our models against Gymnasium's.

    /// <summary>Gravity vector (opt.gravity, 3).</summary>
    public ReadOnlySpan<double> Gravity => _gravity;
    /// <summary>Medium density (opt.density).</summary>
    public double Density => _facts.Density;
    /// <summary>Medium viscosity (opt.viscosity).</summary>
    public double Viscosity => _facts.Viscosity;
    /// <summary>Constraint solver (mjtSolver: 0 PGS, 1 CG, 2 Newton).</summary>
    public int Solver => _facts.Solver;
    /// <summary>Maximum solver iterations (opt.iterations).</summary>
    public int SolverIterations => _facts.Iterations;
    /// <summary>Collision mode (mjtCollision: 0 all, 1 predefined pairs only, 2 dynamic only).</summary>
    public int CollisionMode => _facts.Collision;
    /// <summary>Friction cone (mjtCone: 0 pyramidal, 1 elliptic).</summary>
    public int Cone => _facts.Cone;
    /// <summary>Body frame positions relative to the parent (nbody × 3).</summary>
    public ReadOnlySpan<double> BodyPos => View(_facts.BodyPos, 3 * Nbody);
    /// <summary>Body centre-of-mass positions in the body frame (nbody × 3).</summary>
    public ReadOnlySpan<double> BodyIpos => View(_facts.BodyIpos, 3 * Nbody);
    /// <summary>Diagonal inertia in the body's inertial frame (nbody × 3).</summary>
    public ReadOnlySpan<double> BodyInertia => View(_facts.BodyInertia, 3 * Nbody);
    /// <summary>Joint types (mjtJoint: 0 free, 1 ball, 2 slide, 3 hinge; njnt).</summary>
    public ReadOnlySpan<int> JointType => new(PointerCheck(_facts.JntType), Njnt);
    /// <summary>Whether each joint is limited to its range (njnt).</summary>
    public ReadOnlySpan<byte> JointLimited => new(PointerCheck(_facts.JntLimited), Njnt);
    /// <summary>Joint anchor positions in the body frame (njnt × 3).</summary>
    public ReadOnlySpan<double> JointPos => View(_facts.JntPos, 3 * Njnt);
    /// <summary>Joint axes in the body frame (njnt × 3).</summary>
    public ReadOnlySpan<double> JointAxis => View(_facts.JntAxis, 3 * Njnt);
    /// <summary>Joint spring stiffness (njnt).</summary>
    public ReadOnlySpan<double> JointStiffness => View(_facts.JntStiffness, Njnt);
    /// <summary>Armature inertia per degree of freedom (nv).</summary>
    public ReadOnlySpan<double> DofArmature => View(_facts.DofArmature, Nv);
    /// <summary>Damping per degree of freedom (nv).</summary>
    public ReadOnlySpan<double> DofDamping => View(_facts.DofDamping, Nv);
    /// <summary>Geom types (mjtGeom: 0 plane, 2 sphere, 3 capsule, 6 box, ...; ngeom).</summary>
    public ReadOnlySpan<int> GeomType => new(PointerCheck(_facts.GeomType), Ngeom);
    /// <summary>Geom contact type bits (ngeom).</summary>
    public ReadOnlySpan<int> GeomContype => new(PointerCheck(_facts.GeomContype), Ngeom);
    /// <summary>Geom contact affinity bits (ngeom).</summary>
    public ReadOnlySpan<int> GeomConaffinity => new(PointerCheck(_facts.GeomConaffinity), Ngeom);
    /// <summary>Contact dimensionality (1, 3, 4 or 6; ngeom).</summary>
    public ReadOnlySpan<int> GeomCondim => new(PointerCheck(_facts.GeomCondim), Ngeom);
    /// <summary>Geom sizes (ngeom × 3).</summary>
    public ReadOnlySpan<double> GeomSize => View(_facts.GeomSize, 3 * Ngeom);
    /// <summary>Sliding, torsional and rolling friction (ngeom × 3).</summary>
    public ReadOnlySpan<double> GeomFriction => View(_facts.GeomFriction, 3 * Ngeom);
    /// <summary>Contact detection margin (ngeom).</summary>
    public ReadOnlySpan<double> GeomMargin => View(_facts.GeomMargin, Ngeom);
    /// <summary>Contact solver reference (ngeom × 2).</summary>
    public ReadOnlySpan<double> GeomSolref => View(_facts.GeomSolref, 2 * Ngeom);
    /// <summary>Contact solver impedance (ngeom × 5).</summary>
    public ReadOnlySpan<double> GeomSolimp => View(_facts.GeomSolimp, 5 * Ngeom);
    /// <summary>Actuator transmission gears (nu × 6).</summary>
    public ReadOnlySpan<double> ActuatorGear => View(_facts.ActuatorGear, 6 * Nu);

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
