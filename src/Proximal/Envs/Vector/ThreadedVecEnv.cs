using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Proximal.Envs.Vector;

/// <summary>
/// Steps its envs in parallel on the calling thread plus <c>Threads − 1</c> long-lived workers. The envs of a call
/// are handed out as contiguous chunks from a shared counter: whoever is running claims the next chunk, so a worker
/// that the OS has not scheduled yet (a loaded machine) costs nothing: the others, the caller included, step its
/// share, and the caller only ever waits for chunks already in progress. The chunk size adapts to the measured
/// cost of an env step (about 20 µs of work per claim; cheap envs get one chunk per thread), and a call with under
/// 10 µs of work in all is stepped by the caller alone (a hand-off would cost more). Workers spin briefly
/// for the next call (yielding now and then), then sleep (Monitor). A step allocates nothing. Each env touches only its own rows, so the
/// results are identical for every thread count and every schedule (and identical to <see cref="SyncVecEnv"/>).
/// Dispose stops the workers.
/// </summary>
public sealed class ThreadedVecEnv : EnvArrayVecEnv
{
    /// <summary>Work per claim the chunk size aims at: large enough that the claim's atomic operation is noise,
    /// small enough that the caller's wait for a chunk in flight stays short.</summary>
    private const double TargetChunkMicroseconds = 20;


    private readonly Thread[] _workers;
    private readonly object _gate = new(), _doneGate = new();
    private readonly long _spinTicks, _targetChunkTicks, _serialBelowTicks;
    private double _perEnvTicks = double.PositiveInfinity;  // measured work per env step; unknown before the first step
    private int _serialCalls;

    // Hot shared words, each on its own cache line so claiming, completing and sleeping do not slow each other.
    // _work packs (generation << 32) | next unclaimed env: a worker that wakes late can never claim envs of a
    // newer call believing they belong to an older one (its compare-and-swap fails).
    private PaddedLong _work;
    private PaddedInt _completed;
    private PaddedInt _sleepingWorkers;
    private PaddedInt _mainSleeping;

    private int _chunk = 1;
    private volatile int _command;
    private volatile bool _stopping;
    private Exception? _workerCrash;
    private readonly long[] _workerAllocated;
    private bool _disposed;

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedLong { [FieldOffset(64)] public long Value; }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedInt { [FieldOffset(64)] public int Value; }

    /// <param name="threads">Total threads including the caller's; default min(processor count, N).</param>
    /// <param name="spinMicroseconds">How long a waiting thread spins before it sleeps.</param>
    /// <param name="serialBelowMicroseconds">Below this much measured work per call (all envs together) the hand-off
    /// to workers costs more than it saves, so the caller steps every env itself (e.g. CartPole with N = 8).
    /// 0 always hands off (tests use it to exercise the workers).</param>
    public ThreadedVecEnv(IReadOnlyList<IEnv> envs, int? threads = null, double spinMicroseconds = 50, double serialBelowMicroseconds = 10) : base(envs)
    {
        int t = threads ?? Math.Min(Environment.ProcessorCount, NumEnvs);
        if (t <= 0) throw new ArgumentOutOfRangeException(nameof(threads), t, "ThreadedVecEnv needs threads > 0.");
        if (!(spinMicroseconds >= 0)) throw new ArgumentOutOfRangeException(nameof(spinMicroseconds), spinMicroseconds, "Spin time must be ≥ 0.");
        if (!(serialBelowMicroseconds >= 0)) throw new ArgumentOutOfRangeException(nameof(serialBelowMicroseconds), serialBelowMicroseconds, "The serial threshold must be ≥ 0 µs.");
        t = Math.Min(t, NumEnvs);
        Threads = t;
        _spinTicks = (long)(spinMicroseconds * Stopwatch.Frequency / 1e6);
        _targetChunkTicks = (long)(TargetChunkMicroseconds * Stopwatch.Frequency / 1e6);
        _serialBelowTicks = (long)(serialBelowMicroseconds * Stopwatch.Frequency / 1e6);
        _chunk = MaxChunk;
        _workers = new Thread[t - 1];
        _workerAllocated = new long[t];
        for (int w = 0; w < _workers.Length; w++)
        {
            int index = w + 1;
            _workers[w] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"Proximal VecEnv worker {index}" };
            _workers[w].Start();
        }
    }

    public ThreadedVecEnv(Func<int, IEnv> factory, int numEnvs, int? threads = null, double spinMicroseconds = 50, double serialBelowMicroseconds = 10)
        : this(VecEnvFactory.Create(factory, numEnvs), threads, spinMicroseconds, serialBelowMicroseconds) { }

    /// <summary>Threads that step envs, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>One chunk per thread: the largest useful chunk.</summary>
    private int MaxChunk => (NumEnvs + Threads - 1) / Threads;

    private static int Generation(long work) => (int)(work >> 32);
    private static int Next(long work) => (int)work;

    private protected override void RunAll(Command command)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_workers.Length == 0)
        {
            RunRange(command, 0, NumEnvs);
            return;
        }
        bool parallel = _serialBelowTicks == 0 || _perEnvTicks * NumEnvs >= _serialBelowTicks;
        // Parallel calls are long enough to time every one; serial ones (cheap envs) are sampled, since a clock
        // read costs about as much as a CartPole step.
        bool timed = command == Command.Step && (parallel || (++_serialCalls & 15) == 0);
        long start = timed ? Stopwatch.GetTimestamp() : 0;
        if (parallel)
        {
            int generation = Release(command);
            try { Claim(generation, workerIndex: 0); }
            finally { WaitForCompletion(); } // the caller's buffers stay pinned until every claimed chunk is done
            if (_workerCrash is { } crash) throw new InvalidOperationException("A VecEnv worker thread failed outside any env call.", crash);
        }
        else RunRange(command, 0, NumEnvs);
        if (timed) Adapt(Stopwatch.GetTimestamp() - start, parallel);
    }

    /// <summary>Work per env step from this call's time (elapsed × threads / N when parallel, elapsed / N when not),
    /// which sets the next call's chunk size and whether it goes parallel at all.</summary>
    private void Adapt(long elapsedTicks, bool parallel)
    {
        double perEnv = Math.Max(1.0, (double)elapsedTicks * (parallel ? Threads : 1) / NumEnvs);
        _perEnvTicks = perEnv;
        _chunk = (int)Math.Clamp(_targetChunkTicks / perEnv, 1, MaxChunk);
    }

    /// <summary>Publishes a new call (generation, command, chunk) and wakes sleeping workers. Returns its generation.</summary>
    private int Release(Command command)
    {
        _command = (int)command;
        Volatile.Write(ref _completed.Value, 0);
        int generation = Generation(Volatile.Read(ref _work.Value)) + 1;
        // Interlocked: a full fence, so a worker that sees the generation sees the command, chunk and buffers too;
        // it also pairs with the sleeper's Interlocked increment (no lost wake-up).
        Interlocked.Exchange(ref _work.Value, (long)generation << 32);
        if (Volatile.Read(ref _sleepingWorkers.Value) > 0)
            lock (_gate) Monitor.PulseAll(_gate);
        return generation;
    }

    /// <summary>Claims and runs chunks of <paramref name="generation"/> until none is left.</summary>
    private void Claim(int generation, int workerIndex)
    {
        int n = NumEnvs;
        while (true)
        {
            long work = Volatile.Read(ref _work.Value);
            if (Generation(work) != generation) return;
            int start = Next(work);
            if (start >= n) return;
            int end = Math.Min(n, start + Volatile.Read(ref _chunk));
            if (Interlocked.CompareExchange(ref _work.Value, ((long)generation << 32) | (uint)end, work) != work) continue;
            try { RunRange((Command)_command, start, end); }
            catch (Exception e) when (workerIndex > 0) { _workerCrash ??= e; }
            finally
            {
                if (Interlocked.Add(ref _completed.Value, end - start) == n && workerIndex > 0 && Volatile.Read(ref _mainSleeping.Value) > 0)
                    lock (_doneGate) Monitor.PulseAll(_doneGate);
            }
        }
    }

    /// <summary>One round of a busy wait: pause instructions, and every 16th round a Thread.Yield, so that on a
    /// loaded machine the thread being waited for (or anyone else) can have this core.</summary>
    private static void SpinOnce(ref int round)
    {
        Thread.SpinWait(8);
        if ((++round & 15) == 0) Thread.Yield();
    }

    private void WaitForCompletion()
    {
        int n = NumEnvs;
        if (Volatile.Read(ref _completed.Value) == n) return;
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        int round = 0;
        while (Volatile.Read(ref _completed.Value) != n)
        {
            SpinOnce(ref round);
            if ((round & 63) == 0 && Stopwatch.GetTimestamp() > until) break;
        }
        if (Volatile.Read(ref _completed.Value) == n) return;
        lock (_doneGate)
        {
            Interlocked.Increment(ref _mainSleeping.Value);
            while (Volatile.Read(ref _completed.Value) != n) Monitor.Wait(_doneGate);
            Interlocked.Decrement(ref _mainSleeping.Value);
        }
    }

    private void WorkerLoop(int workerIndex)
    {
        int seen = 0;
        while (true)
        {
            int generation = WaitForNewGeneration(seen);
            seen = generation;
            if (_stopping) return;
            Claim(generation, workerIndex);
            _workerAllocated[workerIndex] = GC.GetAllocatedBytesForCurrentThread();
        }
    }

    /// <summary>Spins, then sleeps, until a generation other than <paramref name="seen"/> is published; returns it.</summary>
    private int WaitForNewGeneration(int seen)
    {
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        int round = 0, g;
        while ((g = Generation(Volatile.Read(ref _work.Value))) == seen)
        {
            SpinOnce(ref round);
            if ((round & 63) == 0 && Stopwatch.GetTimestamp() > until) break;
        }
        if (g != seen) return g;
        lock (_gate)
        {
            Interlocked.Increment(ref _sleepingWorkers.Value);
            while ((g = Generation(Volatile.Read(ref _work.Value))) == seen) Monitor.Wait(_gate);
            Interlocked.Decrement(ref _sleepingWorkers.Value);
        }
        return g;
    }

    /// <summary>Bytes allocated so far by the worker threads (a test hook for the no-allocation guarantee).</summary>
    internal long WorkerAllocatedBytes
    {
        get { long s = 0; foreach (long b in _workerAllocated) s += Volatile.Read(ref Unsafe.AsRef(in b)); return s; }
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_workers.Length > 0)
        {
            _stopping = true;
            Release(Command.Stop);
            lock (_gate) Monitor.PulseAll(_gate);
            foreach (var w in _workers) w.Join();
        }
        DisposeEnvs();
    }

    public override string ToString() => $"ThreadedVecEnv({NumEnvs} × {Envs[0]}, {Threads} threads)";
}
