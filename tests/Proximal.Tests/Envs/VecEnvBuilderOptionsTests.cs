using Proximal.Envs.Registry;
using Proximal.Envs;
using Proximal.Envs.Vector;

namespace Proximal.Tests.Envs;

public sealed class VecEnvBuilderOptionsTests
{
    private static float[] OneStep(EnvOptions? options)
    {
        using var env = VecEnvBuilder.ForId("Pendulum-v1", 2, options).Build();
        var obs = new float[2 * 3];
        env.Reset(obs, seed: 11);
        var next = new float[2 * 3];
        env.Step(new float[2], next, new float[2], new bool[2], new bool[2]);
        return next;
    }

    [Fact]
    public void ForIdPassesEnvOptionsToEveryCopy()
    {
        var standard = OneStep(null);
        Assert.Equal(standard, OneStep(new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 10.0 } }));
        var weightless = OneStep(new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 0.0 } });
        Assert.NotEqual(standard, weightless);
        // Without gravity and without torque the angular velocity (third observation) of each copy does not change.
        var start = new float[6];
        using (var env = VecEnvBuilder.ForId("Pendulum-v1", 2, new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 0.0 } }).Build())
            env.Reset(start, seed: 11);
        Assert.Equal(start[2], weightless[2], 5);
        Assert.Equal(start[5], weightless[5], 5);
    }

    [Fact]
    public void ForIdRejectsAParameterTheTaskDoesNotHave()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            VecEnvBuilder.ForId("CartPole-v1", 2, new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 1 } }).Build().Dispose());
        Assert.Contains("CartPole-v1 has no parameter 'g'", e.Message);
    }
}
