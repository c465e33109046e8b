using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Algorithms.Registry;
using Proximal.Common.Callbacks;
using Proximal.Common.Config;
using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Tests.Nn;

namespace Proximal.Tests.Algorithms;

public class RecurrentPpoTests
{
    public enum CriticMode { OwnLstm, SharedLstm, FeedForward }

    private static PpoOptions Small(CriticMode mode = CriticMode.OwnLstm, int seed = 1, int sequenceLength = 0) => new()
    {
        NEnvs = 2, NSteps = 16, MinibatchSize = 16, NEpochs = 2, LearningRate = 1e-3, Seed = seed, TotalSteps = 4096,
        Policy = new PolicyOptions
        {
            LstmHiddenSize = 8, HiddenSizes = [8], SharedLstm = mode == CriticMode.SharedLstm,
            EnableCriticLstm = mode == CriticMode.OwnLstm, LstmSequenceLength = sequenceLength,
        },
    };

    // ------------------------------------------------------------------ the update against an independent computation

    /// <summary>Float64 MLP from the named parameter slices "name.i.weight/bias" (tanh hidden layers).</summary>
    private static double[] RefMlp(Parameters p, string name, int[] sizes, double[] theta, double[] x, int rows)
    {
        var h = x;
        for (int i = 0; i < sizes.Length - 1; i++)
        {
            int nin = sizes[i], nout = sizes[i + 1];
            int w = p[$"{name}.{i}.weight"].Offset, b = p[$"{name}.{i}.bias"].Offset;
            var y = new double[rows * nout];
            for (int r = 0; r < rows; r++)
            for (int o = 0; o < nout; o++)
            {
                double s = theta[b + o];
                for (int k = 0; k < nin; k++) s += theta[w + o * nin + k] * h[r * nin + k];
                y[r * nout + o] = i < sizes.Length - 2 ? Math.Tanh(s) : s;
            }
            h = y;
        }
        return h;
    }

    private static double[] RefLstm(Parameters p, string name, int nin, int nh, double[] theta, double[] x, double[] h0, double[] c0, bool[] starts, int steps, int batch)
        => LstmTests.RefForward(p[name + ".weight_ih"].Offset, p[name + ".weight_hh"].Offset, p[name + ".bias"].Offset, nin, nh, theta, x, h0, c0, starts, steps, batch);

    /// <summary>
    /// The minibatch loss computed independently in float64 from the definitions: LSTM → MLP heads, categorical log-prob
    /// and entropy, clipped surrogate, 0.5·squared value error, L = −surrogate + c1·value loss − c2·entropy.
    /// <paramref name="frozen"/> supplies the actor-LSTM parameters the critic reads under shared_lstm (SB3-contrib
    /// detaches them: the value loss must not move the actor's LSTM).
    /// </summary>
    private static double RefLoss(CriticMode mode, Parameters p, double[] theta, double[] frozen, int nh, int[] hidden,
        double[] obs, bool[] starts, double[] ha, double[] ca, double[] hc, double[] cc, int steps, int seqs,
        float[] actions, float[] oldLogProb, float[] advantages, float[] returns, double clip, double vf, double ent)
    {
        int rows = steps * seqs, od = 2;
        var featA = RefLstm(p, "lstm_actor", od, nh, theta, obs, ha, ca, starts, steps, seqs);
        var logits = RefMlp(p, "actor", [nh, .. hidden, 2], theta, featA, rows);
        double[] values = mode switch
        {
            CriticMode.OwnLstm => RefMlp(p, "critic", [nh, .. hidden, 1], theta, RefLstm(p, "lstm_critic", od, nh, theta, obs, hc, cc, starts, steps, seqs), rows),
            CriticMode.SharedLstm => RefMlp(p, "critic", [nh, .. hidden, 1], theta, RefLstm(p, "lstm_actor", od, nh, frozen, obs, ha, ca, starts, steps, seqs), rows),
            _ => RefMlp(p, "critic", [od, .. hidden, 1], theta, obs, rows),
        };
        double surrogate = 0, valueLoss = 0, entropy = 0;
        for (int r = 0; r < rows; r++)
        {
            double l0 = logits[2 * r], l1 = logits[2 * r + 1], mx = Math.Max(l0, l1);
            double lse = mx + Math.Log(Math.Exp(l0 - mx) + Math.Exp(l1 - mx));
            double lp0 = l0 - lse, lp1 = l1 - lse;
            double logp = actions[r] == 0 ? lp0 : lp1;
            entropy += -(Math.Exp(lp0) * lp0 + Math.Exp(lp1) * lp1);
            double ratio = Math.Exp(logp - oldLogProb[r]), a = advantages[r];
            surrogate += Math.Min(ratio * a, Math.Clamp(ratio, 1 - clip, 1 + clip) * a);
            valueLoss += 0.5 * (values[r] - returns[r]) * (values[r] - returns[r]);
        }
        return -surrogate / rows + vf * valueLoss / rows - ent * entropy / rows;
    }

    [Theory]
    [InlineData(CriticMode.OwnLstm)]
    [InlineData(CriticMode.SharedLstm)]
    [InlineData(CriticMode.FeedForward)]
    public void MinibatchLossAndGradientMatchAnIndependentFloat64Computation(CriticMode mode)
    {
        const int nh = 3, steps = 3, seqs = 2, rows = steps * seqs;
        int[] hidden = [4];
        var o = new PpoOptions
        {
            NEnvs = 2, NSteps = 3, MinibatchSize = 6, EntCoef = 0.01, VfCoef = 0.5, Seed = 3,
            Policy = new PolicyOptions { LstmHiddenSize = nh, HiddenSizes = hidden, SharedLstm = mode == CriticMode.SharedLstm, EnableCriticLstm = mode == CriticMode.OwnLstm },
        };
        using var ppo = RecurrentPpo.Create("CartPoleNoVel-v1", o);
        var p = ppo.Policy.Parameters;
        var rng = new Rng(7);
        for (int i = 0; i < p.Count; i++) p.Values[i] = (float)(0.6 * rng.NextGaussian()); // away from the init's symmetries

        var obs = Reference.RandomFloats(rng, rows * 2);
        var starts = new bool[rows];
        starts[1 * seqs + 0] = true; // sequence 0 resets at step 1
        starts[0 * seqs + 1] = true; // sequence 1 ignores its stored state
        var initial = ppo.Policy.NewState(seqs);
        Reference.RandomFloats(rng, seqs * nh, 0.5).CopyTo(initial.Actor.Hidden, 0);
        Reference.RandomFloats(rng, seqs * nh, 0.5).CopyTo(initial.Actor.Cell, 0);
        if (initial.Critic is { } cs)
        {
            Reference.RandomFloats(rng, seqs * nh, 0.5).CopyTo(cs.Hidden, 0);
            Reference.RandomFloats(rng, seqs * nh, 0.5).CopyTo(cs.Cell, 0);
        }
        var actions = Enumerable.Range(0, rows).Select(i => (float)(i * 7 % 3 % 2)).ToArray();
        // Old log-probs spread around the current ones so that some ratios fall outside [1 − ε, 1 + ε].
        var oldLogProb = Enumerable.Range(0, rows).Select(i => (float)(Math.Log(0.5) + 0.35 * rng.NextGaussian())).ToArray();
        var advantages = Reference.RandomFloats(rng, rows);
        var returns = Reference.RandomFloats(rng, rows);
        var oldValues = new float[rows];
        const double clip = 0.2;

        var loss = ppo.LossAndGradientOf(steps, seqs, obs, starts, initial, actions, oldLogProb, oldValues, advantages, returns, clip);
        var grad = p.Gradients.ToArray();

        var theta = Reference.ToDouble(p.Values);
        var frozen = (double[])theta.Clone();
        double[] D(float[] a) => Reference.ToDouble(a);
        double[] hc = initial.Critic is { } c1 ? D(c1.Hidden) : [], cc = initial.Critic is { } c2 ? D(c2.Cell) : [];
        double F(double[] t) => RefLoss(mode, p, t, frozen, nh, hidden, D(obs), starts, D(initial.Actor.Hidden), D(initial.Actor.Cell), hc, cc,
            steps, seqs, actions, oldLogProb, advantages, returns, clip, o.VfCoef, o.EntCoef);
        double expected = F(theta);
        Assert.Equal(expected, loss.Total, 1e-5 * (1 + Math.Abs(expected)));

        var fd = new double[theta.Length];
        const double h = 1e-6;
        for (int i = 0; i < theta.Length; i++)
        {
            double keep = theta[i];
            theta[i] = keep + h; double lp = F(theta);
            theta[i] = keep - h; double lm = F(theta);
            theta[i] = keep;
            fd[i] = (lp - lm) / (2 * h);
        }
        Reference.Close(fd, grad, 2e-5, 2e-3, "dL/dθ");
        Assert.True(grad.Count(g => g != 0) > theta.Length / 2, "most parameters must receive a gradient");
        if (mode == CriticMode.SharedLstm)
        {
            // The value loss does not reach the shared LSTM: its gradient is the policy terms' alone (checked above via the frozen copy).
            Assert.Throws<KeyNotFoundException>(() => p["lstm_critic.bias"]);
        }
    }

    // ------------------------------------------------------------------ determinism and exact resume

    [Theory]
    [InlineData(CriticMode.OwnLstm, 0)]
    [InlineData(CriticMode.SharedLstm, 4)]
    public void SameSeedGivesBitIdenticalParametersAndStates(CriticMode mode, int sequenceLength)
    {
        using var a = RecurrentPpo.Create("CartPoleNoVel-v1", Small(mode, 5, sequenceLength));
        using var b = RecurrentPpo.Create("CartPoleNoVel-v1", Small(mode, 5, sequenceLength));
        a.Learn(4 * 32);
        b.Learn(4 * 32);
        Assert.Equal(a.Policy.Parameters.Values, b.Policy.Parameters.Values);
        Assert.Equal(a.CurrentState.Actor.Hidden, b.CurrentState.Actor.Hidden);
        Assert.Equal(a.Metrics["train/value_loss"], b.Metrics["train/value_loss"]);
        using var c = RecurrentPpo.Create("CartPoleNoVel-v1", Small(mode, 6, sequenceLength));
        c.Learn(4 * 32);
        Assert.NotEqual(a.Policy.Parameters.Values, c.Policy.Parameters.Values);
    }

    /// <summary>
    /// With two train threads the actor's and critic's branches (LSTM and head each) run side by side; every network
    /// still computes the same operations in the same order, so the run must be the one-thread run to the bit — for the
    /// mode that splits (own critic LSTM, whole and chunked sequences) and the modes that do not.
    /// </summary>
    [Theory]
    [InlineData(CriticMode.OwnLstm, 0)]
    [InlineData(CriticMode.OwnLstm, 4)]
    [InlineData(CriticMode.SharedLstm, 0)]
    [InlineData(CriticMode.FeedForward, 0)]
    public void TwoTrainThreadsGiveTheOneThreadRunToTheBit(CriticMode mode, int sequenceLength)
    {
        float[] Run(int threads)
        {
            var o = Small(mode, 3, sequenceLength);
            o.TrainThreads = threads;
            o.Policy.LstmHiddenSize = 32; // wide enough for the LSTMs' vector kernels
            using var agent = RecurrentPpo.Create("CartPoleNoVel-v1", o);
            agent.Learn(4 * 32);
            return (float[])agent.Policy.Parameters.Values.Clone();
        }
        var one = Run(1);
        Assert.Equal(one, Run(2));
        Assert.Equal(one, Run(3));
    }

    [Theory]
    [InlineData(CriticMode.OwnLstm, 0, false)]
    [InlineData(CriticMode.FeedForward, 8, true)]
    public void SaveLoadResumesBitIdenticallyToAnUninterruptedRun(CriticMode mode, int sequenceLength, bool normalize)
    {
        var o = Small(mode, 2, sequenceLength);
        o.AnnealLr = true; o.NormalizeObservation = normalize;
        string dir = Directory.CreateTempSubdirectory("proximal-rppo-").FullName;
        try
        {
            using var straight = RecurrentPpo.Create("CartPoleNoVel-v1", o);
            straight.Learn(6 * 32);

            string path = Path.Combine(dir, "half.zip");
            using (var first = RecurrentPpo.Create("CartPoleNoVel-v1", o))
            {
                first.Learn(6 * 32, [new LambdaCallback((x, _) => x.NumTimesteps < 3 * 32)]);
                Assert.Contains(first.CurrentState.Actor.Hidden, v => v != 0); // a state worth saving
                first.Save(path);
            }
            var loaded = AlgorithmRegistry.Load(path);
            using var resumed = Assert.IsType<RecurrentPpo>(loaded);
            Assert.Equal(3 * 32, resumed.NumTimesteps);
            resumed.Learn(3 * 32, schedule: ScheduleMode.Continue);

            Assert.Equal(straight.NumTimesteps, resumed.NumTimesteps);
            Assert.Equal(straight.Policy.Parameters.Values, resumed.Policy.Parameters.Values);
            Assert.Equal(straight.CurrentState.Actor.Hidden, resumed.CurrentState.Actor.Hidden);
            Assert.Equal(straight.CurrentState.Actor.Cell, resumed.CurrentState.Actor.Cell);
            Assert.Equal(straight.Metrics["train/value_loss"], resumed.Metrics["train/value_loss"]);
        }
        finally { Directory.Delete(dir, true); }
    }

    // ------------------------------------------------------------------ options, dispatch, predict

    [Fact]
    public void PpoWithARecurrentPolicyIsRecurrentPpoAndOtherAlgorithmsRefuseIt()
    {
        var o = Small();
        using var agent = AlgorithmRegistry.Create("ppo", "CartPoleNoVel-v1", o);
        Assert.Equal(RecurrentPpo.AlgorithmName, Assert.IsType<RecurrentPpo>(agent).Algorithm);
        o.Policy.LstmHiddenSize = 0;
        using var ff = AlgorithmRegistry.Create("ppo", "CartPoleNoVel-v1", o);
        Assert.IsType<Ppo>(ff);
        var a2c = new A2cOptions { Policy = new PolicyOptions { LstmHiddenSize = 8 } };
        var e = Assert.Throws<NotSupportedException>(() => AlgorithmRegistry.Create("a2c", "CartPoleNoVel-v1", a2c));
        Assert.Contains("lstm_hidden_size", e.Message);
    }

    [Fact]
    public void BadRecurrentOptionsAreRejectedNamingTheKey()
    {
        var o = Small(sequenceLength: 5);
        Assert.Contains("lstm_sequence_length", Assert.Throws<ConfigException>(() => RecurrentPpo.Create("CartPoleNoVel-v1", o)).Message);
        o = Small(sequenceLength: 8); o.MinibatchSize = 4;
        Assert.Contains("minibatch_size", Assert.Throws<ConfigException>(() => RecurrentPpo.Create("CartPoleNoVel-v1", o)).Message);
        o = Small(); o.Surrogate = SurrogateKind.AdaptiveKl;
        Assert.Contains("adaptive_kl", Assert.Throws<ConfigException>(() => RecurrentPpo.Create("CartPoleNoVel-v1", o)).Message);
        var p = new PolicyOptions { SharedLstm = true };
        Assert.Contains("lstm_hidden_size", Assert.Throws<ConfigException>(p.Validate).Message);
        var bound = ConfigBinder.Parse<PpoOptions>("policy:\n  lstm_hidden_size: 16\n  shared_lstm: true\n  lstm_sequence_length: 8\n", "test");
        Assert.Equal((16, true, 8), (bound.Policy.LstmHiddenSize, bound.Policy.SharedLstm, bound.Policy.LstmSequenceLength));
    }

    [Fact]
    public void PredictCarriesTheStateAndAStatelessCallIsAnEpisodeStart()
    {
        using var ppo = RecurrentPpo.Create("RememberCue-v0", Small());
        var rng = new Rng(9);
        for (int i = 0; i < ppo.Policy.Parameters.Count; i++) ppo.Policy.Parameters.Values[i] = (float)rng.NextGaussian();
        float[] obs = [1, 0, 0, 0, 1, 0]; // two envs' cue observations
        var state = ppo.NewPredictState(2);
        var withState = new float[2];
        ppo.Predict(obs, withState, state, [true, true], deterministic: true);
        Assert.Contains(state.Hidden, v => v != 0);
        Assert.Equal(ppo.Predict(obs.AsSpan(0, 3).ToArray()), withState.AsSpan(0, 1).ToArray()); // stateless = from zero
        // Continuing differs from restarting in general: the hidden state moved.
        var before = (float[])state.Hidden.Clone();
        ppo.Predict([0, 0, 0, 0, 0, 0], withState, state, [false, false]);
        Assert.NotEqual(before, state.Hidden);
        Assert.Throws<ArgumentException>(() => ppo.Predict(obs, withState, ppo.NewPredictState(3), [true, true]));
        Assert.Throws<ArgumentException>(() => ppo.Predict(obs, withState, state, [true]));
    }

    // ------------------------------------------------------------------ learning: memory that feed-forward PPO cannot have

    [Fact]
    [Trait("Category", "Learning")]
    public void RecurrentPpoSolvesRememberCueWhereFeedForwardPpoStaysAtChance()
    {
        // The shipped config's settings, on a 5-step delay and a 12k-step budget.
        var o = ConfigBinder.Load<PpoOptions>(Path.Combine(AppContext.BaseDirectory, "configs", "ppo", "RememberCue-v0.yaml"));
        o.EnvKwargs["delay"] = 5;
        o.Seed = 1;
        const long budget = 12_288;
        using var recurrent = (BaseAlgorithm)AlgorithmRegistry.Create("ppo", "RememberCue-v0", o);
        Assert.IsType<RecurrentPpo>(recurrent);
        recurrent.Learn(budget);
        using var eval = BaseAlgorithm.BuildEnv("RememberCue-v0", o, forEvaluation: true, numEnvs: 4);
        var r = Evaluation.Evaluate(recurrent, eval, 100, deterministic: true, seed: 77);
        Assert.True(r.MeanReturn >= 0.9, $"recurrent PPO: mean return {r.MeanReturn} < 0.9");

        var ff = o.Clone() as PpoOptions ?? throw new InvalidOperationException();
        ff.Policy.LstmHiddenSize = 0;
        using var feedForward = AlgorithmRegistry.Create("ppo", "RememberCue-v0", ff);
        Assert.IsType<Ppo>(feedForward);
        feedForward.Learn(budget);
        var f = Evaluation.Evaluate(feedForward, eval, 400, deterministic: true, seed: 77);
        // Expected return 0 for every feed-forward policy (see RememberCue); 400 episodes put 0.5 at 10 standard errors.
        Assert.True(f.MeanReturn < 0.5, $"feed-forward PPO: mean return {f.MeanReturn} (chance is 0)");
    }
}
