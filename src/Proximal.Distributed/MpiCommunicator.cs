using System.Runtime.InteropServices;
using Proximal.Distributed.Binding;

namespace Proximal.Distributed;

/// <summary>
/// <see cref="ICommunicator"/> over Open MPI's MPI_COMM_WORLD, through the shim (which opens libmpi.so.40 itself).
/// One per process: <see cref="Initialize"/> calls MPI_Init, <see cref="Dispose"/> MPI_Finalize. Calls must come from
/// the thread that initialised MPI (MPI_THREAD_FUNNELED); every call polls a non-blocking MPI request against the timeout.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    /// <summary>The soname of Open MPI 4.x/5.x's library (Debian: openmpi-bin / libopenmpi3).</summary>
    public const string DefaultLibraryName = "libmpi.so.40";

    internal const string InstallHint = "install Open MPI: sudo apt-get install openmpi-bin libopenmpi-dev (or run scripts/setup.sh), then rebuild";

    private static int _initialized;
    private bool _disposed;

    private MpiCommunicator(int rank, int size, TimeSpan timeout, string description)
    {
        Rank = rank;
        Size = size;
        Timeout = timeout;
        Description = description;
    }

    public int Rank { get; }
    public int Size { get; }
    public TimeSpan Timeout { get; }
    public string Description { get; }

    /// <summary>True when this process was started by an MPI launcher (mpirun/mpiexec/srun with PMIx) as one rank of a job.</summary>
    public static bool LaunchedByMpi =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null
        || Environment.GetEnvironmentVariable("PMIX_RANK") is not null
        || Environment.GetEnvironmentVariable("PMI_RANK") is not null;

    /// <summary>
    /// Opens Open MPI and initialises it. Throws <see cref="MpiUnavailableException"/> with one line naming what is missing
    /// (shim not built, libmpi not installed, another MPI's ABI) or what failed.
    /// </summary>
    public static MpiCommunicator Initialize(TimeSpan timeout, string libraryName = DefaultLibraryName)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The rank timeout must be positive.");
        if (Interlocked.Exchange(ref _initialized, 1) != 0) throw new InvalidOperationException("MPI is already initialised in this process.");
        string version = Open(libraryName);
        int rc = NativeMethods.Init(out int rank, out int size);
        if (rc != 0) throw new MpiUnavailableException($"MPI_Init failed: {LastError()}.");
        return new MpiCommunicator(rank, size, timeout, version);
    }

    /// <summary>Opens libmpi under <paramref name="libraryName"/> and returns its version line (injectable so tests can simulate a missing library).</summary>
    internal static string Open(string libraryName)
    {
        byte* error = stackalloc byte[1024];
        byte* version = stackalloc byte[256];
        error[0] = 0; version[0] = 0;
        int result;
        try { result = NativeMethods.Open(libraryName, error, 1024, version, 256); }
        catch (DllNotFoundException e)
        {
            throw new MpiUnavailableException(
                $"the MPI shim ({NativeMethods.ShimLibrary}) was not built (Open MPI's headers were missing at build time); {InstallHint}.", e);
        }
        string detail = NativeMethods.Utf8(error);
        return result switch
        {
            0 => NativeMethods.Utf8(version),
            -1 => throw new MpiUnavailableException($"the MPI library '{libraryName}' could not be loaded ({detail}); {InstallHint}."),
            _ => throw new MpiUnavailableException($"'{libraryName}' is not a usable Open MPI library: {detail}; {InstallHint}."),
        };
    }

    private static string LastError()
    {
        byte* b = stackalloc byte[512];
        b[0] = 0;
        NativeMethods.LastError(b, 512);
        return NativeMethods.Utf8(b);
    }

    private double Seconds => Timeout.TotalSeconds;

    private void Check(int rc, string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (rc == 0) return;
        if (rc == 1) throw Unresponsive(what);
        throw new RankFailureException($"rank {Rank}: {what} failed: {LastError()}.");
    }

    private const int TagAlive = 32000;

    /// <summary>
    /// A collective timed out: find out who is missing. Every live rank times out at about the same moment and reports
    /// to rank 0 (a small point-to-point message, next to the stuck collective); rank 0 names the ranks that did not
    /// report within a grace period. When rank 0 itself is the one missing, the others name it.
    /// </summary>
    private RankFailureException Unresponsive(string what)
    {
        double grace = Math.Clamp(Seconds, 0.5, 5);
        double* one = stackalloc double[1];
        one[0] = Rank;
        if (Rank != 0)
        {
            int sent = NativeMethods.Send(one, 1, 0, TagAlive, grace);
            if (sent == 0) Thread.Sleep(TimeSpan.FromSeconds(2 * grace)); // rank 0 names the missing ranks and ends the job meanwhile
            return new RankFailureException($"rank 0 did not answer rank {Rank} within {Seconds + 2 * grace:0.#} s during {what} (it died or hangs); ending the job.");
        }
        var missing = new List<int>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int r = 1; r < Size; r++)
        {
            double left = Math.Max(grace - clock.Elapsed.TotalSeconds, 0.05);
            if (NativeMethods.Receive(one, 1, r, TagAlive, left, out _) != 0) missing.Add(r);
        }
        return missing.Count > 0
            ? new RankFailureException($"rank{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} did not reach {what} within {Seconds:0.#} s (died or hangs); ending the job.")
            : new RankFailureException($"{what} did not complete within {Seconds:0.#} s although every rank is alive (a rank is in another call: ranks out of step?); ending the job.");
    }

    public void Sum(Span<float> values)
    {
        fixed (float* p = values) Check(NativeMethods.AllReduceSum(p, values.Length, Seconds), "the all-reduce");
    }

    public void Sum(Span<double> values)
    {
        fixed (double* p = values) Check(NativeMethods.AllReduceSum(p, values.Length, Seconds), "the all-reduce");
    }

    public void Broadcast(Span<byte> values, int root = 0)
    {
        fixed (byte* p = values) Check(NativeMethods.Broadcast(p, values.Length, root, Seconds), $"the broadcast from rank {root}");
    }

    public void AllGather(ReadOnlySpan<double> mine, Span<double> all)
    {
        if (all.Length != mine.Length * Size)
            throw new ArgumentException($"AllGather needs {mine.Length} × {Size} values of room, got {all.Length}.", nameof(all));
        fixed (double* s = mine)
        fixed (double* r = all)
            Check(NativeMethods.AllGather(s, mine.Length, r, Seconds), "the all-gather");
    }

    public void Barrier() => Check(NativeMethods.Barrier(Seconds), "the barrier");

    public void Send(ReadOnlySpan<double> values, int destination, int tag)
    {
        int rc;
        fixed (double* p = values) rc = NativeMethods.Send(p, values.Length, destination, tag, Seconds);
        if (rc == 1) throw new RankFailureException($"rank {destination} did not take a message from rank {Rank} within {Seconds:0.#} s (it died or hangs).");
        Check(rc, $"the send to rank {destination}");
    }

    public int Receive(Span<double> buffer, int source, int tag, TimeSpan timeout)
    {
        int rc, count;
        fixed (double* p = buffer) rc = NativeMethods.Receive(p, buffer.Length, source, tag, timeout.TotalSeconds, out count);
        if (rc == 1) throw new RankFailureException($"rank {source} did not report to rank {Rank} within {timeout.TotalSeconds:0.#} s (it died or hangs).");
        Check(rc, $"the receive from rank {source}");
        return count;
    }

    public void Abort(int exitCode, string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine(message);
        Console.Error.Flush();
        NativeMethods.Abort(exitCode);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMethods.Finalize();
    }

    internal static ReadOnlySpan<byte> AsBytes(Span<float> values) => MemoryMarshal.AsBytes(values);
}
