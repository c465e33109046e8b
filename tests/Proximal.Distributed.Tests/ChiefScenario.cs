using System.Text.Json.Nodes;

namespace Proximal.Distributed.Tests;

/// <summary>
/// Under mpirun: the chief/worker variant with D = 0 gives the synchronous all-reduce's parameters bit for bit (K = 2:
/// both sum the two gradients, and float addition commutes); with D = 1 and rank 1 made a straggler, the chief drops
/// its late gradients (counted), and every rank still holds identical parameters.
/// </summary>
internal static class ChiefScenario
{
    public static JsonObject Run(ICommunicator comm)
    {
        var mpi = (MpiCommunicator)comm;
        int k = comm.Size, rank = comm.Rank;

        using var sync = BuildFilled(comm, p => new DataParallel(comm));
        sync.Algorithm.TrainForTests();

        ChiefWorker? exact = null;
        using var chief0 = BuildFilled(comm, p => exact = new ChiefWorker(mpi, p, stragglers: 0));
        chief0.Algorithm.TrainForTests();
        exact!.Dispose();

        ChiefWorker? loose = null;
        using var chief1 = BuildFilled(comm, p =>
        {
            loose = new ChiefWorker(mpi, p, stragglers: 1);
            if (rank == 1) loose.BeforeSend = () => Thread.Sleep(20);
            return loose;
        });
        chief1.Algorithm.TrainForTests();
        loose!.Dispose();

        Span<double> mine = [DataParallel.Checksum(chief1.Algorithm.Policy.Parameters.Values)];
        var all = new double[k];
        comm.AllGather(mine, all);
        var a = sync.Algorithm.Policy.Parameters.Values;
        var b = chief0.Algorithm.Policy.Parameters.Values;
        bool same = a.AsSpan().SequenceEqual(b);
        return new JsonObject
        {
            ["d0_identical_to_allreduce"] = same,
            ["d1_dropped"] = loose.DroppedGradients,
            ["d1_used"] = loose.UsedGradients,
            ["d1_ranks_identical"] = all.All(c => c == all[0]),
            ["updates"] = exact.UsedGradients / k,
        };
    }

    private sealed class Built(Proximal.Algorithms.OnPolicy.OnPolicyAlgorithm algorithm) : IDisposable
    {
        public Proximal.Algorithms.OnPolicy.OnPolicyAlgorithm Algorithm { get; } = algorithm;
        public void Dispose() => Algorithm.Dispose();
    }

    private static Built BuildFilled(ICommunicator comm, Func<int, Proximal.Algorithms.IDataParallel> context)
    {
        var o = new Proximal.Algorithms.OnPolicy.PpoOptions
        {
            NEnvs = Worker.N, NSteps = Worker.T, MinibatchSize = Worker.T, NEpochs = 4, LearningRate = 1e-3, Seed = 11,
        };
        var ppo = Proximal.Algorithms.OnPolicy.Ppo.Create("Pendulum-v1", o);
        ppo.UseDataParallel(context(ppo.Policy.Parameters.Count));
        Worker.Fill(ppo, comm.Size * Worker.N, comm.Rank * Worker.N);
        return new Built(ppo);
    }
}
