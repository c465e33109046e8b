namespace Proximal.Numerics;

/// <summary>
/// Element-wise sum across the processes (ranks) of a data-parallel job, in place: afterwards every rank holds the
/// same sums. Defined this low so that running statistics (observation and reward normalisation) can be merged
/// across ranks without the environment layer knowing anything about MPI; the binding lives in Proximal.Distributed.
/// </summary>
public interface IAllReduce
{
    /// <summary>Replaces <paramref name="values"/> on every rank by their sum over all ranks (the same order on every rank).</summary>
    void Sum(Span<double> values);
}
