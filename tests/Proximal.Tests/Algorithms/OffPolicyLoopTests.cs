using Proximal.Algorithms;
using Proximal.Algorithms.OffPolicy;
using Proximal.Common.Callbacks;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Numerics;
using Proximal.Tests.Envs;

namespace Proximal.Tests.Algorithms;

/// <summary>Options of the loop-only test learner (no options of its own).</summary>
public sealed class LoopProbeOptions : OffPolicyOptions;

/// <summary>
/// A learner with the off-policy loop and nothing else: it acts with a constant action and records what the loop
/// hands it, so the loop's cadence, warm-up, stored transitions and resume can be checked exactly.
/// </summary>
internal sealed class LoopProbe : OffPolicyAlgorithm
{
    public const float PolicyAction = 0.25f;
    public readonly List<int> TrainCallsAtStep = [];
    public double LastBatchChecksum;

    public LoopProbe(VecEnv env, LoopProbeOptions options) : base(env, options, null, false) { }

    public override string Algorithm => "loop-probe";
    protected override void ExploreActions(ReadOnlySpan<float> observations, int count, Span<float> actions) => actions.Fill(PolicyAction);
    protected override void PredictPolicy(ReadOnlySpan<float> observations, int batch, Span<float> actions, bool deterministic) => actions.Fill(PolicyAction);

    protected override void TrainStep(double scheduleFraction)
    {
        TrainCallsAtStep.Add((int)NumTimesteps);
        double sum = 0;
        for (int i = 0; i < Batch.Rewards.Length; i++)
            sum += Batch.Rewards[i] * (i + 1) + Batch.Observations[i * 3 + 1] + Batch.NextObservations[i * 3 + 1] * 0.5 + Batch.Actions[i] + (Batch.Terminated[i] ? 7 : 0);
        LastBatchChecksum = sum;
    }

    public static LoopProbe Load(string path, VecEnv env)
    {
        var header = ReadHeader<LoopProbeOptions>(path, "loop-probe");
        var (e, _) = EnvForLoad(path, header, env);
        var probe = new LoopProbe(e, (LoopProbeOptions)header.Options);
        probe.Restore(header);
        return probe;
    }
}

public sealed class OffPolicyLoopTests
{
    private static SyncVecEnv Countdown(int n = 2) => new(i => new CountdownEnv(k => 3 + (k + i) % 4), n);

    [Fact]
    public void WarmUpActsUniformlyThenThePolicyActsAndTrainingFollowsItsCadence()
    {
        using var env = Countdown();
        var o = new LoopProbeOptions { NEnvs = 2, LearningStarts = 16, TrainFreq = 4, GradientSteps = 2, BatchSize = 8, BufferSize = 1000, Seed = 4 };
        using var probe = new LoopProbe(env, o);
        probe.Learn(64);

        Assert.Equal(64, probe.NumTimesteps);
        Assert.Equal(64, probe.Replay.Count);
        for (int k = 0; k < 64; k++)
        {
            float a = probe.Replay.Get(k).Action[0];
            if (k < 16) Assert.NotEqual(LoopProbe.PolicyAction, a); // uniform over [−1000, 1000]
            else Assert.Equal(LoopProbe.PolicyAction, a);
        }
        // Each iteration is 4 vector steps = 8 env steps; training runs once 16 steps are taken: iterations 2..8, 2 steps each.
        Assert.Equal([16, 16, 24, 24, 32, 32, 40, 40, 48, 48, 56, 56, 64, 64], probe.TrainCallsAtStep);
        Assert.Equal(14, probe.GradientStepsTaken);
    }

    [Fact]
    public void StoredTransitionsCarryTheTrueNextObservationAndOnlyTerminationsAsTerminal()
    {
        using var env = Countdown(1);
        var o = new LoopProbeOptions { NEnvs = 1, LearningStarts = 0, BatchSize = 4, BufferSize = 1000, Seed = 1 };
        using var probe = new LoopProbe(env, o);
        probe.Learn(40);
        int ends = 0, terminations = 0;
        for (int k = 0; k < probe.Replay.Count; k++)
        {
            var (obs, action, reward, next, terminated) = probe.Replay.Get(k);
            Assert.Equal(obs[0], next[0]);                 // same episode, even when the env has already reset
            Assert.Equal(obs[1] + 1, next[1]);             // one step later
            Assert.Equal(action[0], next[2]);              // the env saw the action taken
            Assert.Equal(next[1] + 0.5f * action[0], reward, 3);
            int length = 3 + (int)obs[0] % 4;
            bool last = next[1] >= length;
            Assert.Equal(last && (int)obs[0] % 2 == 0, terminated); // truncated episodes (odd) are not terminal
            if (last) { ends++; if (terminated) terminations++; }
            if (k + 1 < probe.Replay.Count && !last) Assert.Equal(next, probe.Replay.Get(k + 1).Observation);
        }
        Assert.True(ends >= 6 && terminations > 0 && terminations < ends, $"{ends} episode ends, {terminations} terminations");
    }

    [Fact]
    public void TheRingKeepsTheNewestTransitions()
    {
        var rb = new ReplayBuffer(10, 1, 1);
        for (int i = 0; i < 25; i++) rb.Add([i], [i], [i], [i + 1], [false]);
        Assert.Equal(10, rb.Count);
        Assert.Equal(25, rb.Added);
        Assert.Equal(15f, rb.Get(0).Reward);
        Assert.Equal(24f, rb.Get(9).Reward);
        var rng = new Rng(3);
        var o = new float[64]; var a = new float[64]; var r = new float[64]; var n = new float[64]; var t = new bool[64];
        rb.Sample(rng, o, a, r, n, t);
        Assert.All(r, x => Assert.InRange(x, 15f, 24f));
        Assert.All(Enumerable.Range(0, 64), j => Assert.Equal(o[j] + 1, n[j]));
        Assert.True(r.Distinct().Count() > 5, "sampling covers the buffer");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ResumeThroughAModelFileSamplesExactlyAsAnUninterruptedRunWhenTheBufferIsSaved(bool saveBuffer)
    {
        string dir = Directory.CreateTempSubdirectory("proximal-offpolicy-").FullName;
        try
        {
            LoopProbeOptions O() => new() { NEnvs = 2, LearningStarts = 8, BatchSize = 16, BufferSize = 30, Seed = 9, SaveReplayBuffer = saveBuffer };
            // Pendulum saves a full snapshot (state and generator), so the envs resume exactly too.
            static VecEnv Pendulum() => BaseAlgorithm.BuildEnv("Pendulum-v1", new LoopProbeOptions { NEnvs = 2 });
            using var env1 = Pendulum();
            using var straight = new LoopProbe(env1, O());
            straight.Learn(80);

            string path = Path.Combine(dir, "half.zip");
            using (var env2 = Pendulum())
            using (var first = new LoopProbe(env2, O()))
            {
                first.Learn(80, [new LambdaCallback((a, _) => a.NumTimesteps < 40)]);
                first.Save(path);
            }
            using var env3 = Pendulum();
            using var resumed = LoopProbe.Load(path, env3);
            Assert.Equal(saveBuffer ? 30 : 0, resumed.Replay.Count);
            resumed.Learn(40, schedule: ScheduleMode.Continue);
            if (saveBuffer)
            {
                Assert.Equal(straight.LastBatchChecksum, resumed.LastBatchChecksum);
                Assert.Equal(straight.GradientStepsTaken, resumed.GradientStepsTaken);
                for (int k = 0; k < 30; k++) Assert.Equal(straight.Replay.Get(k).Observation, resumed.Replay.Get(k).Observation);
            }
            else Assert.NotEqual(straight.LastBatchChecksum, resumed.LastBatchChecksum);
            Assert.Equal(saveBuffer, ModelArchive.Load(path).Arrays.Any(a => a.Name == "replay/observations"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
