using Proximal.Numerics;

namespace Proximal.Envs.Wrappers;

/// <summary>
/// Running mean and (population) variance per element in float64, updated a batch at a time with the
/// parallel-merge formula of Chan, Golub and LeVeque: for batch moments (μ_b, σ²_b, n_b) and running
/// (μ, σ², n): δ = μ_b − μ, n' = n + n_b, μ' = μ + δ·n_b/n', σ²' = (σ²·n + σ²_b·n_b + δ²·n·n_b/n')/n'.
/// Starts at mean 0, variance 1, count 1e-4 (Gymnasium's RunningMeanStd), so the first batch dominates.
/// </summary>
public sealed class RunningMeanVar
{
    private readonly double[] _mean, _var, _batchMean, _batchVar;
    // Data parallel (distributed training): the moments of the rows added since the last synchronisation and the
    // statistics as they stood then; null until BeginSynchronizing.
    private double[]? _pendingMean, _pendingVar, _syncedMean, _syncedVar, _reduce;
    private double _pendingCount, _syncedCount;

    public RunningMeanVar(int size, double initialCount = 1e-4)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "RunningMeanVar size must be > 0.");
        if (!(initialCount > 0)) throw new ArgumentOutOfRangeException(nameof(initialCount), initialCount, "Initial count must be > 0.");
        _mean = new double[size];
        _var = new double[size];
        Array.Fill(_var, 1.0);
        _batchMean = new double[size];
        _batchVar = new double[size];
        Count = initialCount;
    }

    public int Size => _mean.Length;
    public ReadOnlySpan<double> Mean => _mean;
    public ReadOnlySpan<double> Variance => _var;
    public double Count { get; private set; }

    /// <summary>Adds <c>batch.Length / Size</c> rows (row-major, Size values each).</summary>
    public void Update(ReadOnlySpan<float> batch)
    {
        int d = _mean.Length;
        if (batch.Length == 0 || batch.Length % d != 0)
            throw new ArgumentException($"Batch of {batch.Length} values is not a positive whole number of rows of {d}.", nameof(batch));
        int rows = batch.Length / d;
        Array.Clear(_batchMean);
        Array.Clear(_batchVar);
        for (int r = 0; r < rows; r++)
        {
            var row = batch.Slice(r * d, d);
            for (int j = 0; j < d; j++) _batchMean[j] += row[j];
        }
        for (int j = 0; j < d; j++) _batchMean[j] /= rows;
        for (int r = 0; r < rows; r++)
        {
            var row = batch.Slice(r * d, d);
            for (int j = 0; j < d; j++) { double e = row[j] - _batchMean[j]; _batchVar[j] += e * e; }
        }
        for (int j = 0; j < d; j++) _batchVar[j] /= rows;
        Merge(_batchMean, _batchVar, rows);
        TrackPending(rows);
    }

    /// <summary>Same as <see cref="Update(ReadOnlySpan{float})"/> for float64 rows.</summary>
    public void Update(ReadOnlySpan<double> batch)
    {
        int d = _mean.Length;
        if (batch.Length == 0 || batch.Length % d != 0)
            throw new ArgumentException($"Batch of {batch.Length} values is not a positive whole number of rows of {d}.", nameof(batch));
        int rows = batch.Length / d;
        Array.Clear(_batchMean);
        Array.Clear(_batchVar);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++) _batchMean[j] += batch[r * d + j];
        for (int j = 0; j < d; j++) _batchMean[j] /= rows;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++) { double e = batch[r * d + j] - _batchMean[j]; _batchVar[j] += e * e; }
        for (int j = 0; j < d; j++) _batchVar[j] /= rows;
        Merge(_batchMean, _batchVar, rows);
        TrackPending(rows);
    }

    /// <summary>Merges another set of moments (e.g. another worker's statistics).</summary>
    public void Merge(ReadOnlySpan<double> batchMean, ReadOnlySpan<double> batchVar, double batchCount)
    {
        int d = _mean.Length;
        if (batchMean.Length != d || batchVar.Length != d)
            throw new ArgumentException($"Merge needs {d} means and variances, got {batchMean.Length} and {batchVar.Length}.");
        if (!(batchCount > 0)) throw new ArgumentOutOfRangeException(nameof(batchCount), batchCount, "Batch count must be > 0.");
        double n = Count, total = n + batchCount;
        for (int j = 0; j < d; j++)
        {
            double delta = batchMean[j] - _mean[j];
            _mean[j] += delta * batchCount / total;
            double m2 = _var[j] * n + batchVar[j] * batchCount + delta * delta * n * batchCount / total;
            _var[j] = m2 / total;
        }
        Count = total;
    }

    // ---------------------------------------------------------------- data parallel (distributed training)

    /// <summary>
    /// Starts tracking the rows added from now on, so <see cref="SynchronizeAcross"/> can merge every rank's new rows.
    /// Between synchronisations each rank normalises with the shared statistics plus its own new rows.
    /// </summary>
    public void BeginSynchronizing()
    {
        int d = _mean.Length;
        _pendingMean = new double[d]; _pendingVar = new double[d]; _syncedMean = new double[d]; _syncedVar = new double[d];
        _reduce = new double[d + 1];
        MarkSynchronized();
    }

    /// <summary>
    /// Makes every rank's statistics the merge of the statistics at the last synchronisation with the rows ALL ranks
    /// added since (pooled mean, then pooled M2 around it: two sums, exact rather than a Σx² shortcut). Call on every
    /// rank at the same point (once per iteration); the result is identical on every rank.
    /// </summary>
    public void SynchronizeAcross(IAllReduce ranks)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        if (_pendingMean is null || _pendingVar is null || _syncedMean is null || _syncedVar is null || _reduce is null)
            throw new InvalidOperationException("Call BeginSynchronizing before SynchronizeAcross.");
        int d = _mean.Length;
        var r = _reduce.AsSpan();
        r[d] = _pendingCount;
        for (int j = 0; j < d; j++) r[j] = _pendingCount * _pendingMean[j];
        ranks.Sum(r);
        double n = r[d];
        if (n <= 0) return; // no rank added rows
        for (int j = 0; j < d; j++) _batchMean[j] = r[j] / n;
        for (int j = 0; j < d; j++)
        {
            double delta = _pendingMean[j] - _batchMean[j];
            r[j] = _pendingCount * (_pendingVar[j] + delta * delta); // this rank's M2 about the pooled mean
        }
        ranks.Sum(r[..d]);
        for (int j = 0; j < d; j++) _batchVar[j] = r[j] / n;
        _syncedMean.CopyTo(_mean, 0);
        _syncedVar.CopyTo(_var, 0);
        Count = _syncedCount;
        Merge(_batchMean, _batchVar, n);
        MarkSynchronized();
    }

    private void MarkSynchronized()
    {
        _mean.CopyTo(_syncedMean!, 0);
        _var.CopyTo(_syncedVar!, 0);
        _syncedCount = Count;
        Array.Clear(_pendingMean!);
        Array.Clear(_pendingVar!);
        _pendingCount = 0;
    }

    /// <summary>Merges the batch just added (in _batchMean/_batchVar) into the pending moments (Chan's formula again).</summary>
    private void TrackPending(int rows)
    {
        if (_pendingMean is null || _pendingVar is null) return;
        double n = _pendingCount, total = n + rows;
        for (int j = 0; j < _pendingMean.Length; j++)
        {
            double delta = _batchMean[j] - _pendingMean[j];
            _pendingMean[j] += delta * rows / total;
            _pendingVar[j] = (_pendingVar[j] * n + _batchVar[j] * rows + delta * delta * n * rows / total) / total;
        }
        _pendingCount = total;
    }

    public Dictionary<string, double[]> GetState() => new(StringComparer.Ordinal)
    {
        ["mean"] = (double[])_mean.Clone(),
        ["var"] = (double[])_var.Clone(),
        ["count"] = new[] { Count },
    };

    public void SetState(string owner, IReadOnlyDictionary<string, double[]> state)
    {
        int d = _mean.Length;
        WrapperStates.Validate(owner, state, ("mean", d), ("var", d), ("count", 1));
        double count = state["count"][0];
        if (!(count > 0) || !double.IsFinite(count)) throw new ArgumentException($"{owner} state 'count' = {count} must be a finite number > 0.", nameof(state));
        var mean = state["mean"];
        var var = state["var"];
        for (int j = 0; j < d; j++)
        {
            if (!double.IsFinite(mean[j])) throw new ArgumentException($"{owner} state 'mean'[{j}] = {mean[j]} is not finite.", nameof(state));
            if (!(var[j] >= 0) || !double.IsFinite(var[j])) throw new ArgumentException($"{owner} state 'var'[{j}] = {var[j]} must be finite and ≥ 0.", nameof(state));
        }
        mean.CopyTo(_mean, 0);
        var.CopyTo(_var, 0);
        Count = count;
        if (_pendingMean is not null) MarkSynchronized();
    }
}
