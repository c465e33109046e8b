using System.Runtime.InteropServices;

namespace Proximal.MuJoCo.Binding;

/// <summary>Mirror of the shim's <c>pxm_model_info</c> (Native/proximal_mujoco.c): keep the field order in sync.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ModelInfo
{
    public int Nq, Nv, Nu, Nbody, Nsite, Njnt, Ngeom, Integrator;
    public double Timestep;
    public double* BodyMass;
    public double* ActuatorCtrlRange;
    public byte* ActuatorCtrlLimited;
    public double* JntRange;
    public double* Qpos0;
    public int Na;
}

/// <summary>Mirror of the shim's <c>pxm_data_ptrs</c>: pointers into one mjData, valid for its life.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DataPointers
{
    public double* Time, Qpos, Qvel, Ctrl, CfrcExt, Xpos, Xipos, SubtreeCom, Cinert, Cvel,
        QfrcActuator, QfrcConstraint, SiteXpos, Act, QaccWarmstart;
}

/// <summary>P/Invoke into libproximal_mujoco.so, the shim built from Native/*.c next to this assembly.</summary>
internal static unsafe partial class NativeMethods
{
    internal const string ShimLibrary = "proximal_mujoco";

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_open", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string libraryName, byte* error, int errorLength);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_header_version")]
    internal static partial int HeaderVersion();

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_last_error")]
    internal static partial int LastError(byte* buffer, int length);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_load_xml_file", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint LoadXmlFile(string path, byte* error, int errorLength);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_load_xml_string")]
    internal static partial nint LoadXmlString(byte* xml, int length, byte* error, int errorLength);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_delete_model")]
    internal static partial void DeleteModel(nint model);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_body_id", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int BodyId(nint model, string name);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_site_id", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SiteId(nint model, string name);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_make_data")]
    internal static partial nint MakeData(nint model);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_delete_data")]
    internal static partial void DeleteData(nint data);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_model_info_get")]
    internal static partial void GetModelInfo(nint model, ModelInfo* info);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_data_ptrs_get")]
    internal static partial void GetDataPointers(nint data, DataPointers* pointers);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_reset")]
    internal static partial int Reset(nint model, nint data);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_forward")]
    internal static partial int Forward(nint model, nint data);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_rne_post_constraint")]
    internal static partial int RnePostConstraint(nint model, nint data);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_step")]
    internal static partial int Step(nint model, nint data, float* ctrl, int controlCount, int substeps, int rnePostConstraint);

    [LibraryImport(ShimLibrary, EntryPoint = "pxm_bench_raw")]
    internal static partial int BenchRaw(nint model, nint data, long steps, int substeps, long episodeLength, ulong seed);

    internal static string LastErrorMessage()
    {
        byte* buffer = stackalloc byte[1024];
        LastError(buffer, 1024);
        return Utf8(buffer);
    }

    internal static string Utf8(byte* text) => Marshal.PtrToStringUTF8((nint)text) ?? "";
}
