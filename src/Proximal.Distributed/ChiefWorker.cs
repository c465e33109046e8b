using System.Diagnostics;
using System.Numerics.Tensors;
using Proximal.Algorithms;
using Proximal.Distributed.Binding;

namespace Proximal.Distributed;

/// <summary>
/// The chief/worker variant of distributed PPO (DPPO, Heess et al. 2017): every rank computes its minibatch gradient;
/// the workers send theirs to the chief (rank 0, which also computes one), and the chief averages the gradients of
/// the current update as soon as at least W − D of the W = K ranks have arrived — its own always among them — so up
/// to D stragglers never stall it. A straggler's late gradient is dropped (counted in <see cref="DroppedGradients"/>
/// and logged as distributed/dropped_gradients). The chief sends the averaged gradient back, and every rank takes the
/// identical clipped optimiser step with it, so parameters and optimiser states stay identical everywhere.
/// With D = 0 this is the synchronous average over all ranks (summed in rank order, so deterministic).
/// Everything else (statistics, episodes, heartbeat, checksum) is <see cref="DataParallel"/>'s.
/// </summary>
public sealed unsafe class ChiefWorker : IDataParallel, IDisposable
{
    private const int TagGradient = 21, TagAverage = 22;

    private readonly MpiCommunicator _comm;
    private readonly DataParallel _shared;
    private readonly int _n;                       // gradient length; messages carry one more float: the update's number
    private readonly float[][] _received;          // per worker (chief): its latest message
    private readonly nint[] _receiveRequests;
    private readonly bool[] _receivePending, _arrived;
    private readonly long[] _consumed;             // chief: messages taken from each worker (used or dropped)
    private readonly float[][] _averages;          // chief: two alternating send buffers (a straggler may still be reading the previous one)
    private readonly nint[,] _averageRequests;
    private readonly bool[,] _averagePending;
    private readonly float[] _send, _incoming;     // worker: its gradient in flight; the chief's average
    private nint _sendRequest;
    private bool _sendPending;
    private long _update;
    private long _waitTicks;

    /// <param name="stragglers">D: how many of the W = K ranks' gradients the chief may go without (0 … K − 1).</param>
    public ChiefWorker(MpiCommunicator communicator, int gradientLength, int stragglers, int checksumEvery = 10)
    {
        _comm = communicator ?? throw new ArgumentNullException(nameof(communicator));
        int k = communicator.Size;
        if (stragglers < 0 || stragglers >= k)
            throw new ArgumentOutOfRangeException(nameof(stragglers), stragglers, $"D (stragglers the chief may drop) must be 0 … {k - 1} with {k} ranks.");
        if (gradientLength <= 0) throw new ArgumentOutOfRangeException(nameof(gradientLength));
        _shared = new DataParallel(communicator, checksumEvery);
        _n = gradientLength;
        Stragglers = stragglers;
        _received = new float[k][];
        _receiveRequests = new nint[k];
        _receivePending = new bool[k];
        _arrived = new bool[k];
        _consumed = new long[k];
        _averages = new float[2][];
        _averageRequests = new nint[2, k];
        _averagePending = new bool[2, k];
        if (Rank == 0)
        {
            for (int r = 1; r < k; r++) _received[r] = GC.AllocateArray<float>(_n + 1, pinned: true);
            for (int b = 0; b < 2; b++) _averages[b] = GC.AllocateArray<float>(_n + 1, pinned: true);
            _send = _incoming = [];
        }
        else
        {
            _send = GC.AllocateArray<float>(_n + 1, pinned: true);
            _incoming = GC.AllocateArray<float>(_n + 1, pinned: true);
        }
    }

    public int Rank => _comm.Rank;
    public int Size => _comm.Size;
    /// <summary>D of the W − D rule.</summary>
    public int Stragglers { get; }
    /// <summary>Late gradients the chief received after it had already stepped without them.</summary>
    public long DroppedGradients { get; private set; }
    /// <summary>Gradients the chief averaged (its own included).</summary>
    public long UsedGradients { get; private set; }
    /// <summary>Seconds this rank spent exchanging gradients (waiting included).</summary>
    public double GradientExchangeSeconds => _waitTicks / (double)Stopwatch.Frequency;
    /// <summary>Test hook: runs on a worker before it sends each gradient (to play a straggler).</summary>
    internal Action? BeforeSend { get; set; }

    public void AverageGradients(Span<float> gradients)
    {
        if (gradients.Length != _n) throw new ArgumentException($"The gradient has {gradients.Length} values; this exchange was sized for {_n}.", nameof(gradients));
        long t0 = Stopwatch.GetTimestamp();
        float tag = _update % (1 << 24); // exact in a float
        if (Size == 1) { }
        else if (Rank == 0) Chief(gradients, tag);
        else Worker(gradients, tag);
        _update++;
        _waitTicks += Stopwatch.GetTimestamp() - t0;
    }

    private void Worker(Span<float> gradients, float tag)
    {
        BeforeSend?.Invoke();
        fixed (nint* req = &_sendRequest)
        fixed (float* send = _send)
        fixed (float* incoming = _incoming)
        {
            if (_sendPending) Check(NativeMethods.Wait(req, _comm.Timeout.TotalSeconds), "the chief (rank 0) did not take this rank's previous gradient");
            gradients.CopyTo(_send);
            _send[_n] = tag;
            Check(NativeMethods.IsendF32(send, _n + 1, 0, TagGradient, req), "sending the gradient to the chief");
            _sendPending = true;
            nint recv;
            Check(NativeMethods.IrecvF32(incoming, _n + 1, 0, TagAverage, &recv), "receiving the chief's average");
            // The chief may wait up to one timeout for other workers (then it names them and ends the job).
            if (NativeMethods.Wait(&recv, 2 * _comm.Timeout.TotalSeconds) == 1)
                throw new RankFailureException($"rank 0 (the chief) sent no averaged gradient to rank {Rank} within {2 * _comm.Timeout.TotalSeconds:0.#} s (it died or hangs).");
        }
        if (_incoming[_n] != tag)
            throw new RankFailureException($"rank {Rank} got the chief's average for update {_incoming[_n]} while at update {tag}: the ranks fell out of step.");
        _incoming.AsSpan(0, _n).CopyTo(gradients);
    }

    private void Chief(Span<float> gradients, float tag)
    {
        int k = Size, need = k - Stragglers, have = 1;
        Array.Clear(_arrived);
        for (int r = 1; r < k; r++) PostReceive(r);
        var clock = Stopwatch.StartNew();
        // At least one sweep even when the chief needs no one (D = K − 1): it takes what has arrived, drops what is late,
        // and its MPI_Test calls are what move the workers' sends along.
        while (true)
        {
            for (int r = 1; r < k; r++)
                while (!_arrived[r]) // a straggler may have several late gradients queued: take them all
                {
                    int done;
                    fixed (nint* req = &_receiveRequests[r]) done = NativeMethods.Test(req);
                    Check(done < 0 ? -1 : 0, $"receiving the gradient of rank {r}");
                    if (done == 0) break;
                    _receivePending[r] = false;
                    _consumed[r]++;
                    if (_received[r][_n] == tag) { _arrived[r] = true; have++; }
                    else { DroppedGradients++; PostReceive(r); } // a gradient of an update already taken
                }
            if (have >= need) break;
            if (clock.Elapsed > _comm.Timeout)
            {
                var missing = Enumerable.Range(1, k - 1).Where(r => !_arrived[r]).ToList();
                throw new RankFailureException($"rank{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} sent no gradient for update {tag} within {_comm.Timeout.TotalSeconds:0.#} s " +
                                               $"(the chief needs {need} of {k}; died or hang); ending the job.");
            }
            Thread.Yield();
        }
        // Sum in rank order (deterministic), then the mean over the gradients taken.
        for (int r = 1; r < k; r++)
        {
            if (!_arrived[r]) continue;
            TensorPrimitives.Add(gradients, _received[r].AsSpan(0, _n), gradients);
        }
        if (have > 1) TensorPrimitives.Multiply(gradients, 1f / have, gradients);
        UsedGradients += have;

        int b = (int)(_update & 1);
        var buffer = _averages[b];
        for (int r = 1; r < k; r++)
        {
            if (!_averagePending[b, r]) continue;
            fixed (nint* req = &_averageRequests[b, r])
                if (NativeMethods.Wait(req, _comm.Timeout.TotalSeconds) == 1)
                    throw new RankFailureException($"rank {r} did not take the chief's average of update {tag - 2} within {_comm.Timeout.TotalSeconds:0.#} s (died or hangs); ending the job.");
            _averagePending[b, r] = false;
        }
        gradients.CopyTo(buffer);
        buffer[_n] = tag;
        fixed (float* p = buffer)
            for (int r = 1; r < k; r++)
            {
                fixed (nint* req = &_averageRequests[b, r]) Check(NativeMethods.IsendF32(p, _n + 1, r, TagAverage, req), $"sending the average to rank {r}");
                _averagePending[b, r] = true;
            }
    }

    private void PostReceive(int r)
    {
        if (_receivePending[r]) return;
        fixed (float* p = _received[r])
        fixed (nint* req = &_receiveRequests[r])
            Check(NativeMethods.IrecvF32(p, _n + 1, r, TagGradient, req), $"receiving from rank {r}");
        _receivePending[r] = true;
    }

    private void Check(int rc, string what)
    {
        if (rc == 0) return;
        if (rc == 1) throw new RankFailureException($"rank {Rank}: {what} within {_comm.Timeout.TotalSeconds:0.#} s (died or hangs); ending the job.");
        throw new RankFailureException($"rank {Rank}: {what} failed.");
    }

    // Every call that waits for the workers first lets the chief take their late gradients: a straggler's send
    // completes only when the chief receives it, so a chief waiting in a collective for a worker that waits on its
    // send would deadlock. Stragglers are thus absorbed within an epoch; epoch and iteration boundaries line all up.
    public void Sum(Span<double> values) { CatchUp(); _shared.Sum(values); }
    public void Broadcast(Span<float> values) { CatchUp(); _shared.Broadcast(values); }
    public void GatherEpisodes(ReadOnlySpan<double> episodes, List<double> gatheredOnRoot) { CatchUp(); _shared.GatherEpisodes(episodes, gatheredOnRoot); }
    public bool AgreeToContinue(bool rootDecision) { CatchUp(); return _shared.AgreeToContinue(rootDecision); }
    public void CheckInSync(long iteration, ReadOnlySpan<float> parameters) { CatchUp(); _shared.CheckInSync(iteration, parameters); }

    /// <summary>Chief: receives (and drops, as late) every gradient the workers sent for updates already taken.</summary>
    private void CatchUp()
    {
        if (Rank != 0) return;
        double seconds = _comm.Timeout.TotalSeconds;
        for (int r = 1; r < Size; r++)
            while (_consumed[r] < _update)
            {
                PostReceive(r);
                fixed (nint* req = &_receiveRequests[r])
                    if (NativeMethods.Wait(req, seconds) != 0)
                        throw new RankFailureException($"rank {r} did not send its gradient of update {_consumed[r]} within {seconds:0.#} s (died or hangs); ending the job.");
                _receivePending[r] = false;
                _consumed[r]++;
                DroppedGradients++;
            }
    }
    public void AddMetrics(IDictionary<string, double> metrics)
    {
        _shared.AddMetrics(metrics);
        metrics["distributed/dropped_gradients"] = DroppedGradients;
        metrics["distributed/gradient_exchange_seconds"] = GradientExchangeSeconds;
    }

    /// <summary>
    /// Completes what is still in flight at the end of training (call on every rank before MPI_Finalize): the workers'
    /// last sends, the chief's sends of averages, and the late gradients still on their way to the chief (dropped and
    /// counted).
    /// </summary>
    public void Dispose()
    {
        double seconds = _comm.Timeout.TotalSeconds;
        if (Rank != 0)
        {
            if (_sendPending) fixed (nint* req = &_sendRequest) NativeMethods.Wait(req, seconds);
            _sendPending = false;
        }
        else
        {
            CatchUp(); // first: a worker posts its receive for the next average only after its previous send completed
            for (int b = 0; b < 2; b++)
                for (int r = 1; r < Size; r++)
                    if (_averagePending[b, r]) { fixed (nint* req = &_averageRequests[b, r]) NativeMethods.Wait(req, seconds); _averagePending[b, r] = false; }
        }
        _comm.Barrier();
    }
}
