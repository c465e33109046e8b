using Proximal.Algorithms;
using Proximal.Algorithms.OffPolicy;
using Proximal.Algorithms.OnPolicy;
using Proximal.Envs.Wrappers;
using Proximal.Numerics;

namespace Proximal.Tests.Algorithms;

/// <summary>
/// The algorithm layer's data-parallel hooks without MPI (the MPI runs are tests/Proximal.Distributed.Tests): one rank
/// changes nothing, and the pooled formulas are right, checked with a stand-in for K identical ranks (its Sum
/// multiplies by K, which is what K ranks holding the same data would sum to).
/// </summary>
public sealed class DataParallelHooksTests
{
    /// <summary>K ranks that all hold this rank's data; Size 1 is a single process.</summary>
    private sealed class IdenticalRanks(int size) : IDataParallel
    {
        public int Rank => 0;
        public int Size => size;
        public int GradientReductions { get; private set; }
        public void Sum(Span<double> values) { foreach (ref double v in values) v *= size; }
        public void AverageGradients(Span<float> gradients) => GradientReductions++; // K equal gradients average to themselves
        public void Broadcast(Span<float> values) { }
        public void GatherEpisodes(ReadOnlySpan<double> episodes, List<double> gatheredOnRoot) { }
        public bool AgreeToContinue(bool rootDecision) => rootDecision;
        public void CheckInSync(long iteration, ReadOnlySpan<float> parameters) { }
        public void AddMetrics(IDictionary<string, double> metrics) => metrics["distributed/ranks"] = size;
    }

    [Fact]
    public void RunningStatisticsMergedOverRanksEqualOneProcessOverAllRows()
    {
        var rng = new Rng(3);
        var batches = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 4 * 2).Select(i => (float)(rng.NextGaussian() * (1 + i % 2) + 5 * (i % 2))).ToArray()).ToArray();
        var merged = new RunningMeanVar(2);
        merged.BeginSynchronizing();
        var reference = new RunningMeanVar(2);
        var ranks = new IdenticalRanks(3);
        foreach (var b in batches)
        {
            merged.Update(b);
            reference.Update(b.Concat(b).Concat(b).ToArray()); // the 3 ranks' rows of this step
        }
        merged.SynchronizeAcross(ranks);
        for (int j = 0; j < 2; j++)
        {
            Assert.Equal(reference.Mean[j], merged.Mean[j], 1e-12);
            Assert.Equal(reference.Variance[j], merged.Variance[j], 1e-12);
        }
        Assert.Equal(reference.Count, merged.Count, 1e-9);
    }

    [Fact]
    public void AdvantagesNormalisedOverRanksEqualTheWholeBatch()
    {
        var rng = new Rng(4);
        var a = Enumerable.Range(0, 9).Select(_ => (float)(rng.NextGaussian() * 2 + 1)).ToArray();
        var whole = a.Concat(a).ToArray();
        Surrogate.NormalizeAdvantages(whole);
        var mine = (float[])a.Clone();
        Surrogate.NormalizeAdvantages(mine, new IdenticalRanks(2));
        for (int i = 0; i < a.Length; i++) Assert.Equal(whole[i], mine[i], 1e-6);
    }

    [Fact]
    public void OneRankTrainsBitForBitAsASingleProcess_AndReducesOncePerMinibatch()
    {
        var options = new PpoOptions { NEnvs = 2, NSteps = 16, MinibatchSize = 8, NEpochs = 2, Seed = 9, NormalizeObservation = true, NormalizeReward = true };
        using var plain = Ppo.Create("Pendulum-v1", options);
        using var one = Ppo.Create("Pendulum-v1", options);
        var ranks = new IdenticalRanks(1);
        one.UseDataParallel(ranks);
        plain.Learn(64);
        one.Learn(64);
        Assert.True(plain.Policy.Parameters.Values.AsSpan().SequenceEqual(one.Policy.Parameters.Values));
        Assert.Equal(plain.NumTimesteps, one.NumTimesteps);
        Assert.Equal(2 * 2 * (32 / 8), ranks.GradientReductions); // 2 iterations × 2 epochs × 4 minibatches
        Assert.Equal(1, one.Metrics["distributed/ranks"]);
    }

    [Fact]
    public void StepsCountForAllRanks()
    {
        using var ppo = Ppo.Create("CartPole-v1", new PpoOptions { NEnvs = 2, NSteps = 8, MinibatchSize = 8, NEpochs = 1 });
        ppo.UseDataParallel(new IdenticalRanks(3));
        ppo.Learn(48);
        Assert.Equal(48, ppo.NumTimesteps); // one iteration: 3 ranks × 2 envs × 8 steps
    }

    [Fact]
    public void OffPolicyAlgorithmsRefuseDataParallelInOneLine()
    {
        using var sac = Sac.Create("Pendulum-v1", new SacOptions { HiddenSizes = [8], BatchSize = 4, LearningStarts = 0, BufferSize = 16 });
        var e = Assert.Throws<NotSupportedException>(() => sac.UseDataParallel(new IdenticalRanks(2)));
        Assert.Contains("on-policy", e.Message);
    }
}
