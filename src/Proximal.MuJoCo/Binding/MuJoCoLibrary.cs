namespace Proximal.MuJoCo.Binding;

/// <summary>The MuJoCo library could not be used: missing, wrong version, or the native shim is missing.</summary>
public sealed class MuJoCoLibraryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A MuJoCo call failed (bad model file, or mju_error during simulation).</summary>
public sealed class MuJoCoException(string message) : Exception(message);

/// <summary>Opens libmujoco once per process (through the shim) and checks that it is 2.2.2.</summary>
public static class MuJoCoLibrary
{
    /// <summary>The soname Debian's libmujoco2.2.2 package installs.</summary>
    public const string DefaultLibraryName = "libmujoco.so.2.2.2";

    /// <summary>The one MuJoCo version the shim is compiled for (mj_version() of 2.2.2).</summary>
    public const int ExpectedVersion = 222;

    private const string InstallHint = "Install MuJoCo 2.2.2: sudo apt-get install libmujoco2.2.2 (Debian/Ubuntu), or run scripts/setup.sh.";

    private static readonly Lock Gate = new();
    private static int _version;

    /// <summary>mj_version() of the loaded library (222), loading it on first use.</summary>
    public static int Version
    {
        get
        {
            EnsureLoaded();
            return _version;
        }
    }

    /// <summary>Loads the default library once; later calls return at once.</summary>
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref _version) != 0) return;
        lock (Gate)
        {
            if (_version != 0) return;
            _version = Open(DefaultLibraryName);
        }
    }

    /// <summary>Opens libmujoco under <paramref name="libraryName"/> (injectable so tests can simulate a
    /// missing library) and returns its version. A failed open leaves an already loaded library in use.</summary>
    internal static unsafe int Open(string libraryName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(libraryName);
        byte* error = stackalloc byte[1024];
        error[0] = 0;
        int result;
        try
        {
            result = NativeMethods.Open(libraryName, error, 1024);
        }
        catch (DllNotFoundException e)
        {
            throw new MuJoCoLibraryException(
                $"The native MuJoCo shim ({NativeMethods.ShimLibrary}) was not found next to Proximal.MuJoCo.dll. " +
                "It is compiled by the build from src/Proximal.MuJoCo/Native with gcc against the MuJoCo headers: " +
                "sudo apt-get install gcc libmujoco-dev libmujoco2.2.2, then rebuild.", e);
        }
        string detail = NativeMethods.Utf8(error);
        if (result == -1)
            throw new MuJoCoLibraryException($"MuJoCo library '{libraryName}' could not be loaded ({detail}). {InstallHint}");
        if (result == -2)
            throw new MuJoCoLibraryException($"'{libraryName}' is not a usable MuJoCo library: {detail}. {InstallHint}");
        if (result != ExpectedVersion)
            throw new MuJoCoLibraryException($"MuJoCo library '{libraryName}' has version {result} (mj_version()), but Proximal needs {ExpectedVersion} (2.2.2). {InstallHint}");
        return result;
    }
}
