using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Envs;

public class SnapshotTests
{
    [Theory]
    [InlineData("CartPole-v1")]
    [InlineData("Acrobot-v1")]
    [InlineData("MountainCar-v0")]
    [InlineData("MountainCarContinuous-v0")]
    [InlineData("Pendulum-v1")]
    public void AVecEnvSnapshotContinuesBitIdenticallyThroughResetsAndTimeLimits(string id)
    {
        static VecEnv Build(string id) => new VecEnvBuilder(i => EnvRegistry.Make(id), 3).NormalizeObservations().NormalizeRewards().Build();
        using var a = Build(id);
        int od = a.ObservationSize, ad = a.ActionSize;
        var obs = new float[3 * od];
        var act = new float[3 * ad];
        var rew = new float[3];
        var te = new bool[3];
        var tr = new bool[3];
        var policy = new Rng(9);
        a.Reset(obs, seed: 4);
        for (int t = 0; t < 150; t++) { a.SingleActionSpace.Sample(policy, act.AsSpan(0, ad)); act.AsSpan(0, ad).CopyTo(act.AsSpan(ad, ad)); act.AsSpan(0, ad).CopyTo(act.AsSpan(2 * ad, ad)); a.Step(act, obs, rew, te, tr); }

        var snapshot = new Dictionary<string, double[]>();
        Assert.True(a.TrySaveSnapshot(snapshot));
        var policyState = policy.GetState();

        var expected = new List<float>();
        int dones = 0;
        for (int t = 0; t < 900; t++)
        {
            for (int i = 0; i < 3; i++) a.SingleActionSpace.Sample(policy, act.AsSpan(i * ad, ad));
            a.Step(act, obs, rew, te, tr);
            expected.AddRange(obs); expected.AddRange(rew);
            dones += te.Count(x => x) + tr.Count(x => x);
        }
        Assert.True(dones > 0, "the continuation must cross at least one episode end (auto-reset from the restored generator)");

        using var b = Build(id);
        b.LoadSnapshot(snapshot);
        policy.SetState(policyState);
        var actual = new List<float>();
        for (int t = 0; t < 900; t++)
        {
            for (int i = 0; i < 3; i++) b.SingleActionSpace.Sample(policy, act.AsSpan(i * ad, ad));
            b.Step(act, obs, rew, te, tr);
            actual.AddRange(obs); actual.AddRange(rew);
        }
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ChainsWithUncapturableLinksReportNoSnapshot()
    {
        using var vec = new SyncVecEnv(_ => new Proximal.Envs.Wrappers.FrameStack(EnvRegistry.Make("CartPole-v1"), 2), 2);
        vec.Reset(new float[2 * vec.ObservationSize], seed: 1);
        Assert.False(vec.TrySaveSnapshot(new Dictionary<string, double[]>()));
        var e = Assert.Throws<NotSupportedException>(() => vec.LoadSnapshot(new Dictionary<string, double[]>()));
        Assert.Contains("cannot restore", e.Message);
    }
}
