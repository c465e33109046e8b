using System.Runtime.InteropServices;
using System.Text;
using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Common.Config;
using Proximal.Distributed;
using Proximal.Training.Sessions;

namespace Proximal.Cli.Train;

/// <summary>
/// <c>mpirun -np K proximal train … --distributed</c> (or <c>--chief-worker D</c>): one rank of a data-parallel run.
/// Every rank builds the same session from the same command line; they compare a hash of it (so a rank started with
/// other configs, files or model is one clear line, not a silent divergence), rank 0 broadcasts its initial
/// parameters, then rank 0 trains through the usual session (run folder, logs, TensorBoard, checkpoints, model) while
/// the others run the same learn loop writing nothing. Any failure on any rank ends the whole job with one line.
/// </summary>
internal sealed class DistributedTraining : IDisposable
{
    private readonly MpiCommunicator _comm;
    private readonly int? _stragglers;
    private IDataParallel? _context;
    private bool _agreed;

    private DistributedTraining(MpiCommunicator comm, int? stragglers)
    {
        _comm = comm;
        _stragglers = stragglers;
    }

    public int Rank => _comm.Rank;
    public int Size => _comm.Size;

    /// <summary>This process's rank as the MPI launcher set it (before MPI_Init), or null outside mpirun.</summary>
    public static int? RankFromEnvironment =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") ?? Environment.GetEnvironmentVariable("PMIX_RANK"), out int r) ? r : null;

    public const string LauncherHint = "start it with mpirun, e.g. mpirun -np 2 ./proximal train --algo ppo --env Hopper-v4 --distributed (docs/distributed.md)";

    /// <summary>Initialises MPI. Throws <see cref="MpiUnavailableException"/> with the one line to show.</summary>
    public static DistributedTraining Start(TimeSpan rankTimeout, int? stragglers)
    {
        var comm = MpiCommunicator.Initialize(rankTimeout);
        if (stragglers is { } d && (d < 0 || d >= comm.Size))
        {
            comm.Dispose();
            throw new MpiUnavailableException($"--chief-worker {d}: D (the gradients the chief may go without) must be 0 … {comm.Size - 1} with {comm.Size} ranks.");
        }
        return new DistributedTraining(comm, stragglers);
    }

    /// <summary>
    /// Every rank reports whether it built its session and a hash of what it will train; returns null when all agree,
    /// else the exit code (rank 0 has printed the line). A rank whose session failed passes null (its error is printed
    /// by rank 0 when rank 0's own setup succeeded, else rank 0's own error is the line).
    /// </summary>
    public int? Agree(TrainingSession? session, string? error)
    {
        _agreed = true;
        Span<double> mine = [session is null ? 0 : 1, session is null ? 0 : Hash(session)];
        var all = new double[2 * Size];
        _comm.AllGather(mine, all);
        for (int r = 0; r < Size; r++)
        {
            if (all[2 * r] != 0) continue;
            if (Rank == r && r != 0 && all[0] != 0) Console.Error.WriteLine($"error: rank {r}: {error}");
            return TrainCommand.ExitUsage;
        }
        for (int r = 1; r < Size; r++)
            if (all[2 * r + 1] != all[1])
            {
                if (Rank == 0)
                    Console.Error.WriteLine($"error: rank {r} was started with a different configuration than rank 0 (algorithm, env, options, steps or model differ; " +
                                            "hash " + all[2 * r + 1].ToString("R") + " vs " + all[1].ToString("R") + "): give every rank the same command line, config files and model.");
                return TrainCommand.ExitUsage;
            }
        return null;
    }

    /// <summary>Makes the session's agent a rank of the job (rank 0's parameters broadcast). Null when fine, else the one line.</summary>
    public string? Attach(TrainingSession session)
    {
        if (session.Agent is not OnPolicyAlgorithm onPolicy)
            return $"--distributed trains the on-policy algorithms (ppo, a2c, trpo); {session.Algorithm} is off-policy.";
        _context = _stragglers is { } d
            ? new ChiefWorker(_comm, onPolicy.Policy.Parameters.Count, d)
            : new DataParallel(_comm);
        try { onPolicy.UseDataParallel(_context); }
        catch (NotSupportedException e) { return e.Message; }
        return null;
    }

    public string Describe(TrainingSession session) =>
        $"Distributed: {Size} ranks ({_comm.Description}), {session.Options.NEnvs} env(s) each = {Size * session.Options.NEnvs} envs; " +
        (_stragglers is { } d ? $"chief/worker (rank 0 averages once {Size - d} of {Size} gradients arrived)" : "synchronous all-reduce of the gradient per minibatch") +
        $"; a rank silent for {_comm.Timeout.TotalSeconds:0.#} s ends the job.";

    /// <summary>The prefix and suffix of the resume command this run prints.</summary>
    public (string Prefix, string Suffix) ResumeParts =>
        ($"mpirun -np {Size} ", _stragglers is { } d ? $" --chief-worker {d}" : " --distributed");

    /// <summary>A rank other than 0: the same learn loop, no files; rank 0 decides when it ends. Returns the exit code.</summary>
    public int RunWorker(TrainingSession session)
    {
        // Ctrl-C / SIGTERM reach every rank; rank 0 stops after the update in progress and tells the others.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => c.Cancel = true);
        try
        {
            session.Agent.Learn(session.StepsToTrain, [], CancellationToken.None, session.ScheduleMode);
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Abort(TrainCommand.ExitFailed, $"error: rank {Rank}: training failed: {e.Message.ReplaceLineEndings(" ")}");
            return TrainCommand.ExitFailed;
        }
    }

    /// <summary>Ends every rank now (rank 0 has already saved the model and printed what happened).</summary>
    public void Abort(int exitCode, string message) => _comm.Abort(exitCode, message);

    /// <summary>Completes what is in flight and finalises MPI (every rank, at the end of a run that did not abort).</summary>
    public void Dispose()
    {
        if (!_agreed) Agree(null, null); // this rank failed before the others' agreement call: meet it, so they stop too
        (_context as IDisposable)?.Dispose();
        _comm.Dispose();
    }

    /// <summary>FNV-1a of what the rank will train: algorithm, env, the resolved options, steps, schedule, and the parameters it starts from.</summary>
    private static double Hash(TrainingSession session)
    {
        var text = new StringBuilder()
            .Append(session.Algorithm).Append('\n').Append(session.EnvId).Append('\n')
            .Append(ConfigWriter.ToYaml(session.Options)).Append('\n')
            .Append(session.StepsToTrain).Append('\n').Append(session.Agent.NumTimesteps).Append('\n').Append(session.ScheduleMode).Append('\n');
        if (session.Agent is OnPolicyAlgorithm a) text.Append(DataParallel.Checksum(a.Policy.Parameters.Values).ToString("R"));
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text.ToString())) { h ^= b; h *= 1099511628211UL; }
        return h & ((1UL << 52) - 1);
    }
}
