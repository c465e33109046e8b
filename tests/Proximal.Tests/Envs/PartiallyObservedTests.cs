using Proximal.Envs;
using Proximal.Envs.ClassicControl;
using Proximal.Envs.Memory;
using Proximal.Envs.Registry;
using Proximal.Envs.Wrappers;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Envs;

public class PartiallyObservedTests
{
    /// <summary>The NoVel task's observations are exactly the kept entries of the full task's, step for step.</summary>
    [Theory]
    [InlineData("CartPoleNoVel-v1", "CartPole-v1", new[] { 0, 2 })]
    [InlineData("PendulumNoVel-v1", "Pendulum-v1", new[] { 0, 1 })]
    public void NoVelTasksDropExactlyTheVelocityEntries(string noVel, string full, int[] kept)
    {
        using var a = EnvRegistry.Make(noVel);
        using var b = EnvRegistry.Make(full);
        var boxA = Assert.IsType<Box>(a.ObservationSpace);
        var boxB = Assert.IsType<Box>(b.ObservationSpace);
        Assert.Equal(kept.Length, boxA.FlatSize);
        Assert.Equal(kept.Select(i => boxB.Low[i]), boxA.Low.ToArray());
        Assert.Equal(kept.Select(i => boxB.High[i]), boxA.High.ToArray());
        Assert.Equal(b.ActionSpace.ToString(), a.ActionSpace.ToString());
        var oa = new float[boxA.FlatSize];
        var ob = new float[boxB.FlatSize];
        var rng = new Rng(3);
        int steps = 0, episodes = 0;
        a.Reset(oa, 7); b.Reset(ob, 7);
        while (steps < 700)
        {
            Assert.Equal(kept.Select(i => ob[i]), oa);
            float act = a.ActionSpace is Discrete ? rng.NextDouble() < 0.5 ? 0f : 1f : (float)rng.Uniform(-2, 2);
            var ra = a.Step([act], oa);
            var rb = b.Step([act], ob);
            Assert.Equal(rb, ra);
            steps++;
            if (ra.Done) { a.Reset(oa); b.Reset(ob); episodes++; }
        }
        Assert.True(episodes >= 2);
        Assert.True(a is TimeLimit { Inner: ObservationSubset }, "registered as TimeLimit over the subset, like gym.make");
    }

    private static (float[] FirstObs, List<(float[] Obs, StepResult R)> Steps) Play(RememberCue env, ulong seed, Func<float[], float> policy)
    {
        var o = new float[3];
        env.Reset(o, seed);
        var first = (float[])o.Clone();
        var steps = new List<(float[], StepResult)>();
        for (int i = 0; i < 1000; i++)
        {
            var r = env.Step([policy(o)], o);
            steps.Add(((float[])o.Clone(), r));
            if (r.Done) break;
        }
        return (first, steps);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(10)]
    public void RememberCueFollowsItsRules(int delay)
    {
        var env = new RememberCue(delay);
        for (ulong seed = 1; seed <= 6; seed++)
        {
            int cueSeen = -1;
            var (first, steps) = Play(env, seed, o => 0f);
            int cue = env.Cue;
            Assert.Equal(new[] { cue == 0 ? 1f : 0f, cue == 1 ? 1f : 0f, 0f }, first);
            cueSeen = cue;
            Assert.Equal(delay + 2, steps.Count);
            for (int t = 0; t < steps.Count; t++)
            {
                var (obs, r) = steps[t];
                bool last = t == steps.Count - 1;
                Assert.Equal(last, r.Terminated);
                Assert.False(r.Truncated);
                Assert.Equal(last ? (cue == 0 ? 1.0 : -1.0) : 0.0, r.Reward);
                // after step t the agent sees step t+1's observation: blank, or the query just before the last action
                float[] expected = t == steps.Count - 2 ? [0f, 0f, 1f] : [0f, 0f, 0f];
                Assert.Equal(expected, obs);
            }
            // Naming the cue scores +1.
            var (_, right) = Play(env, seed, o => cueSeen);
            Assert.Equal(1.0, right[^1].R.Reward);
        }
        Assert.Throws<ArgumentException>(() => env.Step([2f], new float[3]));
    }

    /// <summary>
    /// Every deterministic memoryless policy (a map from the 4 distinct observations — cue 0, cue 1, blank, query — to an
    /// action: 16 of them) has expected return exactly 0, i.e. chance: it is the mean over the two equally likely cues,
    /// each episode being deterministic given its cue. Stochastic memoryless policies mix these (their expected return
    /// is multilinear in the per-observation action probabilities, so its maximum is at a deterministic vertex): also 0.
    /// </summary>
    [Fact]
    public void NoFeedForwardPolicyBeatsChanceOnRememberCue()
    {
        const int delay = 4;
        var env = new RememberCue(delay);
        // One reset seed for each cue (the cue is uniform: P = ½ each).
        var seedOfCue = new ulong[2];
        var found = new bool[2];
        for (ulong s = 1; !(found[0] && found[1]); s++)
        {
            env.Reset(new float[3], s);
            if (!found[env.Cue]) { seedOfCue[env.Cue] = s; found[env.Cue] = true; }
        }
        int Kind(float[] o) => o[0] == 1 ? 0 : o[1] == 1 ? 1 : o[2] == 1 ? 3 : 2;
        double best = double.NegativeInfinity;
        for (int bits = 0; bits < 16; bits++)
        {
            double expected = 0;
            for (int cue = 0; cue < 2; cue++)
            {
                var (_, steps) = Play(env, seedOfCue[cue], o => (bits >> Kind(o)) & 1);
                Assert.Equal(cue, env.Cue);
                expected += 0.5 * steps.Sum(x => x.R.Reward);
            }
            Assert.Equal(0.0, expected);
            best = Math.Max(best, expected);
        }
        Assert.Equal(0.0, best);
    }

    [Theory]
    [InlineData("CartPoleNoVel-v1")]
    [InlineData("PendulumNoVel-v1")]
    [InlineData("RememberCue-v0")]
    public void RegisteredTasksPassTheEnvChecker(string id)
    {
        using var env = EnvRegistry.Make(id);
        var report = EnvChecker.Check(env);
        Assert.True(report.Passed, string.Join("; ", report.Problems));
    }

    [Fact]
    public void RegisteredTasksBuildAndRejectBadParameters()
    {
        using var cue = EnvRegistry.Make("RememberCue-v0", new EnvOptions { Parameters = new Dictionary<string, double> { ["delay"] = 7 } });
        Assert.Equal(7, Assert.IsType<RememberCue>(cue).Delay);
        Assert.Throws<ArgumentException>(() => EnvRegistry.Make("RememberCue-v0", new EnvOptions { Parameters = new Dictionary<string, double> { ["delay"] = 2.5 } }));
        Assert.Throws<ArgumentException>(() => EnvRegistry.Make("CartPoleNoVel-v1", new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 2 } }));
        using var pend = EnvRegistry.Make("PendulumNoVel-v1", new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 9.81 } });
        Assert.Equal(9.81, Assert.IsType<Pendulum>(((ObservationSubset)((TimeLimit)pend).Inner).Inner).Gravity);
    }
}
