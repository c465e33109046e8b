using Proximal.Envs;
using Proximal.Envs.Vector;
using Proximal.Envs.Wrappers;
using Proximal.Numerics;
using Proximal.Spaces;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Envs;

public class WrapperTests
{
    [Fact]
    public void TimeLimitTruncatesOnTheLimitStepEvenWhenTerminating()
    {
        var inner = new CountdownEnv(_ => 3); // episode 0 terminates at step 3
        using var env = new TimeLimit(inner, 3);
        var obs = new float[3];
        env.Reset(obs, 0);
        Assert.False(env.Step(new float[1], obs).Done);
        Assert.False(env.Step(new float[1], obs).Done);
        var r = env.Step(new float[1], obs);
        Assert.True(r.Terminated && r.Truncated);
        using var env2 = new TimeLimit(new CountdownEnv(_ => 100), 2);
        env2.Reset(obs, 0);
        env2.Step(new float[1], obs);
        Assert.Equal(new StepResult(2, false, true), env2.Step(new float[1], obs));
        env2.Reset(obs);
        Assert.Equal(0, env2.ElapsedSteps);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeLimit(new CountdownEnv(_ => 1), 0));
    }

    [Fact]
    public void EpisodeStatisticsMatchSummedRewards()
    {
        using var env = new EpisodeStatistics(new RandomWalkEnv());
        var obs = new float[2];
        var act = new float[2];
        var rng = new Rng(3);
        env.Reset(obs, 9);
        double sum = 0;
        int len = 0, episodes = 0;
        for (int t = 0; t < 300; t++)
        {
            env.ActionSpace.Sample(rng, act);
            var r = env.Step(act, obs);
            sum += r.Reward;
            len++;
            Assert.Equal(r.Done, env.Info.HasEpisode);
            if (r.Done)
            {
                Assert.Equal(sum, env.Info[EnvInfo.EpisodeReturn]);
                Assert.Equal(len, env.Info[EnvInfo.EpisodeLength]);
                Assert.True(env.Info[EnvInfo.EpisodeSeconds] >= 0);
                Assert.True(env.Episodes.TryDequeue(out var e));
                Assert.Equal((sum, len), (e.Return, e.Length));
                Assert.Equal(e, env.LastEpisode);
                episodes++;
                sum = 0; len = 0;
                env.Reset(obs);
            }
        }
        Assert.True(episodes > 10);
        Assert.Equal(0, env.Episodes.Count);
        env.Reset(obs);
        Assert.Contains("has: nothing", Assert.Throws<KeyNotFoundException>(() => env.Info[EnvInfo.EpisodeReturn]).Message);
    }

    [Fact]
    public void NormalizeObservationMatchesFloat64ReferenceAndFreezes()
    {
        using var env = new NormalizeObservation(new RandomWalkEnv());
        var raw = new List<double[]>();
        var obs = new float[2];
        var act = new float[2];
        var rng = new Rng(4);
        var shadow = new RandomWalkEnv();
        var shadowObs = new float[2];
        env.Reset(obs, 5);
        shadow.Reset(shadowObs, 5);
        raw.Add(shadowObs.Select(x => (double)x).ToArray());
        for (int t = 0; t < 200; t++)
        {
            env.ActionSpace.Sample(rng, act);
            var r = env.Step(act, obs);
            shadow.Step(act, shadowObs);
            raw.Add(shadowObs.Select(x => (double)x).ToArray());
            var (mean, var) = Reference.Moments(raw, 2);
            for (int j = 0; j < 2; j++)
            {
                Reference.Close(mean[j], env.Statistics.Mean[j], 1e-9, $"mean[{j}] at step {t}");
                Reference.Close(var[j], env.Statistics.Variance[j], 1e-9, $"var[{j}] at step {t}");
                double expected = Math.Clamp((shadowObs[j] - mean[j]) / Math.Sqrt(var[j] + 1e-8), -10, 10);
                Assert.Equal((float)expected, obs[j], 5e-6f);
            }
            if (r.Done) { env.Reset(obs); shadow.Reset(shadowObs); raw.Add(shadowObs.Select(x => (double)x).ToArray()); }
        }
        env.Frozen = true;
        var before = env.GetState();
        env.Step(act, obs);
        env.Reset(obs);
        Assert.Equal(before["mean"], env.Statistics.Mean.ToArray());
        Assert.Equal(before["count"], new[] { env.Statistics.Count });
        Assert.Equal(new Box(-10f, 10f, 2).ToString(), env.ObservationSpace.ToString());
    }

    [Fact]
    public void NormalizeObservationClipsAtTen()
    {
        var echo = new EchoEnv(new Box(-1e6f, 1e6f, 1));
        using var env = new NormalizeObservation(echo);
        var obs = new float[1];
        env.Reset(obs, 0);
        for (int i = 0; i < 50; i++) env.Step(new[] { i % 2 == 0 ? 1f : -1f }, obs);
        env.Frozen = true; // so the outlier does not widen the statistics that judge it
        env.Step(new[] { 1e5f }, obs);
        Assert.Equal(10f, obs[0]);
        env.Step(new[] { -1e5f }, obs);
        Assert.Equal(-10f, obs[0]);
        env.Step(new[] { 0.5f }, obs);
        Assert.InRange(obs[0], 0.4f, 0.6f);
    }

    [Fact]
    public void NormalizeRewardMatchesFloat64Reference()
    {
        const double gamma = 0.9;
        using var env = new NormalizeReward(new RandomWalkEnv(), gamma);
        using var shadow = new RandomWalkEnv();
        var obs = new float[2];
        var act = new float[2];
        var rng = new Rng(8);
        env.Reset(obs, 1);
        shadow.Reset(obs, 1);
        var gs = new List<double[]>();
        double g = 0;
        for (int t = 0; t < 300; t++)
        {
            env.ActionSpace.Sample(rng, act);
            var r = env.Step(act, obs);
            var s = shadow.Step(act, obs);
            g = g * gamma + s.Reward;
            gs.Add(new[] { g });
            var (_, var) = Reference.Moments(gs, 1);
            Reference.Close(var[0], env.Statistics.Variance[0], 1e-9, $"Var(G) at step {t}");
            Reference.Close(Math.Clamp(s.Reward / Math.Sqrt(var[0] + 1e-8), -10, 10), r.Reward, 1e-9, $"scaled reward at step {t}");
            if (s.Done) { g = 0; env.Reset(obs); shadow.Reset(obs); }
        }
    }

    [Fact]
    public void StateRoundTripsAndValidates()
    {
        var obs = new float[2];
        var act = new float[] { 0.3f, -0.2f };
        using var a = new NormalizeReward(new NormalizeObservation(new RandomWalkEnv()));
        a.Reset(obs, 2);
        for (int i = 0; i < 30; i++) a.Step(act, obs);
        var state = WrapperStates.Get(a);
        Assert.Equal(new[] { "NormalizeObservation/count", "NormalizeObservation/mean", "NormalizeObservation/var", "NormalizeReward/count", "NormalizeReward/mean", "NormalizeReward/var" }, state.Keys.Order());

        using var b = new NormalizeReward(new NormalizeObservation(new RandomWalkEnv()));
        WrapperStates.Set(b, state);
        Assert.Equal(state, WrapperStates.Get(b));
        var oa = new float[2];
        var ob = new float[2];
        ((NormalizeObservation)a.Inner).Frozen = true; a.Frozen = true;
        ((NormalizeObservation)b.Inner).Frozen = true; b.Frozen = true;
        a.Reset(oa, 77); b.Reset(ob, 77);
        for (int i = 0; i < 10; i++) Assert.Equal(a.Step(act, oa), b.Step(act, ob));
        Assert.Equal(oa, ob);

        var missing = new Dictionary<string, double[]>(state);
        missing.Remove("NormalizeObservation/var");
        Assert.Contains("missing 'var'", Assert.Throws<ArgumentException>(() => WrapperStates.Set(b, missing)).Message);
        var wrong = new Dictionary<string, double[]>(state) { ["NormalizeObservation/mean"] = new double[3] };
        Assert.Contains("'mean' has 3 values, expected 2", Assert.Throws<ArgumentException>(() => WrapperStates.Set(b, wrong)).Message);
        var extra = new Dictionary<string, double[]>(state) { ["Other/x"] = new double[1] };
        Assert.Contains("Other/x", Assert.Throws<ArgumentException>(() => WrapperStates.Set(b, extra)).Message);
        var negative = new Dictionary<string, double[]>(state) { ["NormalizeReward/var"] = new[] { -1.0 } };
        Assert.Contains("'var'[0]", Assert.Throws<ArgumentException>(() => WrapperStates.Set(b, negative)).Message);
    }

    [Fact]
    public void ClipAndRescaleActions()
    {
        var box = new Box(new[] { -2f, 0f }, new[] { 2f, 10f });
        var echo = new EchoEnv(box);
        using var clip = new ClipAction(echo);
        var obs = new float[2];
        clip.Step(new[] { -5f, 11f }, obs);
        Assert.Equal(new[] { -2f, 10f }, echo.Last);
        Assert.True(clip.ActionSpace.Contains(new[] { 1e30f, -1e30f }));

        var echo2 = new EchoEnv(box);
        using var rescale = new RescaleAction(echo2, -1f, 1f);
        rescale.Step(new[] { -1f, 1f }, obs);
        Assert.Equal(new[] { -2f, 10f }, echo2.Last);
        rescale.Step(new[] { 0f, 0.5f }, obs);
        Assert.Equal(new[] { 0f, 7.5f }, echo2.Last);
        Assert.Throws<ArgumentException>(() => new RescaleAction(new EchoEnv(new Box(float.NegativeInfinity, 1f, 1))));
        Assert.Throws<ArgumentException>(() => new ClipAction(EnvRegistry.Make("CartPole-v1")));
    }

    [Fact]
    public void FrameStackKeepsOldestFirstAndPadsWithResetObservation()
    {
        using var env = new FrameStack(new CountdownEnv(_ => 100), 3);
        Assert.Equal(new[] { 3, 3 }, ((Box)env.ObservationSpace).Shape);
        var obs = new float[9];
        env.Reset(obs, 0);
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0 }, obs);
        env.Step(new[] { 5f }, obs);
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 0, 1, 5 }, obs);
        env.Step(new[] { 6f }, obs);
        env.Step(new[] { 7f }, obs);
        Assert.Equal(new float[] { 0, 1, 5, 0, 2, 6, 0, 3, 7 }, obs);
        Assert.Throws<ArgumentException>(() => env.Step(new[] { 1f }, new float[3]));
    }

    [Fact]
    public void TransformObservationAndReward()
    {
        using var env = new TransformReward(
            new TransformObservation(new CountdownEnv(_ => 100), (i, o) => { o[0] = i[1] * 2; }, new Box(float.NegativeInfinity, float.PositiveInfinity, 1)),
            r => -r);
        var obs = new float[1];
        env.Reset(obs, 0);
        var r = env.Step(new[] { 2f }, obs);
        Assert.Equal(2f, obs[0]);
        Assert.Equal(-2.0, r.Reward);
        Assert.Equal(1, env.ObservationSpace.FlatSize);
    }

    [Fact]
    public void VecNormalizersMatchReferenceAndStatisticsStayUnnormalised()
    {
        const int n = 4;
        const double gamma = 0.95;
        using var vec = new VecEnvBuilder(_ => new RandomWalkEnv(), n).NormalizeObservations().NormalizeRewards(gamma).Build();
        using var shadow = new SyncVecEnv(_ => new RandomWalkEnv(), n);
        var obs = new float[n * 2];
        var raw = new float[n * 2];
        var act = new float[n * 2];
        var rew = new float[n];
        var rawRew = new float[n];
        var term = new bool[n];
        var trunc = new bool[n];
        vec.Reset(obs, 11);
        shadow.Reset(raw, 11);
        var obsRows = new List<double[]>();
        for (int i = 0; i < n; i++) obsRows.Add(new double[] { raw[i * 2], raw[i * 2 + 1] });
        var g = new double[n];
        var gRows = new List<double[]>();
        var rng = new Rng(12);
        var returns = new double[n];
        var expectedEpisodes = new List<(int, double)>();
        var norm = vec.Find<VecNormalizeObservation>()!;
        var rnorm = vec.Find<VecNormalizeReward>()!;
        for (int t = 0; t < 120; t++)
        {
            vec.SingleActionSpace.Sample(rng, act.AsSpan(0, 2));
            for (int i = 1; i < n; i++) act.AsSpan(0, 2).CopyTo(act.AsSpan(i * 2));
            vec.Step(act, obs, rew, term, trunc);
            shadow.Step(act, raw, rawRew, term, trunc);
            for (int i = 0; i < n; i++) obsRows.Add(new double[] { raw[i * 2], raw[i * 2 + 1] });
            for (int i = 0; i < n; i++) { g[i] = g[i] * gamma + rawRew[i]; gRows.Add(new[] { g[i] }); }
            var (mean, var) = Reference.Moments(obsRows, 2);
            var (_, gvar) = Reference.Moments(gRows, 1);
            for (int j = 0; j < 2; j++)
            {
                Reference.Close(mean[j], norm.Statistics.Mean[j], 1e-9, $"mean[{j}]");
                Reference.Close(var[j], norm.Statistics.Variance[j], 1e-9, $"var[{j}]");
            }
            Reference.Close(gvar[0], rnorm.Statistics.Variance[0], 1e-9, "Var(G)");
            for (int i = 0; i < n; i++)
            {
                Assert.Equal((float)Math.Clamp(rawRew[i] / Math.Sqrt(gvar[0] + 1e-8), -10, 10), rew[i], 1e-5f);
                for (int j = 0; j < 2; j++)
                {
                    Assert.Equal((float)Math.Clamp((raw[i * 2 + j] - mean[j]) / Math.Sqrt(var[j] + 1e-8), -10, 10), obs[i * 2 + j], 1e-5f);
                    if (shadow.HasFinalObservation[i])
                        Assert.Equal((float)Math.Clamp((shadow.FinalObservations[i * 2 + j] - mean[j]) / Math.Sqrt(var[j] + 1e-8), -10, 10), vec.FinalObservations[i * 2 + j], 1e-5f);
                }
                returns[i] += rawRew[i];
                if (term[i] || trunc[i]) { expectedEpisodes.Add((i, returns[i])); returns[i] = 0; g[i] = 0; }
            }
        }
        var log = vec.Episodes!;
        Assert.Equal(expectedEpisodes.Count, log.Count);
        foreach (var (i, ret) in expectedEpisodes)
        {
            Assert.True(log.TryDequeue(out var e));
            Assert.Equal(i, e.EnvIndex);
            Assert.Equal(ret, e.Return, 9);
        }

        var state = VecWrapperStates.Get(vec);
        Assert.Contains("VecNormalizeObservation/mean", state.Keys);
        vec.SetNormalizersFrozen(true);
        Assert.True(norm.Frozen && rnorm.Frozen);
        double count = norm.Statistics.Count;
        vec.Step(act, obs, rew, term, trunc);
        Assert.Equal(count, norm.Statistics.Count);
    }

    [Fact]
    public void VecActionWrappersTransformActions()
    {
        var echoes = Enumerable.Range(0, 2).Select(_ => new EchoEnv(new Box(-2f, 2f, 1))).ToArray();
        using var vec = new SyncVecEnv(i => echoes[i], 2).WithRescaleAction(-1f, 1f).WithClipAction();
        var obs = new float[2];
        vec.Reset(obs, 0);
        vec.Step(new[] { 0.5f, 3f }, obs, new float[2], new bool[2], new bool[2]);
        // Clip (outer) to the rescaled [-1, 1], then rescale onto the env's [-2, 2].
        Assert.Equal(1f, echoes[0].Last[0]);
        Assert.Equal(2f, echoes[1].Last[0]);
    }
}
