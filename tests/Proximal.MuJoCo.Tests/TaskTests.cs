using Proximal.Envs;
using Proximal.MuJoCo.Binding;
using Proximal.MuJoCo.Envs;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.MuJoCo.Tests;

public class TaskTests
{
    // id, nq, nv, nu, timestep, integrator, frame skip, obs size, action bound
    public static TheoryData<string, int, int, int, double, MjIntegrator, int, int, double> Facts => new()
    {
        { "Hopper-v4", 6, 6, 3, 0.002, MjIntegrator.RK4, 4, 11, 1.0 },
        { "HalfCheetah-v4", 9, 9, 6, 0.01, MjIntegrator.Euler, 5, 17, 1.0 },
        { "Walker2d-v4", 9, 9, 6, 0.002, MjIntegrator.RK4, 4, 17, 1.0 },
        { "Ant-v4", 15, 14, 8, 0.01, MjIntegrator.RK4, 5, 27, 1.0 },
        { "Humanoid-v4", 24, 23, 17, 0.003, MjIntegrator.RK4, 5, 376, 0.4 },
        { "InvertedPendulum-v4", 2, 2, 1, 0.02, MjIntegrator.RK4, 2, 4, 3.0 },
        { "InvertedDoublePendulum-v4", 3, 3, 1, 0.01, MjIntegrator.RK4, 5, 11, 1.0 },
        { "Reacher-v4", 4, 4, 2, 0.01, MjIntegrator.RK4, 2, 11, 1.0 },
        { "Swimmer-v4", 5, 5, 2, 0.01, MjIntegrator.RK4, 4, 8, 1.0 },
    };

    public static TheoryData<string> Ids => new(MuJoCoTasks.All.Select(t => t.Id));

    [Theory]
    [MemberData(nameof(Facts))]
    public void TaskCarriesTheDocumentedSimulationFacts(string id, int nq, int nv, int nu, double timestep,
        MjIntegrator integrator, int frameSkip, int obsSize, double actionBound)
    {
        using var env = (MuJoCoEnv)MuJoCoTasks.Make(id);
        Assert.Equal((nq, nv, nu), (env.Model.Nq, env.Model.Nv, env.Model.Nu));
        Assert.Equal(timestep, env.Model.Timestep);
        Assert.Equal(integrator, env.Model.Integrator);
        Assert.Equal(frameSkip, env.FrameSkip);
        Assert.Equal(timestep * frameSkip, env.Dt, 15);
        Assert.Equal(obsSize, env.ObservationSpace.FlatSize);
        var action = Assert.IsType<Box>(env.ActionSpace);
        Assert.Equal(nu, action.FlatSize);
        Assert.All(action.Low.ToArray(), l => Assert.Equal(-actionBound, l, 6));
        Assert.All(action.High.ToArray(), h => Assert.Equal(actionBound, h, 6));
    }

    [Fact]
    public void RegistryFactsMatchGymnasium()
    {
        var expected = new (string, int, double?)[]
        {
            ("Hopper-v4", 1000, 3800), ("HalfCheetah-v4", 1000, 4800), ("Walker2d-v4", 1000, null),
            ("Ant-v4", 1000, 6000), ("Humanoid-v4", 1000, null), ("InvertedPendulum-v4", 1000, 950),
            ("InvertedDoublePendulum-v4", 1000, 9100), ("Reacher-v4", 50, -3.75), ("Swimmer-v4", 1000, 360),
        };
        Assert.Equal(expected, MuJoCoTasks.All.Select(t => (t.Id, t.MaxEpisodeSteps, t.RewardThreshold)).ToArray());
        var e = Assert.Throws<ArgumentException>(() => MuJoCoTasks.Make("Hopper-v9"));
        Assert.Contains("Hopper-v9", e.Message);
        Assert.Contains("Walker2d-v4", e.Message);
    }

    [Fact]
    public void AntWithContactForcesObservesClippedCfrcExt()
    {
        // Gymnasium's Ant-v4 observes clip(data.cfrc_ext, contact_force_range = (-1, 1)).flat after
        // qpos[2:] (13) and qvel (14): 14 bodies × 6 = 84 values, world body included. The bug this is named
        // for: raw forces (often ≫ 1 when a leg touches the ground) leaking into the observation, a wrong bound,
        // or the forces written in another order. So step until some raw force is outside ±1 and compare
        // every observed value with the clip of the raw value MuJoCo holds.
        using var env = new Ant(seed: 5, useContactForces: true);
        Assert.Equal(111, env.ObservationSpace.FlatSize);
        Assert.Equal(14 * 6, env.Data.CfrcExt.Length);
        var obs = new float[111];
        var action = new float[8];
        var rng = new Rng(11);
        env.Reset(obs, 5);
        int outside = 0, inside = 0, steps = 0;
        for (; steps < 200 && (outside == 0 || inside == 0); steps++)
        {
            env.ActionSpace.Sample(rng, action);
            if (env.Step(action, obs).Terminated) env.Reset(obs);
            else
            {
                var raw = env.Data.CfrcExt;
                for (int i = 0; i < raw.Length; i++)
                {
                    double clipped = Math.Min(Math.Max(raw[i], -1.0), 1.0);
                    Assert.Equal((float)clipped, obs[27 + i]);
                    if (Math.Abs(raw[i]) > 1) outside++;
                    else if (raw[i] != 0) inside++;
                }
            }
        }
        Assert.True(outside > 0, $"no raw contact force outside ±1 in {steps} steps: the clipping was never exercised");
        Assert.True(inside > 0, $"no raw contact force strictly inside (−1, 1) in {steps} steps");
    }

    [Fact]
    public void HumanoidUsesPgsWith50Iterations()
    {
        // Not exposed by the binding, so check the model text the task compiles.
        string xml = MuJoCoEnv.LoadEmbeddedModel("humanoid.xml");
        Assert.Contains("iterations=\"50\"", xml);
        Assert.Contains("solver=\"PGS\"", xml);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void SameSeedSameEpisodeDifferentSeedDifferentStart(string id)
    {
        float[][] a = Rollout(id, seed: 7, steps: 25), b = Rollout(id, seed: 7, steps: 25), c = Rollout(id, seed: 8, steps: 1);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
        Assert.NotEqual(a[0], c[0]);
    }

    private static float[][] Rollout(string id, ulong seed, int steps)
    {
        using IEnv env = MuJoCoTasks.Make(id);
        var rng = new Rng(seed + 1000);
        var obs = new float[env.ObservationSpace.FlatSize];
        var action = new float[env.ActionSpace.FlatSize];
        var trace = new List<float[]>();
        env.Reset(obs, seed);
        trace.Add((float[])obs.Clone());
        for (int t = 0; t < steps; t++)
        {
            env.ActionSpace.Sample(rng, action);
            StepResult r = env.Step(action, obs);
            trace.Add([.. obs, (float)r.Reward, r.Terminated ? 1 : 0]);
            if (r.Terminated) env.Reset(obs);
        }
        return [.. trace];
    }

    [Fact]
    public void ResetReseedsOnlyWhenGivenASeed()
    {
        using var env = new HalfCheetah(seed: 3);
        var first = new float[17];
        var second = new float[17];
        var third = new float[17];
        env.Reset(first, 11);
        env.Reset(second);
        env.Reset(third, 11);
        Assert.Equal(first, third);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void BadBuffersAndStepBeforeResetThrow()
    {
        using var env = new Hopper();
        var obs = new float[11];
        Assert.Throws<InvalidOperationException>(() => env.Step(new float[3], obs));
        Assert.Throws<ArgumentException>(() => env.Reset(new float[10]));
        env.Reset(obs, 0);
        var e = Assert.Throws<ArgumentException>(() => env.Step(new float[2], obs));
        Assert.Contains("3", e.Message);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void StepAllocatesNothing(string id)
    {
        using IEnv env = MuJoCoTasks.Make(id);
        var obs = new float[env.ObservationSpace.FlatSize];
        var action = new float[env.ActionSpace.FlatSize];
        var rng = new Rng(5);
        env.Reset(obs, 1);
        env.ActionSpace.Sample(rng, action);
        for (int t = 0; t < 5; t++) if (env.Step(action, obs).Terminated) env.Reset(obs);  // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 100; t++) if (env.Step(action, obs).Terminated) env.Reset(obs);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
