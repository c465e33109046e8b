using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Proximal.Algorithms;

namespace Proximal.Distributed;

/// <summary>
/// Synchronous data-parallel training (DD-PPO / Baselines ppo2_mpi style) over an <see cref="ICommunicator"/>: the
/// <see cref="IDataParallel"/> the on-policy algorithms call. Per minibatch ONE all-reduce of the flat gradient
/// (Parameters keeps every layer's gradient in one array, which is why it is one call); once per iteration a
/// point-to-point round to rank 0 that gathers the episodes and names any rank that does not arrive in time; every
/// <see cref="ChecksumEvery"/> iterations an all-gather of a parameter checksum that fails loudly on drift.
/// It also times its all-reduces, for the benchmark and the run's metrics.
/// </summary>
public sealed class DataParallel(ICommunicator communicator, int checksumEvery = 10) : IDataParallel
{
    private const int TagEpisodeCount = 11, TagEpisodes = 12, TagVerdict = 13;

    private double[] _received = new double[64];
    private readonly double[] _one = new double[1], _checksum = new double[2];
    private double[] _allChecksums = [];
    private long _reduceTicks;

    public ICommunicator Communicator { get; } = communicator ?? throw new ArgumentNullException(nameof(communicator));
    public int Rank => Communicator.Rank;
    public int Size => Communicator.Size;
    /// <summary>Iterations between parameter checksums (0: never).</summary>
    public int ChecksumEvery { get; } = checksumEvery >= 0 ? checksumEvery : throw new ArgumentOutOfRangeException(nameof(checksumEvery));

    /// <summary>Seconds spent in gradient all-reduces (including waiting for the slowest rank) since the start.</summary>
    public double GradientReduceSeconds => _reduceTicks / (double)Stopwatch.Frequency;
    /// <summary>Gradient all-reduces made since the start.</summary>
    public long GradientReduces { get; private set; }
    /// <summary>Bytes of one gradient all-reduce's payload (the flat gradient, float32).</summary>
    public long GradientBytes { get; private set; }

    public void AverageGradients(Span<float> gradients)
    {
        long t = Stopwatch.GetTimestamp();
        Communicator.Sum(gradients);
        if (Size > 1) TensorPrimitives.Multiply(gradients, 1f / Size, gradients);
        _reduceTicks += Stopwatch.GetTimestamp() - t;
        GradientReduces++;
        GradientBytes = gradients.Length * sizeof(float);
    }

    public void Sum(Span<double> values) => Communicator.Sum(values);

    public void Broadcast(Span<float> values) => Communicator.Broadcast(MemoryMarshal.AsBytes(values));

    public void GatherEpisodes(ReadOnlySpan<double> episodes, List<double> gatheredOnRoot)
    {
        ArgumentNullException.ThrowIfNull(gatheredOnRoot);
        if (Size == 1) return;
        if (Rank != 0)
        {
            _one[0] = episodes.Length;
            Communicator.Send(_one, 0, TagEpisodeCount);
            if (episodes.Length > 0) Communicator.Send(episodes, 0, TagEpisodes);
            return;
        }
        for (int r = 1; r < Size; r++)
        {
            // The heartbeat: a rank that does not arrive within the timeout is named, and the job ends.
            Communicator.Receive(_one, r, TagEpisodeCount, Communicator.Timeout);
            int n = (int)_one[0];
            if (n == 0) continue;
            if (_received.Length < n) _received = new double[Math.Max(n, 2 * _received.Length)];
            int got = Communicator.Receive(_received.AsSpan(0, n), r, TagEpisodes, Communicator.Timeout);
            for (int i = 0; i < got; i++) gatheredOnRoot.Add(_received[i]);
        }
    }

    public bool AgreeToContinue(bool rootDecision)
    {
        if (Size == 1) return rootDecision;
        if (Rank == 0)
        {
            _one[0] = rootDecision ? 1 : 0;
            for (int r = 1; r < Size; r++) Communicator.Send(_one, r, TagVerdict);
            return rootDecision;
        }
        // Rank 0 may itself be waiting up to one timeout on another rank (then it names that rank and ends the job),
        // and runs the evaluations and checkpoints: give it twice the timeout before naming rank 0.
        var wait = Communicator.Timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : 2 * Communicator.Timeout;
        Communicator.Receive(_one, 0, TagVerdict, wait);
        return _one[0] != 0;
    }

    public void CheckInSync(long iteration, ReadOnlySpan<float> parameters)
    {
        if (Size == 1 || ChecksumEvery == 0 || iteration % ChecksumEvery != 0) return;
        _checksum[0] = iteration;
        _checksum[1] = Checksum(parameters);
        if (_allChecksums.Length != 2 * Size) _allChecksums = new double[2 * Size];
        Communicator.AllGather(_checksum, _allChecksums);
        for (int r = 1; r < Size; r++)
        {
            if (_allChecksums[2 * r] != _allChecksums[0])
                throw new RankFailureException($"rank {r} is at iteration {_allChecksums[2 * r]} while rank 0 is at {_allChecksums[0]}: the ranks fell out of step.");
            if (_allChecksums[2 * r + 1] != _allChecksums[1])
                throw new RankFailureException(
                    $"the parameters of rank {r} differ from rank 0's after iteration {iteration} (checksum {_allChecksums[2 * r + 1]:R} vs {_allChecksums[1]:R}): " +
                    "the ranks drifted apart (different builds, configs or CPU instruction sets?); stopping rather than training diverged copies.");
        }
    }

    public void AddMetrics(IDictionary<string, double> metrics)
    {
        metrics["distributed/ranks"] = Size;
        metrics["distributed/allreduce_seconds"] = GradientReduceSeconds;
        metrics["distributed/allreduces"] = GradientReduces;
    }

    /// <summary>FNV-1a over the parameters' bits, kept to 52 bits so a double carries it exactly.</summary>
    public static double Checksum(ReadOnlySpan<float> parameters)
    {
        ulong h = 14695981039346656037UL;
        foreach (uint bits in MemoryMarshal.Cast<float, uint>(parameters))
        {
            h ^= bits;
            h *= 1099511628211UL;
        }
        return h & ((1UL << 52) - 1);
    }
}
