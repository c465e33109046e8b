using Proximal.Envs;
using Proximal.MuJoCo.Envs;
using Proximal.Numerics;

namespace Proximal.MuJoCo.Tests;

public class SimulationStateTests
{
    public static TheoryData<string> Ids => new(MuJoCoTasks.All.Select(t => t.Id));

    private const int Before = 30, After = 80;

    /// <summary>Steps with the given actions, resetting (unseeded: the env's generator) at termination, and
    /// records every observation, reward and flag bit for bit.</summary>
    private static List<double> Run(IEnv env, float[] actions, int steps)
    {
        int a = env.ActionSpace.FlatSize;
        var obs = new float[env.ObservationSpace.FlatSize];
        var trace = new List<double>();
        for (int t = 0; t < steps; t++)
        {
            StepResult r = env.Step(actions.AsSpan(t * a, a), obs);
            foreach (float v in obs) trace.Add(v);
            trace.Add(r.Reward);
            trace.Add(r.Terminated ? 1 : 0);
            if (r.Terminated)
            {
                env.Reset(obs);
                foreach (float v in obs) trace.Add(v);
            }
        }
        return trace;
    }

    private static float[] Actions(IEnv env, int steps, ulong seed)
    {
        int a = env.ActionSpace.FlatSize;
        var actions = new float[steps * a];
        var rng = new Rng(seed);
        for (int t = 0; t < steps; t++) env.ActionSpace.Sample(rng, actions.AsSpan(t * a, a));
        return actions;
    }

    private static void AssertBitIdentical(List<double> expected, List<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                Assert.Fail($"Trace value {i} differs: {expected[i]:R} saved run, {actual[i]:R} restored run.");
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void RestoredStateContinuesBitForBitOnAFreshEnv(string id)
    {
        using var original = (MuJoCoEnv)MuJoCoTasks.Make(id);
        var obs = new float[original.ObservationSpace.FlatSize];
        original.Reset(obs, 21);
        Run(original, Actions(original, Before, 1), Before);
        var state = new double[original.StateSize];
        original.GetState(state);
        float[] actions = Actions(original, After, 2);
        List<double> expected = Run(original, actions, After);

        using var restored = (MuJoCoEnv)MuJoCoTasks.Make(id);  // never reset: SetState alone makes it steppable
        restored.SetState(state);
        var again = new double[restored.StateSize];
        restored.GetState(again);
        Assert.Equal(state.Select(BitConverter.DoubleToInt64Bits), again.Select(BitConverter.DoubleToInt64Bits));
        AssertBitIdentical(expected, Run(restored, actions, After));
    }

    [Fact]
    public void StateLayoutIsTimePositionsVelocitiesWarmstartGeneratorTask()
    {
        using var hopper = new Hopper();
        Assert.Equal(1 + 6 + 6 + 0 + 6 + Rng.StateLength, hopper.StateSize);
        using var reacher = new Reacher();
        Assert.Equal(1 + 4 + 4 + 0 + 4 + Rng.StateLength + 6, reacher.StateSize);
        var obs = new float[11];
        reacher.Reset(obs, 4);
        var state = new double[reacher.StateSize];
        reacher.GetState(state);
        Assert.Equal(reacher.Data.Time, state[0]);
        Assert.Equal(reacher.Data.Qpos.ToArray(), state[1..5]);  // the goal is qpos[2:]
        Assert.Equal(reacher.Data.Qvel.ToArray(), state[5..9]);
        Assert.Equal(reacher.Data.QaccWarmstart.ToArray(), state[9..13]);
    }

    /// <summary>Restores <paramref name="id"/>'s state on a fresh env, lets <paramref name="spoil"/> undo one part of
    /// it, and says whether the next steps still match the saved run bit for bit.</summary>
    private static bool ContinuesIdentically(string id, Action<MuJoCoEnv> spoil)
    {
        using var original = (MuJoCoEnv)MuJoCoTasks.Make(id);
        var obs = new float[original.ObservationSpace.FlatSize];
        original.Reset(obs, 5);
        Run(original, Actions(original, 40, 7), 40);
        var state = new double[original.StateSize];
        original.GetState(state);
        float[] actions = Actions(original, 20, 8);
        List<double> expected = Run(original, actions, 20);

        using var restored = (MuJoCoEnv)MuJoCoTasks.Make(id);
        restored.SetState(state);
        spoil(restored);
        return expected.SequenceEqual(Run(restored, actions, 20));
    }

    [Fact]
    public void WarmstartIsPartOfWhatMakesTheNextStepIdentical()
    {
        // The Ant stands on the floor: the contact solve starts from qacc_warmstart, and a start off in the
        // sixth digit changes the trajectory's last bits.
        Assert.True(ContinuesIdentically("Ant-v4", _ => { }));
        Assert.False(ContinuesIdentically("Ant-v4", env => { foreach (ref double a in env.Data.QaccWarmstart) a *= 1 + 1e-6; }));
    }

    [Theory]
    [InlineData("Ant-v4")]
    [InlineData("Humanoid-v4")]
    [InlineData("Reacher-v4")]
    public void TaskStateCarriesTheDerivedValuesTheNextStepReadsFirst(string id)
    {
        // Recomputing xpos/xipos at the restored state (mj_forward) is not what the saved env would have read.
        Assert.False(ContinuesIdentically(id, env =>
        {
            double[] warmstart = env.Data.QaccWarmstart.ToArray();
            env.Data.Forward();
            warmstart.CopyTo(env.Data.QaccWarmstart);  // spoil only the derived values
        }));
    }

    [Fact]
    public void BadStatesAreRejectedNamingTheProblem()
    {
        using var env = new Walker2d();
        var obs = new float[17];
        env.Reset(obs, 0);
        var state = new double[env.StateSize];
        env.GetState(state);

        var length = Assert.Throws<ArgumentException>(() => env.SetState(state.AsSpan(1)));
        Assert.Contains($"{env.StateSize} values", length.Message);
        Assert.Contains("qacc_warmstart", length.Message);

        var nan = (double[])state.Clone();
        nan[1 + 9 + 2] = double.NaN;  // qvel[2]
        var e = Assert.Throws<ArgumentException>(() => env.SetState(nan));
        Assert.Contains("qvel[2]", e.Message);

        var zeroRng = (double[])state.Clone();
        zeroRng.AsSpan(1 + 9 + 9 + 9, Rng.StateLength).Clear();
        Assert.Throws<ArgumentException>(() => env.SetState(zeroRng));
        var unchanged = new double[env.StateSize];
        env.GetState(unchanged);
        Assert.Equal(state, unchanged);  // a rejected state leaves the env as it was
    }

    [Fact]
    public void SetPhysicsStateIsGymnasiumsSetState()
    {
        using var env = new InvertedPendulum();
        var obs = new float[4];
        env.Reset(obs, 0);
        env.SetPhysicsState([0.1, -0.05], [0.3, 0.2]);
        env.GetObservation(obs);
        Assert.Equal([0.1f, -0.05f, 0.3f, 0.2f], obs);
        Assert.Throws<ArgumentException>(() => env.SetPhysicsState([0.1], [0, 0]));
        var e = Assert.Throws<ArgumentException>(() => env.SetPhysicsState([0, double.PositiveInfinity], [0, 0]));
        Assert.Contains("qpos[1]", e.Message);
    }
}
