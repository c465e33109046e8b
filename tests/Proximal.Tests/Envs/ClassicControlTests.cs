using Proximal.Envs;
using Proximal.Envs.ClassicControl;
using Proximal.Spaces;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Envs;

public class ClassicControlTests
{
    private static double[] InitialState(IEnv env, ulong seed)
    {
        var obs = new float[env.ObservationSpace.FlatSize];
        env.Reset(obs, seed);
        var sim = (ISimulationState)env;
        var s = new double[sim.StateSize];
        sim.GetState(s);
        Assert.True(env.ObservationSpace.Contains(obs), env.ObservationSpace.Explain(obs));
        return s;
    }

    [Fact]
    public void InitialStatesFollowGymnasiumsDistributions()
    {
        var cart = new CartPole();
        var acro = new Acrobot();
        var car = new MountainCar();
        var carc = new MountainCarContinuous();
        var pend = new Pendulum();
        var lo = new double[5]; var hi = new double[5];
        Array.Fill(lo, double.MaxValue); Array.Fill(hi, double.MinValue);
        for (ulong seed = 0; seed < 400; seed++)
        {
            var c = InitialState(cart, seed);
            Assert.All(c, v => Assert.InRange(v, -0.05, 0.05));
            var a = InitialState(acro, seed);
            Assert.All(a, v => { Assert.InRange(v, -0.1, 0.1); Assert.Equal((float)v, v); });
            var m = InitialState(car, seed);
            Assert.InRange(m[0], -0.6, -0.4); Assert.Equal(0, m[1]);
            var mc = InitialState(carc, seed);
            Assert.InRange(mc[0], -0.6, -0.4); Assert.Equal(0, mc[1]);
            var p = InitialState(pend, seed);
            Assert.InRange(p[0], -Math.PI, Math.PI); Assert.InRange(p[1], -1, 1);
            double[] v5 = { c[0], a[0], m[0], p[0], p[1] };
            for (int k = 0; k < 5; k++) { lo[k] = Math.Min(lo[k], v5[k]); hi[k] = Math.Max(hi[k], v5[k]); }
        }
        // The draws cover their ranges (uniform, not a constant or a narrow band).
        double[] wantLo = { -0.05, -0.1, -0.6, -Math.PI, -1 }, wantHi = { 0.05, 0.1, -0.4, Math.PI, 1 };
        for (int k = 0; k < 5; k++)
        {
            double width = wantHi[k] - wantLo[k];
            Assert.True(lo[k] < wantLo[k] + 0.03 * width && hi[k] > wantHi[k] - 0.03 * width, $"component {k}: [{lo[k]}, {hi[k]}]");
        }
    }

    [Fact]
    public void SeedsReproduceAndDiffer()
    {
        var env = new CartPole();
        Assert.Equal(InitialState(env, 3), InitialState(env, 3));
        Assert.NotEqual(InitialState(env, 3), InitialState(env, 4));
    }

    [Fact]
    public void InvalidActionsAndBuffersThrowNamingTheProblem()
    {
        var obs4 = new float[4];
        var cart = new CartPole();
        cart.Reset(obs4, 0);
        Assert.Contains("action 2 is not one of 0..1", Assert.Throws<ArgumentException>(() => cart.Step(new[] { 2f }, obs4)).Message);
        Assert.Contains("action 0.5 is not", Assert.Throws<ArgumentException>(() => cart.Step(new[] { 0.5f }, obs4)).Message);
        Assert.Contains("expected 4", Assert.Throws<ArgumentException>(() => cart.Step(new[] { 1f }, new float[3])).Message);
        Assert.Contains("action has 2 values, expected 1", Assert.Throws<ArgumentException>(() => cart.Step(new[] { 1f, 0f }, obs4)).Message);
        var pend = new Pendulum();
        var obs3 = new float[3];
        pend.Reset(obs3, 0);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => pend.Step(new[] { float.NaN }, obs3)).Message);
        Assert.Throws<ArgumentException>(() => new Acrobot().SetState(new double[3]));
    }

    [Fact]
    public void CartPoleGivesZeroRewardAfterTermination()
    {
        var env = new CartPole();
        var obs = new float[4];
        env.Reset(obs, 0);
        env.SetState(new[] { 2.39, 1.0, 0.0, 0.0 });
        var r = env.Step(new[] { 1f }, obs);
        Assert.Equal(new StepResult(1.0, true, false), r);
        Assert.Equal(new StepResult(0.0, true, false), env.Step(new[] { 1f }, obs));
    }

    [Fact]
    public void PendulumClipsTorqueAndMountainCarContinuousPenalisesTheRawAction()
    {
        var p = new Pendulum();
        var q = new Pendulum();
        var o = new float[3];
        p.SetState(new[] { 0.3, 0.1 }); q.SetState(new[] { 0.3, 0.1 });
        Assert.Equal(p.Step(new[] { 2f }, o), q.Step(new[] { 50f }, o));
        var m = new MountainCarContinuous();
        m.SetState(new[] { -0.5, 0.0 });
        Assert.Equal(-0.1 * 9, m.Step(new[] { 3f }, new float[2]).Reward, 12);
    }

    [Fact]
    public void RenderDescribesTheState()
    {
        foreach (var env in new IEnv[] { new CartPole(), new Acrobot(), new MountainCar(), new MountainCarContinuous(), new Pendulum() })
        {
            env.Reset(new float[env.ObservationSpace.FlatSize], 1);
            Assert.False(string.IsNullOrWhiteSpace(((IRenderable)env).Render()));
        }
        using var wrapped = EnvRegistry.Make("CartPole-v1");
        wrapped.Reset(new float[4], 0);
        Assert.Contains("x=", ((IRenderable)wrapped).Render());
    }

    [Fact]
    public void SpacesMatchGymnasium()
    {
        var cart = (Box)new CartPole().ObservationSpace;
        Assert.Equal(new[] { 4.8f, float.MaxValue, (float)0.41887902047863906, float.MaxValue }, cart.High.ToArray());
        Assert.Equal(new Discrete(3).ToString(), new Acrobot().ActionSpace.ToString());
        var acro = (Box)new Acrobot().ObservationSpace;
        Assert.Equal((float)(4 * Math.PI), acro.High[4]);
        Assert.Equal((float)(9 * Math.PI), acro.High[5]);
        Assert.Equal(new[] { -1.2f, -0.07f }, ((Box)new MountainCar().ObservationSpace).Low.ToArray());
        Assert.Equal(new[] { 1f, 1f, 8f }, ((Box)new Pendulum().ObservationSpace).High.ToArray());
        Assert.Equal(new[] { 2f }, ((Box)new Pendulum().ActionSpace).High.ToArray());
    }
}
