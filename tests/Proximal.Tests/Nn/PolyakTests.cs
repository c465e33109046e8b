using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public sealed class PolyakTests
{
    [Theory]
    [InlineData(0.005, 1)]
    [InlineData(0.005, 37)]   // a tail after the SIMD blocks
    [InlineData(0.3, 1031)]
    public void TheLerpEqualsTheScalarFormulaBitForBitAndTheFloat64OneClosely(double tau, int n)
    {
        var rng = new Rng(5);
        var online = Reference.RandomFloats(rng, n, 3);
        var target = Reference.RandomFloats(rng, n, 3);
        var before = (float[])target.Clone();
        Polyak.Update(online, target, tau);
        float a = (float)tau, keep = (float)(1 - tau);
        for (int i = 0; i < n; i++)
        {
            float expected = before[i] * keep + online[i] * a;
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(target[i]));
            double exact = (1 - tau) * before[i] + tau * online[i];
            Assert.True(Math.Abs(target[i] - exact) <= 2e-7 * (Math.Abs(exact) + 1), $"[{i}] {target[i]} vs {exact}");
        }
    }

    [Fact]
    public void TauZeroKeepsTheTargetAndTauOneCopiesTheOnlineValues()
    {
        var rng = new Rng(6);
        var online = Reference.RandomFloats(rng, 100, 2);
        var target = Reference.RandomFloats(rng, 100, 2);
        var keep = (float[])target.Clone();
        Polyak.Update(online, target, 0);
        Assert.Equal(keep, target);
        Polyak.Update(online, target, 1);
        Assert.Equal(online, target);
    }

    [Fact]
    public void ParameterSetsMustShareTheirLayout()
    {
        var a = new Parameters(); a.Allocate(4, "w"); a.Allocate(2, "b");
        var b = new Parameters(); b.Allocate(4, "w"); b.Allocate(2, "b");
        var c = new Parameters(); c.Allocate(2, "b"); c.Allocate(4, "w");
        a.Values.AsSpan().Fill(1);
        Polyak.Update(a, b, 0.5);
        Assert.All(b.Values, v => Assert.Equal(0.5f, v));
        Assert.Throws<ArgumentException>(() => Polyak.Update(a, c, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Polyak.Update(a, b, 1.5));
    }
}

public sealed class SplitUpdateTests
{
    /// <summary>Adam and Polyak over a buffer big enough to split across two cores equal one thread bit for bit (tail included).</summary>
    [Fact]
    public void AdamAndPolyakOnTwoThreadsEqualOneThreadBitForBit()
    {
        const int n = Adam.MinParametersToSplit + 16 * 37 + 5; // whole 16-float blocks plus a scalar tail
        var rng = new Rng(41);
        Parameters Model()
        {
            var p = new Parameters();
            p.Allocate(n - 5, "w"); p.Allocate(5, "b");
            return p;
        }
        var one = Model(); var two = Model();
        var init = Reference.RandomFloats(rng, n, 1);
        init.CopyTo(one.Values, 0); init.CopyTo(two.Values, 0);
        var adamOne = new Adam(one, 1e-3, epsilon: 1e-8);
        var adamTwo = new Adam(two, 1e-3, epsilon: 1e-8) { Threads = 2 };
        var targetOne = Model(); var targetTwo = Model();
        var t0 = Reference.RandomFloats(rng, n, 1);
        t0.CopyTo(targetOne.Values, 0); t0.CopyTo(targetTwo.Values, 0);
        for (int step = 0; step < 3; step++)
        {
            var g = Reference.RandomFloats(rng, n, 2);
            g.CopyTo(one.Gradients, 0); g.CopyTo(two.Gradients, 0);
            adamOne.Step();
            adamTwo.Step();
            Polyak.Update(one, targetOne, 0.005);
            Polyak.Update(two, targetTwo, 0.005, threads: 2);
        }
        Assert.True(one.Values.AsSpan().SequenceEqual(two.Values), "Adam on 2 threads differs from 1 thread");
        Assert.True(adamOne.FirstMoment.AsSpan().SequenceEqual(adamTwo.FirstMoment));
        Assert.True(adamOne.SecondMoment.AsSpan().SequenceEqual(adamTwo.SecondMoment));
        Assert.True(targetOne.Values.AsSpan().SequenceEqual(targetTwo.Values), "Polyak on 2 threads differs from 1 thread");
        Assert.Throws<ArgumentOutOfRangeException>(() => Polyak.Update(one, targetTwo, -0.1, threads: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => adamTwo.Threads = 0);
    }

    private sealed class Recorder(int[] owner) : IPartitionedWork
    {
        public void RunPart(int part, int parts) => owner[part] = Environment.CurrentManagedThreadId;
    }

    private sealed class Nested(int[] inner) : IPartitionedWork
    {
        public void RunPart(int part, int parts)
        {
            if (part == 0) WorkerTeam.Run(new Recorder(inner), 2); // the team is busy: runs both parts here
        }
    }

    [Fact]
    public void TheWorkerTeamRunsEveryPartOnceAndNestedWorkInline()
    {
        for (int round = 0; round < 50; round++) // helpers both spinning and asleep between rounds
        {
            var owner = new int[3];
            WorkerTeam.Run(new Recorder(owner), 3);
            Assert.Equal(Environment.CurrentManagedThreadId, owner[0]);
            Assert.All(owner, id => Assert.NotEqual(0, id));
            if (round % 10 == 0) Thread.Sleep(2);
        }
        var inner = new int[2];
        WorkerTeam.Run(new Nested(inner), 2);
        Assert.All(inner, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }
}
