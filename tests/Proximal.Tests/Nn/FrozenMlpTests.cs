using Proximal.Algorithms.Policies;
using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Nn;

/// <summary>
/// <see cref="FrozenMlp"/> and <see cref="FrozenActor"/>: inference copies with transposed weights, which must give the
/// live network's outputs bit for bit (the self-play opponents' moves depend on them) and keep the weights they were
/// given when the source changes.
/// </summary>
public class FrozenMlpTests
{
    [Theory]
    [InlineData(Activation.Relu, new[] { 13, 32, 24, 5 })]
    [InlineData(Activation.Tanh, new[] { 13, 32, 24, 5 })]
    [InlineData(Activation.Relu, new[] { 210, 256, 256, 7 })] // the Connect Four actor
    [InlineData(Activation.Tanh, new[] { 6, 3 })]              // one layer, no activation
    [InlineData(Activation.Relu, new[] { 300, 40, 5 })]        // an input wider than one k block (256): summed in blocks
    public void OutputsEqualTheMlpsToTheBitForEveryBatchSize(Activation activation, int[] sizes)
    {
        var p = new Parameters();
        var mlp = new Mlp(p, sizes, activation, new Rng(5));
        var rng = new Rng(6);
        Reference.RandomFloats(rng, p.Count, 0.2).CopyTo(p.Values, 0); // nonzero biases too
        var frozen = new FrozenMlp(mlp);
        foreach (int batch in new[] { 1, 2, 3, 5, 6, 7, 8, 9, 17, 64 })
        {
            var x = Reference.RandomFloats(rng, batch * sizes[0]);
            var expected = mlp.Forward(x, batch).ToArray();
            Assert.Equal(expected, frozen.Forward(x, batch).ToArray());
            // and against the float64 reference forward
            Reference.Close(Reference.Mlp(mlp, Reference.ToDouble(p.Values), Reference.ToDouble(x), batch), frozen.Forward(x, batch), what: $"batch {batch}");
        }
    }

    [Fact]
    public void BoardPlaneInputsTakeTheSparsePathAndGiveTheDenseBits()
    {
        // The Connect Four actor on 0/1 planes (about 9 % ones): the Mlp's first layer (from 16 rows) and the frozen copy
        // (any batch) skip the zeros; both must equal the dense path to the bit.
        var p = new Parameters();
        var mlp = new Mlp(p, [210, 256, 256, 7], Activation.Relu, new Rng(7));
        var rng = new Rng(8);
        Reference.RandomFloats(rng, p.Count, 0.2).CopyTo(p.Values, 0);
        var frozen = new FrozenMlp(mlp);
        foreach (int batch in new[] { 1, 3, 16, 64 })
        {
            var x = new float[batch * 210];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() < 0.09 ? 1f : 0f;
            var sparseMlp = mlp.Forward(x, batch).ToArray();
            Assert.Equal(batch >= Linear.MinSparseBatch, mlp.Linears[0].LastForwardWasSparse);
            var sparseFrozen = frozen.Forward(x, batch).ToArray();
            mlp.SparseInputs = false; // the frozen copy follows its source's switch
            var dense = mlp.Forward(x, batch).ToArray();
            Assert.False(mlp.Linears[0].LastForwardWasSparse);
            Assert.Equal(dense, sparseMlp);
            Assert.Equal(dense, sparseFrozen);
            Assert.Equal(dense, frozen.Forward(x, batch).ToArray());
            mlp.SparseInputs = true;
        }
    }

    [Fact]
    public void KeepsItsWeightsUntilLoadedAgain()
    {
        var p = new Parameters();
        var mlp = new Mlp(p, [4, 16, 3], Activation.Tanh, new Rng(1));
        var x = Reference.RandomFloats(new Rng(2), 3 * 4);
        var before = mlp.Forward(x, 3).ToArray();
        var frozen = new FrozenMlp(mlp);
        var saved = p.Values.ToArray();

        for (int i = 0; i < p.Count; i++) p.Values[i] *= -0.5f; // the live network moves on
        var after = mlp.Forward(x, 3).ToArray();
        Assert.NotEqual(before, after);
        Assert.Equal(before, frozen.Forward(x, 3).ToArray()); // the copy does not

        frozen.Load(p.Values);
        Assert.Equal(after, frozen.Forward(x, 3).ToArray());
        frozen.Load(saved);
        Assert.Equal(before, frozen.Forward(x, 3).ToArray());

        Assert.Throws<ArgumentException>(() => frozen.Load(new float[p.Count - 1]));
        Assert.Throws<ArgumentException>(() => frozen.Forward(new float[4], 2));
        Assert.Throws<ArgumentException>(() => frozen.Forward(new float[13], 3)); // one value too many, as Mlp.Forward
        Assert.Throws<ArgumentOutOfRangeException>(() => frozen.Forward(x, 0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFrozenActorPlaysLikeTheActorCriticItWasTakenFrom(bool sharedTrunk)
    {
        var options = new PolicyOptions { HiddenSizes = [24, 16], SharedTrunk = sharedTrunk, Activation = ActivationKind.Relu };
        var live = new ActorCritic(new Box(0, 1, 11), new Discrete(7), options, new Rng(3));
        var other = new ActorCritic(new Box(0, 1, 11), new Discrete(7), options, new Rng(4));
        var x = Reference.RandomFloats(new Rng(5), 6 * 11);

        var frozen = live.FreezeActor();
        Assert.Equal(live.ActorOutputs(x, 6).ToArray(), frozen.Forward(x, 6).ToArray());

        var fromOther = live.FreezeActor(other.Parameters.Values); // the layout of one, the weights of the other
        Assert.Equal(other.ActorOutputs(x, 6).ToArray(), fromOther.Forward(x, 6).ToArray());
        Assert.NotEqual(live.ActorOutputs(x, 6).ToArray(), fromOther.Forward(x, 6).ToArray());
        Assert.Throws<ArgumentException>(() => frozen.Load(new float[3]));
    }
}
