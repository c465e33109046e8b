using System.Diagnostics;

namespace Proximal.Numerics;

/// <summary>Work cut into parts that run side by side; part p of P must not depend on which thread runs it.</summary>
public interface IPartitionedWork
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> (the same cut whoever runs it).</summary>
    void RunPart(int part, int parts);
}

/// <summary>
/// The helper threads that every multi-threaded kernel shares (GEMM's blocks of C, the critics side by side, Adam and
/// Polyak over halves of a flat buffer): the caller posts the work, runs part 0 itself and waits for the others. ONE
/// set of helpers for all of them, because a helper spins for a while after its part before it sleeps (waking a sleeping
/// thread costs tens of microseconds on a VM, and an off-policy step issues dozens of small parallel pieces with serial
/// work and an env step between them): two sets of spinning helpers would fight the caller for the second core.
/// <para>
/// One piece of work at a time uses the helpers. A caller that finds them busy (another thread's work, or work nested
/// inside a part) runs all its parts itself, in order, with the same cut, so results never depend on who ran what.
/// Steady-state calls allocate nothing.
/// </para>
/// </summary>
public static class WorkerTeam
{
    /// <summary>How long an idle helper spins (keeps its core awake) before it blocks.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    private static int _busy;
    private static Helper[] _helpers = [];
    private static IPartitionedWork? _work;
    private static int _parts, _pending;
    private static readonly ManualResetEventSlim Done = new(false, 0);
    private static Exception? _error;

    /// <summary>
    /// <see cref="Run"/> for a job held in a struct (a kernel's raw pointers and sizes): the struct is copied into a holder
    /// kept per calling thread and job type, so no call allocates or boxes.
    /// </summary>
    public static void RunStruct<TJob>(in TJob job, int parts) where TJob : struct, IPartitionedWork => Holder<TJob>.Run(job, parts);

    private sealed class Holder<TJob> : IPartitionedWork where TJob : struct, IPartitionedWork
    {
        [ThreadStatic] private static Holder<TJob>? _current;
        private TJob _job;

        public static void Run(in TJob job, int parts)
        {
            var holder = _current ??= new Holder<TJob>();
            holder._job = job;
            try { WorkerTeam.Run(holder, parts); }
            finally { holder._job = default; } // no stale pointers kept
        }

        public void RunPart(int part, int parts) => _job.RunPart(part, parts);
    }

    /// <summary>Runs parts 0 … <paramref name="parts"/> − 1 of <paramref name="work"/>: part 0 on the calling thread, the others on helpers.</summary>
    public static void Run(IPartitionedWork work, int parts)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (parts <= 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int p = 0; p < parts; p++) work.RunPart(p, parts);
            return;
        }
        try
        {
            while (_helpers.Length < parts - 1) Grow();
            _work = work;
            _parts = parts;
            _error = null;
            Done.Reset();
            Volatile.Write(ref _pending, parts - 1);
            for (int i = 0; i < parts - 1; i++) _helpers[i].Post();
            try { work.RunPart(0, parts); }
            finally
            {
                // Even when part 0 threw: the helpers must be done before the team is handed on. They are usually done
                // within microseconds of the caller: spin without yielding (a yield hands the core to any other runnable
                // process, even a low-priority one, for a whole time slice: measured, it erased the second core's gain),
                // then block until the last helper signals.
                // The count, not the event, says when the round is over: a helper that finished the previous round may
                // have been preempted between its decrement and its Set (the caller saw the count reach 0 while spinning
                // and went on), and that late Set then lands after this round's Reset. Trusting it returned while a
                // helper still ran this round's part: its results were read unfinished and _work was cleared under it.
                long start = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _pending) != 0 && Stopwatch.GetTimestamp() - start < SpinTicks) Thread.SpinWait(20);
                while (Volatile.Read(ref _pending) != 0)
                {
                    Done.Wait();
                    if (Volatile.Read(ref _pending) != 0) Done.Reset(); // a stale Set; the count is re-read before waiting again
                }
            }
            if (_error is { } e) throw new InvalidOperationException("A worker-team helper thread failed.", e);
        }
        finally
        {
            _work = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Tests: runs on the helper that finished a round, between its decrement and its Set (to widen that window).</summary>
    internal static Action? BeforeDoneSignalForTests;

    private static void Grow()
    {
        var grown = new Helper[_helpers.Length + 1];
        _helpers.CopyTo(grown, 0);
        grown[^1] = new Helper(_helpers.Length + 1);
        _helpers = grown;
    }

    private sealed class Helper
    {
        private readonly ManualResetEventSlim _go = new(false, 0);
        private readonly int _part;
        private long _posted; // rounds posted by callers; the helper counts the rounds it ran

        public Helper(int part)
        {
            _part = part;
            new Thread(Loop) { IsBackground = true, Name = $"Proximal worker {part}" }.Start();
        }

        public void Post()
        {
            Interlocked.Increment(ref _posted);
            _go.Set(); // cheap when nobody waits; wakes the helper if it went to sleep
        }

        private void Loop()
        {
            long done = 0;
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _posted) == done && Stopwatch.GetTimestamp() - start < SpinTicks) Thread.SpinWait(20);
                while (Volatile.Read(ref _posted) == done)
                {
                    _go.Wait();
                    _go.Reset(); // a Set from a round already seen while spinning: re-check, and wait again if nothing is new
                }
                done++;
                try { _work!.RunPart(_part, _parts); }
                catch (Exception e) { _error = e; }
                if (Interlocked.Decrement(ref _pending) == 0)
                {
                    BeforeDoneSignalForTests?.Invoke();
                    Done.Set();
                }
            }
        }
    }
}
