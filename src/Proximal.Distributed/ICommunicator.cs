namespace Proximal.Distributed;

/// <summary>
/// The few collective and point-to-point calls data-parallel training needs, over the ranks of one job. Every call
/// is bounded by <see cref="Timeout"/>: a rank that died or hangs makes the others throw
/// <see cref="RankFailureException"/> (naming the rank where the call can tell) instead of waiting forever.
/// <see cref="SingleProcessCommunicator"/> is the one-rank form with no MPI at all; <see cref="MpiCommunicator"/> runs on Open MPI.
/// </summary>
public interface ICommunicator : IDisposable
{
    int Rank { get; }
    int Size { get; }
    /// <summary>How long any one call may wait for the other ranks.</summary>
    TimeSpan Timeout { get; }
    /// <summary>"Open MPI v4.1.4", or "single process".</summary>
    string Description { get; }

    /// <summary>In-place element-wise sum over all ranks (MPI_Allreduce, MPI_SUM).</summary>
    void Sum(Span<float> values);
    /// <summary>In-place element-wise sum over all ranks (MPI_Allreduce, MPI_SUM).</summary>
    void Sum(Span<double> values);
    /// <summary>Rank <paramref name="root"/>'s bytes on every rank.</summary>
    void Broadcast(Span<byte> values, int root = 0);
    /// <summary>Every rank's <paramref name="mine"/> (equal lengths) concatenated in rank order into <paramref name="all"/>.</summary>
    void AllGather(ReadOnlySpan<double> mine, Span<double> all);
    void Barrier();
    /// <summary>Sends to one rank (completes when the data left, or the timeout names <paramref name="destination"/>).</summary>
    void Send(ReadOnlySpan<double> values, int destination, int tag);
    /// <summary>Receives up to buffer.Length values from one rank; returns how many came. The timeout names <paramref name="source"/>.</summary>
    int Receive(Span<double> buffer, int source, int tag, TimeSpan timeout);
    /// <summary>Ends the whole job now (every rank), after printing <paramref name="message"/> on this rank's stderr.</summary>
    void Abort(int exitCode, string message);
}

/// <summary>A rank died, hung, or disagrees with the others: the job cannot continue. The message names the rank.</summary>
public sealed class RankFailureException(string message) : Exception(message);

/// <summary>MPI cannot be used here (not launched by mpirun, library missing or of another ABI, shim not built).</summary>
public sealed class MpiUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One rank, no MPI: every reduction is the identity. The single-process path of the drivers and tests.</summary>
public sealed class SingleProcessCommunicator : ICommunicator
{
    public int Rank => 0;
    public int Size => 1;
    public TimeSpan Timeout => System.Threading.Timeout.InfiniteTimeSpan;
    public string Description => "single process";
    public void Sum(Span<float> values) { }
    public void Sum(Span<double> values) { }
    public void Broadcast(Span<byte> values, int root = 0) => CheckRoot(root);
    public void AllGather(ReadOnlySpan<double> mine, Span<double> all)
    {
        if (all.Length != mine.Length) throw new ArgumentException($"AllGather needs {mine.Length} values of room, got {all.Length}.", nameof(all));
        mine.CopyTo(all);
    }
    public void Barrier() { }
    public void Send(ReadOnlySpan<double> values, int destination, int tag) =>
        throw new InvalidOperationException($"A single process has no rank {destination} to send to.");
    public int Receive(Span<double> buffer, int source, int tag, TimeSpan timeout) =>
        throw new InvalidOperationException($"A single process has no rank {source} to receive from.");
    public void Abort(int exitCode, string message)
    {
        Console.Error.WriteLine(message);
        Environment.Exit(exitCode);
    }
    public void Dispose() { }

    private static void CheckRoot(int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), root, "A single process has only rank 0.");
    }
}
