using Proximal.Envs;
using Proximal.Spaces;
using Proximal.Envs.Registry;

namespace Proximal.Tests.Envs;

public class EnvCheckerTests
{
    [Theory]
    [InlineData("CartPole-v1")]
    [InlineData("Acrobot-v1")]
    [InlineData("MountainCar-v0")]
    [InlineData("MountainCarContinuous-v0")]
    [InlineData("Pendulum-v1")]
    public void BuiltInTasksPass(string id)
    {
        using var env = EnvRegistry.Make(id);
        var report = EnvChecker.Check(env);
        Assert.True(report.Passed, report.ToString());
        report.ThrowIfFailed();
    }

    /// <summary>A configurable broken env: each flag introduces one contract violation.</summary>
    private sealed class BrokenEnv : IEnv
    {
        public bool OutOfSpace, NaNObs, SkipsElement, NaNReward, Unseeded, AcceptsAnyLength, Throws;
        private static int _shared;
        public Space ObservationSpace { get; } = new Box(-1f, 1f, 3);
        public Space ActionSpace { get; } = new Discrete(2);

        public void Reset(Span<float> observation, ulong? seed = null)
        {
            if (!AcceptsAnyLength && observation.Length != 3) throw new ArgumentException("need 3");
            observation[0] = 0.1f; observation[1] = Unseeded ? (_shared++ % 7) / 10f : 0.2f;
            if (!SkipsElement) observation[2] = 0.3f;
        }

        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
        {
            if (!AcceptsAnyLength && (action.Length != 1 || observation.Length != 3)) throw new ArgumentException("bad length");
            if (Throws) throw new InvalidOperationException("boom");
            observation[0] = OutOfSpace ? 5f : 0.5f;
            observation[1] = NaNObs ? float.NaN : 0.5f;
            if (!SkipsElement) observation[2] = 0.5f;
            return new StepResult(NaNReward ? double.NaN : 1, false, false);
        }

        public void Dispose() { }
    }

    [Fact]
    public void CorrectEnvPasses() => Assert.True(EnvChecker.Check(new BrokenEnv()).Passed);

    [Theory]
    [InlineData("OutOfSpace", "outside ObservationSpace")]
    [InlineData("NaNObs", "element 1 NaN")]
    [InlineData("SkipsElement", "element 2 NaN (not written")]
    [InlineData("NaNReward", "reward NaN")]
    [InlineData("Unseeded", "Reset with seed 12345 twice gave different observations")]
    [InlineData("AcceptsAnyLength", "Step accepted an action of 2 values")]
    [InlineData("Throws", "threw InvalidOperationException: boom")]
    public void EachViolationIsReportedClearly(string flag, string expected)
    {
        var env = new BrokenEnv();
        switch (flag)
        {
            case "OutOfSpace": env.OutOfSpace = true; break;
            case "NaNObs": env.NaNObs = true; break;
            case "SkipsElement": env.SkipsElement = true; break;
            case "NaNReward": env.NaNReward = true; break;
            case "Unseeded": env.Unseeded = true; break;
            case "AcceptsAnyLength": env.AcceptsAnyLength = true; break;
            case "Throws": env.Throws = true; break;
            default: throw new ArgumentException(flag);
        }
        var report = EnvChecker.Check(env);
        Assert.False(report.Passed);
        Assert.Contains(report.Problems, p => p.Contains(expected));
        Assert.Contains(expected, Assert.Throws<InvalidOperationException>(report.ThrowIfFailed).Message);
    }

    [Fact]
    public void EveryProblemIsReportedOnce()
    {
        var env = new BrokenEnv { OutOfSpace = true, NaNReward = true, AcceptsAnyLength = true };
        var report = EnvChecker.Check(env);
        Assert.Equal(report.Problems.Count, report.Problems.Distinct().Count());
        Assert.True(report.Problems.Count >= 4, report.ToString());
    }
}
