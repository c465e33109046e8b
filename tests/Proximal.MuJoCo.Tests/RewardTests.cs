using Proximal.Envs;
using Proximal.MuJoCo.Binding;
using Proximal.MuJoCo.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Tests;

/// <summary>Each task's reward, termination and observation recomputed here, independently, from the
/// raw simulator state (qpos/xpos before the step, data after it, the action), straight from the
/// Gymnasium v4 definitions in /work/shared/mujoco-v4-tasks.md.</summary>
public class RewardTests
{
    private sealed record Before(double[] Qpos, double[] Xpos, double[] Xipos);

    private delegate (double Reward, bool Terminated, double[] Obs) Reference(MjModel m, MjData d, Before before, float[] a, double dt);

    private static double SumSq(IEnumerable<double> v) => v.Sum(x => x * x);
    private static double SumSq(float[] a) => a.Sum(x => (double)x * x);
    private static IEnumerable<double> Clip(IEnumerable<double> v, double b) => v.Select(x => Math.Clamp(x, -b, b));

    private static readonly Dictionary<string, Reference> References = new()
    {
        ["Hopper-v4"] = (m, d, b, a, dt) =>
        {
            double[] q = d.Qpos.ToArray(), v = d.Qvel.ToArray();
            double reward = (q[0] - b.Qpos[0]) / dt + 1.0 - 1e-3 * SumSq(a);
            bool healthy = q.Skip(2).Concat(v).All(x => -100 < x && x < 100) && q[1] > 0.7 && -0.2 < q[2] && q[2] < 0.2;
            return (reward, !healthy, [.. q.Skip(1), .. Clip(v, 10)]);
        },
        ["HalfCheetah-v4"] = (m, d, b, a, dt) =>
        {
            double[] q = d.Qpos.ToArray();
            return ((q[0] - b.Qpos[0]) / dt - 0.1 * SumSq(a), false, [.. q.Skip(1), .. d.Qvel.ToArray()]);
        },
        ["Walker2d-v4"] = (m, d, b, a, dt) =>
        {
            double[] q = d.Qpos.ToArray();
            bool healthy = 0.8 < q[1] && q[1] < 2.0 && -1 < q[2] && q[2] < 1;
            return ((q[0] - b.Qpos[0]) / dt + 1.0 - 1e-3 * SumSq(a), !healthy, [.. q.Skip(1), .. Clip(d.Qvel.ToArray(), 10)]);
        },
        ["Ant-v4"] = (m, d, b, a, dt) =>
        {
            double[] q = d.Qpos.ToArray(), v = d.Qvel.ToArray();
            int torso = m.BodyId("torso");
            double reward = (d.Xpos[3 * torso] - b.Xpos[3 * torso]) / dt + 1.0 - 0.5 * SumSq(a);
            bool healthy = q.Concat(v).All(double.IsFinite) && 0.2 <= q[2] && q[2] <= 1.0;
            return (reward, !healthy, [.. q.Skip(2), .. v]);
        },
        ["Humanoid-v4"] = (m, d, b, a, dt) =>
        {
            double[] mass = m.BodyMass.ToArray();
            double Com(double[] xipos) => Enumerable.Range(0, mass.Length).Sum(i => mass[i] * xipos[3 * i]) / mass.Sum();
            double reward = 1.25 * (Com(d.Xipos.ToArray()) - Com(b.Xipos)) / dt + 5.0 - 0.1 * SumSq(d.Ctrl.ToArray());
            double z = d.Qpos[2];
            return (reward, !(1.0 < z && z < 2.0),
                [.. d.Qpos.ToArray().Skip(2), .. d.Qvel.ToArray(), .. d.Cinert.ToArray(), .. d.Cvel.ToArray(),
                 .. d.QfrcActuator.ToArray(), .. d.CfrcExt.ToArray()]);
        },
        ["InvertedPendulum-v4"] = (m, d, b, a, dt) =>
        {
            double[] obs = [.. d.Qpos.ToArray(), .. d.Qvel.ToArray()];
            return (1.0, !obs.All(double.IsFinite) || Math.Abs(obs[1]) > 0.2, obs);
        },
        ["InvertedDoublePendulum-v4"] = (m, d, b, a, dt) =>
        {
            double[] q = d.Qpos.ToArray(), v = d.Qvel.ToArray();
            int tip = m.SiteId("tip");
            double x = d.SiteXpos[3 * tip], y = d.SiteXpos[3 * tip + 2];
            double reward = 10 - (0.01 * x * x + (y - 2) * (y - 2)) - (1e-3 * v[1] * v[1] + 5e-3 * v[2] * v[2]);
            return (reward, y <= 1,
                [q[0], Math.Sin(q[1]), Math.Sin(q[2]), Math.Cos(q[1]), Math.Cos(q[2]), .. Clip(v, 10), .. Clip(d.QfrcConstraint.ToArray(), 10)]);
        },
        ["Reacher-v4"] = (m, d, b, a, dt) =>
        {
            int f = m.BodyId("fingertip"), t = m.BodyId("target");
            double[] vecBefore = [.. Enumerable.Range(0, 3).Select(k => b.Xpos[3 * f + k] - b.Xpos[3 * t + k])];
            double[] vecAfter = [.. Enumerable.Range(0, 3).Select(k => d.Xpos[3 * f + k] - d.Xpos[3 * t + k])];
            double[] q = d.Qpos.ToArray(), v = d.Qvel.ToArray();
            return (-Math.Sqrt(SumSq(vecBefore)) - SumSq(a), false,
                [Math.Cos(q[0]), Math.Cos(q[1]), Math.Sin(q[0]), Math.Sin(q[1]), q[2], q[3], v[0], v[1], .. vecAfter]);
        },
        ["Swimmer-v4"] = (m, d, b, a, dt) =>
        {
            double[] q = d.Qpos.ToArray();
            return ((q[0] - b.Qpos[0]) / dt - 1e-4 * SumSq(a), false, [.. q.Skip(2), .. d.Qvel.ToArray()]);
        },
    };

    public static TheoryData<string> Ids => new(MuJoCoTasks.All.Select(t => t.Id));

    [Theory]
    [MemberData(nameof(Ids))]
    public void RewardTerminationAndObservationMatchTheDefinitions(string id)
    {
        using var env = (MuJoCoEnv)MuJoCoTasks.Make(id);
        Reference reference = References[id];
        var rng = new Rng(42);
        var obs = new float[env.ObservationSpace.FlatSize];
        var action = new float[env.ActionSpace.FlatSize];
        env.Reset(obs, 3);
        AssertObservation(ResetObservation(id, env), obs);
        int terminations = 0;
        for (int t = 0; t < 60; t++)
        {
            env.ActionSpace.Sample(rng, action);
            var before = new Before(env.Data.Qpos.ToArray(), env.Data.Xpos.ToArray(), env.Data.Xipos.ToArray());
            StepResult r = env.Step(action, obs);
            var (reward, terminated, expectedObs) = reference(env.Model, env.Data, before, action, env.Model.Timestep * env.FrameSkip);
            Assert.Equal(reward, r.Reward, 1e-9 * Math.Max(1, Math.Abs(reward)));
            Assert.Equal(terminated, r.Terminated);
            Assert.False(r.Truncated);  // the registry's TimeLimit truncates, not the env
            AssertObservation(expectedObs, obs);
            if (r.Terminated)
            {
                terminations++;
                env.Reset(obs);
            }
        }
        // The random rollouts must actually exercise termination where the task has it.
        if (id is "Hopper-v4" or "Walker2d-v4" or "InvertedPendulum-v4" or "InvertedDoublePendulum-v4" or "Humanoid-v4")
            Assert.True(terminations > 0, $"{id}: no termination in 60 random steps");
    }

    private static double[] ResetObservation(string id, MuJoCoEnv env)
    {
        var before = new Before(env.Data.Qpos.ToArray(), env.Data.Xpos.ToArray(), env.Data.Xipos.ToArray());
        return References[id](env.Model, env.Data, before, new float[env.Model.Nu], env.Dt).Obs;
    }

    private static void AssertObservation(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal((float)expected[i], actual[i]);
    }

    private static StepResult StepFrom(MuJoCoEnv env, Action<MjData> setState, float[]? action = null)
    {
        var obs = new float[env.ObservationSpace.FlatSize];
        env.Reset(obs, 0);
        setState(env.Data);
        env.Data.Forward();
        return env.Step(action ?? new float[env.Model.Nu], obs);
    }

    [Fact]
    public void HopperTerminatesOutsideTheHealthyRange()
    {
        using var env = new Hopper();
        Assert.False(StepFrom(env, _ => { }).Terminated);
        Assert.True(StepFrom(env, d => d.Qpos[2] = 0.3).Terminated);    // angle above 0.2
        Assert.True(StepFrom(env, d => d.Qpos[2] = -0.3).Terminated);
        Assert.True(StepFrom(env, d => d.Qpos[1] = 0.6).Terminated);    // height below 0.7
        Assert.True(StepFrom(env, d => d.Qvel[3] = 150).Terminated);    // a joint velocity beyond 100
        // The bounds are strict, exactly as in Gymnasium.
        double[] q = [0, 0.7, 0, 0, 0, 0], v = new double[6];
        Assert.False(Hopper.IsHealthy(q, v));
        q[1] = 0.7000001;
        Assert.True(Hopper.IsHealthy(q, v));
        q[2] = 0.2;
        Assert.False(Hopper.IsHealthy(q, v));
        q[2] = 0.1999999;
        Assert.True(Hopper.IsHealthy(q, v));
        v[5] = 100;
        Assert.False(Hopper.IsHealthy(q, v));
        v[5] = 0;
        q[0] = 1000;  // x is excluded from the state bound
        Assert.True(Hopper.IsHealthy(q, v));
    }

    [Fact]
    public void Walker2dTerminatesOutsideTheHealthyRange()
    {
        using var env = new Walker2d();
        Assert.False(StepFrom(env, _ => { }).Terminated);
        Assert.True(StepFrom(env, d => d.Qpos[1] = 0.7).Terminated);
        Assert.True(StepFrom(env, d => d.Qpos[1] = 2.3).Terminated);
        Assert.True(StepFrom(env, d => d.Qpos[2] = 1.2).Terminated);
        double[] q = [0, 2.0, 0, 0, 0, 0, 0, 0, 0];
        Assert.False(Walker2d.IsHealthy(q));
        q[1] = 0.8;
        Assert.False(Walker2d.IsHealthy(q));
        q[1] = 1.2;
        Assert.True(Walker2d.IsHealthy(q));
        q[2] = -1;
        Assert.False(Walker2d.IsHealthy(q));
    }

    [Fact]
    public void AntTerminatesOutsideTheHealthyRangeInclusiveBounds()
    {
        using var env = new Ant();
        Assert.False(StepFrom(env, _ => { }).Terminated);
        Assert.True(StepFrom(env, d => d.Qpos[2] = 1.5).Terminated);
        double[] q = new double[15], v = new double[14];
        q[3] = 1;
        q[2] = 1.0;
        Assert.True(Ant.IsHealthy(q, v));
        q[2] = 0.2;
        Assert.True(Ant.IsHealthy(q, v));
        q[2] = 0.19;
        Assert.False(Ant.IsHealthy(q, v));
        q[2] = 0.5;
        v[7] = double.NaN;
        Assert.False(Ant.IsHealthy(q, v));
    }

    [Fact]
    public void AntContactCostAndObservationWithContactForces()
    {
        using var env = new Ant(seed: 1, useContactForces: true);
        var obs = new float[111];
        var action = new float[8];
        var rng = new Rng(9);
        env.Reset(obs, 1);
        bool sawContact = false;
        for (int t = 0; t < 40; t++)
        {
            env.ActionSpace.Sample(rng, action);
            double xBefore = env.Data.Xpos[3 * env.Model.BodyId("torso")];
            StepResult r = env.Step(action, obs);
            double[] cfrc = env.Data.CfrcExt.ToArray();
            double contact = cfrc.Sum(f => Math.Pow(Math.Clamp(f, -1, 1), 2));
            sawContact |= contact > 0;
            double expected = (env.Data.Xpos[3 * env.Model.BodyId("torso")] - xBefore) / env.Dt + 1 - 0.5 * SumSq(action) - 5e-4 * contact;
            Assert.Equal(expected, r.Reward, 1e-9);
            for (int i = 0; i < 84; i++) Assert.Equal((float)Math.Clamp(cfrc[i], -1, 1), obs[27 + i]);
            if (r.Terminated) env.Reset(obs);
        }
        Assert.True(sawContact, "the ant never touched the floor: cfrc_ext stayed zero");
    }

    [Fact]
    public void HumanoidTerminatesOutsideTheHealthyRange()
    {
        using var env = new Humanoid();
        Assert.False(StepFrom(env, _ => { }).Terminated);
        Assert.True(StepFrom(env, d => d.Qpos[2] = 2.3).Terminated);
        Assert.True(StepFrom(env, d => d.Qpos[2] = 0.9).Terminated);
    }

    [Fact]
    public void PendulumsTerminateWhereDefined()
    {
        using (var env = new InvertedPendulum())
        {
            Assert.False(StepFrom(env, _ => { }).Terminated);
            Assert.True(StepFrom(env, d => d.Qpos[1] = 0.25).Terminated);
            Assert.True(StepFrom(env, d => d.Qpos[1] = -0.25).Terminated);
        }
        using (var env = new InvertedDoublePendulum())
        {
            Assert.False(StepFrom(env, _ => { }).Terminated);
            // Both poles tilted 60°: the tip sits at 1.2·cos 60° = 0.6 ≤ 1.
            Assert.True(StepFrom(env, d => d.Qpos[1] = Math.PI / 3).Terminated);
        }
    }

    [Fact]
    public void ResetNoiseStaysWithinItsScale()
    {
        var obs = new float[11];
        using var hopper = new Hopper();
        for (ulong s = 0; s < 20; s++)
        {
            hopper.Reset(obs, s);
            for (int i = 0; i < 6; i++)
            {
                Assert.InRange(hopper.Data.Qpos[i] - hopper.Model.Qpos0[i], -5e-3, 5e-3);
                Assert.InRange(hopper.Data.Qvel[i], -5e-3, 5e-3);
            }
        }
        using var reacher = new Reacher();
        for (ulong s = 0; s < 20; s++)
        {
            reacher.Reset(obs, s);
            double gx = reacher.Data.Qpos[2], gy = reacher.Data.Qpos[3];
            Assert.True(Math.Sqrt(gx * gx + gy * gy) < 0.2);
            Assert.Equal(0, reacher.Data.Qvel[2]);
            Assert.Equal(0, reacher.Data.Qvel[3]);
            Assert.InRange(reacher.Data.Qpos[0], -0.1, 0.1);
            Assert.InRange(reacher.Data.Qvel[0], -0.005, 0.005);
            // The target body sits at the goal (its slide joints' ref is the body position).
            Assert.Equal(gx, reacher.Data.Xpos[3 * reacher.Model.BodyId("target")], 12);
        }
    }
}
