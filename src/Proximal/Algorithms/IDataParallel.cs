using Proximal.Numerics;

namespace Proximal.Algorithms;

/// <summary>
/// The data-parallel context of a distributed run (DD-PPO / ppo2_mpi style): K ranks each step their own envs and
/// compute the gradient of their own minibatch; ONE all-reduce of the flat gradient per minibatch makes every rank
/// take the identical optimiser step. The algorithm layer only calls this interface (a single-process run has none
/// at all); Proximal.Distributed implements it over MPI. Every call must be made by every rank in the same order.
/// </summary>
public interface IDataParallel : IAllReduce
{
    /// <summary>This process's index, 0 … Size − 1. Rank 0 alone writes files and logs.</summary>
    int Rank { get; }

    /// <summary>The number of ranks K.</summary>
    int Size { get; }

    /// <summary>The gradient of the mean loss over all ranks' minibatches: one all-reduce (sum) of the flat buffer, then ÷ K.</summary>
    void AverageGradients(Span<float> gradients);

    /// <summary>Rank 0's values on every rank (initial parameters).</summary>
    void Broadcast(Span<float> values);

    /// <summary>
    /// Once per iteration: sends this rank's finished episodes (return, length pairs) to rank 0, which receives every
    /// other rank's into <paramref name="gatheredOnRoot"/>. Doubles as the heartbeat: a rank that does not arrive in
    /// time is named and the job ends.
    /// </summary>
    void GatherEpisodes(ReadOnlySpan<double> episodes, List<double> gatheredOnRoot);

    /// <summary>Rank 0's decision (continue training or stop: callbacks, Ctrl-C) on every rank.</summary>
    bool AgreeToContinue(bool rootDecision);

    /// <summary>Every few iterations compares a checksum of the parameters across ranks; any drift ends the job loudly.</summary>
    void CheckInSync(long iteration, ReadOnlySpan<float> parameters);

    /// <summary>Adds the run's distributed figures to the iteration's metrics (distributed/ranks, all-reduce seconds, …).</summary>
    void AddMetrics(IDictionary<string, double> metrics);
}
