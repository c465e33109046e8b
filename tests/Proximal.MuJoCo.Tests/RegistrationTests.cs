using System.Reflection;
using System.Runtime.CompilerServices;
using Proximal.Envs;
using Proximal.Envs.Wrappers;
using Proximal.MuJoCo.Envs;
using Proximal.Numerics;
using Proximal.Envs.Registry;

namespace Proximal.MuJoCo.Tests;

public class RegistrationTests
{
    public static TheoryData<string> Ids => new(MuJoCoTasks.All.Select(t => t.Id));

    [Fact]
    public void RegisterAddsEveryTaskWithGymnasiumLimitsAndThresholds()
    {
        MuJoCoTasks.Register();
        MuJoCoTasks.Register();  // idempotent
        var expected = new (string, int?, double?)[]
        {
            ("Hopper-v4", 1000, 3800), ("HalfCheetah-v4", 1000, 4800), ("Walker2d-v4", 1000, null),
            ("Ant-v4", 1000, 6000), ("Humanoid-v4", 1000, null), ("InvertedPendulum-v4", 1000, 950),
            ("InvertedDoublePendulum-v4", 1000, 9100), ("Reacher-v4", 50, -3.75), ("Swimmer-v4", 1000, 360),
        };
        foreach (var (id, steps, threshold) in expected)
        {
            EnvSpec spec = EnvRegistry.GetSpec(id);
            Assert.Equal((steps, threshold), (spec.MaxEpisodeSteps, spec.RewardThreshold));
            Assert.False(string.IsNullOrEmpty(spec.Description));
        }
    }

    [Fact]
    public async Task RegisterRunsConcurrentlyWithoutDuplicateErrors()
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(MuJoCoTasks.Register)));
        Assert.All(MuJoCoTasks.All, t => Assert.True(EnvRegistry.TryGetSpec(t.Id, out _)));
    }

    [Fact]
    public void AssemblyLoadRegistersThroughAModuleInitializer()
    {
        MethodInfo? init = typeof(MuJoCoTasks).GetMethod("RegisterOnLoad", BindingFlags.NonPublic | BindingFlags.Static);
        Assert.NotNull(init);
        Assert.NotNull(init.GetCustomAttribute<ModuleInitializerAttribute>());
        // This test touched the assembly, so its initializer has run: the ids are there without a Register call here.
        Assert.True(EnvRegistry.TryGetSpec("Swimmer-v4", out _));
    }

    [Fact]
    public void MakeWrapsTheTaskInItsTimeLimit()
    {
        MuJoCoTasks.Register();
        using IEnv hopper = EnvRegistry.Make("Hopper-v4");
        var limit = Assert.IsType<TimeLimit>(hopper);
        Assert.Equal(1000, limit.MaxEpisodeSteps);
        Assert.IsType<Hopper>(limit.Unwrapped);
        using IEnv reacher = EnvRegistry.Make("Reacher-v4");
        Assert.Equal(50, Assert.IsType<TimeLimit>(reacher).MaxEpisodeSteps);
        using IEnv raw = EnvRegistry.Make("Walker2d-v4", new EnvOptions { DisableTimeLimit = true });
        Assert.IsType<Walker2d>(raw);
    }

    [Theory]
    [InlineData("HalfCheetah-v4", 1000)]
    [InlineData("Swimmer-v4", 1000)]
    [InlineData("Reacher-v4", 50)]
    public void EpisodesOfTasksThatNeverTerminateAreTruncatedAtTheLimit(string id, int limit)
    {
        MuJoCoTasks.Register();
        using IEnv env = EnvRegistry.Make(id);
        var obs = new float[env.ObservationSpace.FlatSize];
        var action = new float[env.ActionSpace.FlatSize];
        var rng = new Rng(3);
        env.Reset(obs, 1);
        for (int t = 1; t <= limit; t++)
        {
            env.ActionSpace.Sample(rng, action);
            StepResult r = env.Step(action, obs);
            Assert.False(r.Terminated);
            Assert.Equal(t == limit, r.Truncated);
        }
    }

    [Fact]
    public void AntContactForcesAreATaskParameter()
    {
        MuJoCoTasks.Register();
        using IEnv env = EnvRegistry.Make("Ant-v4", new EnvOptions { Parameters = new Dictionary<string, double> { ["use_contact_forces"] = 1 } });
        Assert.Equal(111, env.ObservationSpace.FlatSize);
        var bad = Assert.Throws<ArgumentException>(() => EnvRegistry.Make("Ant-v4", new EnvOptions { Parameters = new Dictionary<string, double> { ["use_contact_forces"] = 0.5 } }));
        Assert.Contains("use_contact_forces", bad.Message);
        var unknown = Assert.Throws<ArgumentException>(() => EnvRegistry.Make("Hopper-v4", new EnvOptions { Parameters = new Dictionary<string, double> { ["g"] = 1 } }));
        Assert.Contains("Hopper-v4 has no parameter 'g'", unknown.Message);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void EnvCheckerPassesThroughTheRegistry(string id)
    {
        MuJoCoTasks.Register();
        using IEnv env = EnvRegistry.Make(id);
        EnvCheckReport report = EnvChecker.Check(env, new EnvCheckOptions { Steps = 120 });
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void MisspelledIdSuggestsTheTask()
    {
        MuJoCoTasks.Register();
        var e = Assert.Throws<UnknownEnvException>(() => EnvRegistry.Make("Hoper-v4"));
        Assert.Equal("Hopper-v4", e.Suggestions[0]);
        Assert.Contains("Did you mean 'Hopper-v4'", e.Message);
    }
}
