using Proximal.Envs;
using Proximal.Envs.ClassicControl;
using Proximal.Envs.Wrappers;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Envs;

public class RegistryTests
{
    [Fact]
    public void ClassicTasksAreRegisteredWithGymnasiumLimits()
    {
        foreach (var id in new[] { "CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1" })
            Assert.Contains(id, EnvRegistry.Ids);
        Assert.Equal((500, 475.0), (EnvRegistry.GetSpec("CartPole-v1").MaxEpisodeSteps, EnvRegistry.GetSpec("CartPole-v1").RewardThreshold));
        Assert.Equal(200, EnvRegistry.GetSpec("Pendulum-v1").MaxEpisodeSteps);
        Assert.Equal(999, EnvRegistry.GetSpec("MountainCarContinuous-v0").MaxEpisodeSteps);
        Assert.Null(EnvRegistry.GetSpec("Pendulum-v1").RewardThreshold);
    }

    [Fact]
    public void MakeAppliesTimeLimitAndOptions()
    {
        using var env = EnvRegistry.Make("CartPole-v1");
        Assert.Equal(500, Assert.IsType<TimeLimit>(env).MaxEpisodeSteps);
        using var shorter = EnvRegistry.Make("CartPole-v1", new EnvOptions { MaxEpisodeSteps = 10 });
        Assert.Equal(10, Assert.IsType<TimeLimit>(shorter).MaxEpisodeSteps);
        using var raw = EnvRegistry.Make("CartPole-v1", new EnvOptions { DisableTimeLimit = true });
        Assert.IsType<CartPole>(raw);
        using var moon = EnvRegistry.Make("Pendulum-v1", new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 1.62 } });
        Assert.Equal(1.62, Assert.IsType<Pendulum>(((TimeLimit)moon).Unwrapped).Gravity);
        var e = Assert.Throws<ArgumentException>(() => EnvRegistry.Make("CartPole-v1", new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 1 } }));
        Assert.Contains("no parameter 'g'", e.Message);
    }

    [Theory]
    [InlineData("CartPole-v0", "CartPole-v1")]
    [InlineData("cartpole-v1", "CartPole-v1")]
    [InlineData("Pendulum", "Pendulum-v1")]
    [InlineData("MountainCarContinous-v0", "MountainCarContinuous-v0")]
    public void UnknownIdSuggestsTheNearest(string typo, string nearest)
    {
        var e = Assert.Throws<UnknownEnvException>(() => EnvRegistry.Make(typo));
        Assert.Equal(nearest, e.Suggestions[0]);
        Assert.Contains($"Did you mean '{nearest}'", e.Message);
        Assert.Contains(typo, e.Message);
    }

    [Fact]
    public void UsersRegisterTheirOwn()
    {
        const string id = "Countdown-Test-v0";
        try
        {
            EnvRegistry.Register(id, _ => new CountdownEnv(_ => 1000), maxEpisodeSteps: 4, description: "test");
            Assert.Contains(id, EnvRegistry.Ids);
            Assert.Contains("already registered", Assert.Throws<InvalidOperationException>(() => EnvRegistry.Register(id, _ => new CountdownEnv(_ => 1))).Message);
            using var env = EnvRegistry.Make(id);
            var obs = new float[3];
            env.Reset(obs, 0);
            StepResult r = default;
            for (int i = 0; i < 4; i++) r = env.Step(new float[1], obs);
            Assert.True(r.Truncated);
            EnvRegistry.Register(id, _ => new CountdownEnv(_ => 1), overwrite: true);
            Assert.Null(EnvRegistry.GetSpec(id).MaxEpisodeSteps);
            Assert.Throws<ArgumentException>(() => EnvRegistry.Register("has space", _ => new CountdownEnv(_ => 1)));
        }
        finally { EnvRegistry.Unregister(id); }
        Assert.DoesNotContain(id, EnvRegistry.Ids);
    }

    [Fact]
    public void EditDistanceIsLevenshtein()
    {
        Assert.Equal(3, EnvRegistry.EditDistance("kitten", "sitting"));
        Assert.Equal(0, EnvRegistry.EditDistance("", ""));
        Assert.Equal(4, EnvRegistry.EditDistance("", "abcd"));
    }
}
