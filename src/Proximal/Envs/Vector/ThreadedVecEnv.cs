using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Proximal.Envs.Vector;

/// <summary>
/// Steps its envs in parallel: the envs are cut into contiguous blocks, one per thread; the calling thread
/// steps block 0 and one long-lived worker per further block steps the rest. Workers are released per call
/// by a generation counter they spin on briefly and then sleep on (Monitor), so a step costs no allocation
/// and, for expensive simulators, about one wake-up. Each env touches only its own rows, so results are
/// identical for every thread count (and identical to <see cref="SyncVecEnv"/>). Dispose stops the workers.
/// </summary>
public sealed class ThreadedVecEnv : EnvArrayVecEnv
{
    private readonly Thread[] _workers;
    private readonly int[] _blockStart;
    private readonly object _gate = new(), _doneGate = new();
    private readonly long _spinTicks;
    private long _generation;
    private int _pending, _sleepingWorkers, _mainSleeping;
    private volatile int _command;
    private Exception? _workerCrash;
    private readonly long[] _workerAllocated;
    private bool _disposed;

    /// <param name="threads">Total threads including the caller's; default min(processor count, N).</param>
    /// <param name="spinMicroseconds">How long a waiting thread spins before it sleeps.</param>
    public ThreadedVecEnv(IReadOnlyList<IEnv> envs, int? threads = null, double spinMicroseconds = 50) : base(envs)
    {
        int t = threads ?? Math.Min(Environment.ProcessorCount, NumEnvs);
        if (t <= 0) throw new ArgumentOutOfRangeException(nameof(threads), t, "ThreadedVecEnv needs threads > 0.");
        if (!(spinMicroseconds >= 0)) throw new ArgumentOutOfRangeException(nameof(spinMicroseconds), spinMicroseconds, "Spin time must be ≥ 0.");
        t = Math.Min(t, NumEnvs);
        Threads = t;
        _spinTicks = (long)(spinMicroseconds * Stopwatch.Frequency / 1e6);
        _blockStart = new int[t + 1];
        for (int b = 0; b <= t; b++) _blockStart[b] = (int)((long)b * NumEnvs / t);
        _workers = new Thread[t - 1];
        _workerAllocated = new long[t];
        for (int w = 0; w < _workers.Length; w++)
        {
            int block = w + 1;
            _workers[w] = new Thread(() => WorkerLoop(block)) { IsBackground = true, Name = $"Proximal VecEnv worker {block}" };
            _workers[w].Start();
        }
    }

    public ThreadedVecEnv(Func<int, IEnv> factory, int numEnvs, int? threads = null, double spinMicroseconds = 50)
        : this(VecEnvFactory.Create(factory, numEnvs), threads, spinMicroseconds) { }

    /// <summary>Threads that step envs, the caller's included.</summary>
    public int Threads { get; }

    private protected override void RunAll(Command command)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_workers.Length > 0) Release(command);
        try { RunRange(command, _blockStart[0], _blockStart[1]); }
        finally { if (_workers.Length > 0) WaitForWorkers(); } // the caller's buffers stay pinned until every worker is done
        if (_workerCrash is { } crash) throw new InvalidOperationException("A VecEnv worker thread failed outside any env call.", crash);
    }

    private void Release(Command command)
    {
        _command = (int)command;
        Volatile.Write(ref _pending, _workers.Length);
        Interlocked.Increment(ref _generation); // full fence: pairs with the sleeper's Interlocked increment
        if (Volatile.Read(ref _sleepingWorkers) > 0)
            lock (_gate) Monitor.PulseAll(_gate);
    }

    private void WaitForWorkers()
    {
        if (Volatile.Read(ref _pending) == 0) return;
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        int k = 0;
        while (Volatile.Read(ref _pending) != 0)
        {
            Thread.SpinWait(8);
            if ((++k & 63) == 0 && Stopwatch.GetTimestamp() > until) break;
        }
        if (Volatile.Read(ref _pending) == 0) return;
        lock (_doneGate)
        {
            Interlocked.Increment(ref _mainSleeping);
            while (Volatile.Read(ref _pending) != 0) Monitor.Wait(_doneGate);
            Interlocked.Decrement(ref _mainSleeping);
        }
    }

    private void WorkerLoop(int block)
    {
        long seen = 0;
        while (true)
        {
            seen++;
            WaitForGeneration(seen);
            var command = (Command)_command;
            if (command == Command.Stop) return;
            try { RunRange(command, _blockStart[block], _blockStart[block + 1]); }
            catch (Exception e) { _workerCrash ??= e; }
            _workerAllocated[block] = GC.GetAllocatedBytesForCurrentThread();
            if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _mainSleeping) > 0)
                lock (_doneGate) Monitor.PulseAll(_doneGate);
        }
    }

    private void WaitForGeneration(long generation)
    {
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        int k = 0;
        while (Volatile.Read(ref _generation) < generation)
        {
            Thread.SpinWait(8);
            if ((++k & 63) == 0 && Stopwatch.GetTimestamp() > until) break;
        }
        if (Volatile.Read(ref _generation) >= generation) return;
        lock (_gate)
        {
            Interlocked.Increment(ref _sleepingWorkers);
            while (Volatile.Read(ref _generation) < generation) Monitor.Wait(_gate);
            Interlocked.Decrement(ref _sleepingWorkers);
        }
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
            Release(Command.Stop);
            lock (_gate) Monitor.PulseAll(_gate);
            foreach (var w in _workers) w.Join();
        }
        DisposeEnvs();
    }

    public override string ToString() => $"ThreadedVecEnv({NumEnvs} × {Envs[0]}, {Threads} threads)";
}
