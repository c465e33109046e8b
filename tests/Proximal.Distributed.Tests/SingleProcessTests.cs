using Proximal.Algorithms.OnPolicy;

namespace Proximal.Distributed.Tests;

/// <summary>What needs no mpirun: the one-rank communicator, the checksum, and the clear line for a missing/wrong MPI library.</summary>
public sealed class SingleProcessTests
{
    [Fact]
    public void AMissingMpiLibraryIsOneClearLine()
    {
        var e = Assert.Throws<MpiUnavailableException>(() => MpiCommunicator.Open("libmpi-that-does-not-exist.so.40"));
        Assert.Contains("could not be loaded", e.Message);
        Assert.Contains("apt-get install openmpi-bin", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ALibraryOfAnotherAbiIsOneClearLine()
    {
        // libm is a real shared library without MPI symbols: the ABI check must name it rather than crash.
        var e = Assert.Throws<MpiUnavailableException>(() => MpiCommunicator.Open("libm.so.6"));
        Assert.Contains("not a usable Open MPI library", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void OneRankDataParallelIsTheSingleProcessUpdate_BitForBit()
    {
        using var plain = Build();
        using var dp = Build();
        dp.UseDataParallel(new DataParallel(new SingleProcessCommunicator()));
        Worker.Fill(plain, Worker.N, 0);
        Worker.Fill(dp, Worker.N, 0);
        plain.TrainForTests();
        dp.TrainForTests();
        Assert.True(plain.Policy.Parameters.Values.AsSpan().SequenceEqual(dp.Policy.Parameters.Values));
    }

    [Fact]
    public void ChecksumSeesEveryBit()
    {
        var a = new float[] { 1f, 2f, 3f };
        var b = (float[])a.Clone();
        b[1] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(b[1]) ^ 1);
        Assert.NotEqual(DataParallel.Checksum(a), DataParallel.Checksum(b));
        Assert.Equal(DataParallel.Checksum(a), DataParallel.Checksum((float[])a.Clone()));
    }

    private static Ppo Build() => Ppo.Create("Pendulum-v1", new PpoOptions
    {
        NEnvs = Worker.N, NSteps = Worker.T, MinibatchSize = 8, NEpochs = 2, Seed = 5,
    });
}
