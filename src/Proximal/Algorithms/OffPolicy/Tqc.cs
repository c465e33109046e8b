using System.Runtime.Intrinsics;
using Proximal.Algorithms.Policies;
using Proximal.Common.Persistence;
using Proximal.Envs.Vector;
using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Algorithms.OffPolicy;

/// <summary>
/// Truncated Quantile Critics (Kuznetsov et al. 2020): SAC's squashed-Gaussian actor and automatic temperature, with N
/// distributional critics of M quantiles each (τ_m = (2m + 1)/(2M)). The target pools the N·M atoms Z′_n,m(s′, a′) of
/// the target critics, sorts them and keeps the smallest k = N·(M − d) (dropping the top d per critic), giving atoms
/// y_i = r + γ(1 − terminated)(z_(i) − α log π(a′|s′)). Each critic is fitted by the quantile Huber loss (κ = 1) to that
/// truncated mixture; the actor maximises the mean of all N·M quantiles minus α log π. The loop, the buffer and the
/// model file are shared (<see cref="OffPolicyAlgorithm"/>); this file is TQC's update, top to bottom.
/// </summary>
public sealed class Tqc : OffPolicyAlgorithm
{
    public const string AlgorithmName = "tqc";

    private readonly ActionScale _scale;
    private readonly Adam _actorOptimizer, _criticOptimizer, _temperatureOptimizer;
    private readonly float[] _stored;
    private readonly float[] _actMean, _actLogStd, _actNoise, _actRaw, _actLogProb;
    private float[] _pMean = [], _pLogStd = [], _pNoise = [], _pRaw = [], _pLogProb = [];
    private readonly float[][] _pools; // per part: one row's N·M target atoms, sorted in place
    private readonly double[] _rowLoss; // [N × B] quantile Huber loss of each (critic, row), summed in one fixed order
    private readonly RowWork _rows;

    internal readonly int N, M, Kept;
    internal readonly float[] NextActions, NextLogProb, NextNoise, NextMean, NextLogStd;
    internal readonly float[] NextZ, Targets;        // Z′ [N × B × M], truncated target atoms [B × Kept]
    internal readonly float[] Z, GradZ;              // Z_n(s, a) [N × B × M]
    internal readonly float[] PiActions, PiLogProb, PiNoise, PiMean, PiLogStd, PiZ, GradPiZ, GradPiActions, GradPiLogProb;

    private Tqc(VecEnv env, TqcOptions options, string? envId, bool ownsEnv) : this(ValidatedCopy(options), env, envId, ownsEnv) { }

    private Tqc(TqcOptions options, VecEnv env, string? envId, bool ownsEnv) : base(env, options, envId, ownsEnv)
    {
        Options = options;
        if (env.SingleObservationSpace is not Box)
            throw new NotSupportedException($"TQC needs a Box observation space; got {env.SingleObservationSpace}.");
        if (env.SingleActionSpace is not Box box)
            throw new NotSupportedException($"TQC needs a bounded Box action space (it squashes actions with tanh); got {env.SingleActionSpace}.");
        _scale = new ActionScale(box, "TQC");
        int od = env.ObservationSize, ad = env.ActionSize, n = options.NEnvs, b = options.BatchSize;
        N = options.NCritics; M = options.NQuantiles; Kept = N * (M - options.TopQuantilesToDropPerNet);

        Actor = new SquashedGaussianActor(od, ad, options.ActorHiddenSizes, InitRng, init: options.NetInit);
        Critics = new ContinuousCritics(od, ad, N, options.CriticHiddenSizes, InitRng, outputsPerCritic: M, init: options.NetInit);
        CriticTargets = new ContinuousCritics(od, ad, N, options.CriticHiddenSizes, new Rng(0), outputsPerCritic: M);
        Critics.Parameters.Values.CopyTo(CriticTargets.Parameters.Values);
        Temperature = new Parameters();
        Temperature.Allocate(1, "log_ent_coef");
        Temperature.Values[0] = (float)Math.Log(options.EntCoef);
        Actor.Threads = options.TrainThreads;
        Critics.Threads = CriticTargets.Threads = options.TrainThreads;
        _actorOptimizer = new Adam(Actor.Parameters, options.LearningRate, epsilon: 1e-8) { Threads = options.TrainThreads };
        _criticOptimizer = new Adam(Critics.Parameters, options.LearningRate, epsilon: 1e-8) { Threads = options.TrainThreads };
        _temperatureOptimizer = new Adam(Temperature, options.LearningRate, epsilon: 1e-8);
        TargetEntropy = options.TargetEntropy ?? -ad;

        _stored = new float[n * ad];
        _actMean = new float[n * ad]; _actLogStd = new float[n * ad]; _actNoise = new float[n * ad]; _actRaw = new float[n * ad]; _actLogProb = new float[n];
        _pools = new float[Math.Max(1, options.TrainThreads)][];
        for (int p = 0; p < _pools.Length; p++) _pools[p] = new float[N * M];
        _rowLoss = new double[N * b];
        _rows = new RowWork(this);
        NextActions = new float[b * ad]; NextLogProb = new float[b]; NextNoise = new float[b * ad]; NextMean = new float[b * ad]; NextLogStd = new float[b * ad];
        NextZ = new float[N * b * M]; Targets = new float[b * Kept];
        Z = new float[N * b * M]; GradZ = new float[N * b * M];
        PiActions = new float[b * ad]; PiLogProb = new float[b]; PiNoise = new float[b * ad]; PiMean = new float[b * ad]; PiLogStd = new float[b * ad];
        PiZ = new float[N * b * M]; GradPiZ = new float[N * b * M]; GradPiActions = new float[b * ad]; GradPiLogProb = new float[b];
    }


    public Tqc(VecEnv env, TqcOptions? options = null) : this(env, options ?? new TqcOptions(), envId: null, ownsEnv: false) { }

    public static Tqc Create(string envId, TqcOptions? options = null)
        => CreateOnRegisteredEnv(envId, options ??= new TqcOptions(), env => new Tqc(env, options, envId, ownsEnv: true));

    public static Tqc Load(string path, VecEnv? env = null)
        => LoadModel<Tqc, TqcOptions>(path, env, AlgorithmName, (e, o, id, owns) => new Tqc(e, o, id, owns));

    public override string Algorithm => AlgorithmName;
    public TqcOptions Options { get; }
    public SquashedGaussianActor Actor { get; }
    public ContinuousCritics Critics { get; }
    public ContinuousCritics CriticTargets { get; }
    public Parameters Temperature { get; }
    public double Alpha => Math.Exp(Temperature.Values[0]);
    public double TargetEntropy { get; }

    // ---------------------------------------------------------------- acting (as SAC)

    protected override void ExploreActions(ReadOnlySpan<float> observations, int count, Span<float> actions)
    {
        Actor.Sample(observations, count, TrainRng, _actRaw, _actLogProb, _actNoise, _actMean, _actLogStd);
        _scale.ToBounds(_actRaw, actions);
    }

    protected override void PredictPolicy(ReadOnlySpan<float> observations, int batch, Span<float> actions, bool deterministic)
    {
        int n = batch * Env.ActionSize;
        if (_pRaw.Length < n)
        {
            _pMean = new float[n]; _pLogStd = new float[n]; _pNoise = new float[n]; _pRaw = new float[n]; _pLogProb = new float[batch];
        }
        var raw = _pRaw.AsSpan(0, n);
        if (deterministic) Actor.Mode(observations, batch, raw, _pMean.AsSpan(0, n), _pLogStd.AsSpan(0, n));
        else Actor.Sample(observations, batch, PredictRng, raw, _pLogProb.AsSpan(0, batch), _pNoise.AsSpan(0, n), _pMean.AsSpan(0, n), _pLogStd.AsSpan(0, n));
        _scale.ToBounds(raw, actions);
    }

    protected override ReadOnlySpan<float> StoredActions(ReadOnlySpan<float> actions)
    {
        var stored = _stored.AsSpan(0, actions.Length);
        _scale.ToSquashed(actions, stored);
        return stored;
    }

    // ---------------------------------------------------------------- update

    protected override void TrainStep(double scheduleFraction)
    {
        double lr = Options.AnnealLr ? Options.LearningRate * scheduleFraction : Options.LearningRate;
        double alpha = Alpha;
        TruncatedTargets(alpha);
        double criticLoss = CriticLossAndGradient();
        if (!double.IsFinite(criticLoss))
            throw new InvalidOperationException($"TQC diverged: the critic loss is {criticLoss} at step {NumTimesteps}. Lower learning_rate, or normalise observations/rewards.");
        _criticOptimizer.Step(lr);
        double actorLoss = ActorLossAndGradient(alpha);
        _actorOptimizer.Step(lr);
        if (Options.AutoEntCoef)
        {
            IterationMetrics["train/ent_coef_loss"] = TemperatureLossAndGradient();
            _temperatureOptimizer.Step(lr);
        }
        Polyak.Update(Critics.Parameters, CriticTargets.Parameters, Options.Tau, Options.TrainThreads);
        IterationMetrics["train/critic_loss"] = criticLoss;
        IterationMetrics["train/actor_loss"] = actorLoss;
        IterationMetrics["train/ent_coef"] = alpha;
        IterationMetrics["train/learning_rate"] = lr;
    }

    /// <summary>
    /// Per row: pool Z′_n,m(s′, a′) over all N critics and M quantiles (a′ ~ π(·|s′) drawn now), sort ascending, keep the
    /// smallest <see cref="Kept"/>, and store r + γ(1 − terminated)(z_(i) − α log π(a′|s′)) in <see cref="Targets"/> [B × Kept].
    /// </summary>
    internal void TruncatedTargets(double alpha)
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        Actor.Sample(batch.NextObservations, b, TrainRng, NextActions, NextLogProb, NextNoise, NextMean, NextLogStd);
        CriticTargets.Forward(batch.NextObservations, NextActions, b, NextZ);
        _rows.Run(RowWork.Phase.Targets, b, (float)alpha);
    }

    /// <summary>Rows [<paramref name="lo"/>, <paramref name="hi"/>) of <see cref="TruncatedTargets"/>, pooled in <paramref name="pool"/>.</summary>
    private void TargetRows(int lo, int hi, float alpha, float[] pool)
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        float gamma = (float)Options.Gamma;
        for (int i = lo; i < hi; i++)
        {
            for (int n = 0; n < N; n++) NextZ.AsSpan((n * b + i) * M, M).CopyTo(pool.AsSpan(n * M, M));
            pool.AsSpan().Sort();
            var y = Targets.AsSpan(i * Kept, Kept);
            float entropyTerm = alpha * NextLogProb[i];
            for (int j = 0; j < Kept; j++)
                y[j] = batch.Rewards[i] + (batch.Terminated[i] ? 0f : gamma * (pool[j] - entropyTerm));
        }
    }

    /// <summary>
    /// The per-row work between the critics' GEMMs (sorting each row's pooled atoms; the quantile Huber loss of each
    /// critic and row), cut into blocks of rows for the train threads: a tenth of a 2-critic step that the second core
    /// otherwise spent waiting. Every row is computed by the same operations whoever runs it, and the losses are summed
    /// afterwards in one fixed order, so the results do not depend on the thread count.
    /// </summary>
    private sealed class RowWork(Tqc tqc) : IPartitionedWork
    {
        public enum Phase { Targets, Loss }
        private Phase _phase;
        private int _batch;
        private float _alpha;

        public void Run(Phase phase, int batch, float alpha)
        {
            _phase = phase; _batch = batch; _alpha = alpha;
            int parts = Math.Min(tqc._pools.Length, Math.Max(1, batch / 32));
            if (parts <= 1) RunPart(0, 1);
            else WorkerTeam.Run(this, parts);
        }

        public void RunPart(int part, int parts)
        {
            int lo = (int)((long)_batch * part / parts), hi = (int)((long)_batch * (part + 1) / parts);
            if (_phase == Phase.Targets) tqc.TargetRows(lo, hi, _alpha, tqc._pools[part]);
            else tqc.LossRows(lo, hi);
        }
    }

    /// <summary>
    /// The quantile Huber loss (κ = 1) of M quantile estimates θ_m at levels τ_m = (2m + 1)/(2M) against K target atoms:
    /// (1/(K·M)) Σ_m Σ_j |τ_m − 1(u &lt; 0)| · H(u), u = y_j − θ_m, H(u) = u²/2 for |u| ≤ 1, else |u| − 1/2.
    /// Returns the loss and ADDS scale · d loss/d θ into <paramref name="gradQuantiles"/> [M].
    /// </summary>
    internal static double QuantileHuberLoss(ReadOnlySpan<float> quantiles, ReadOnlySpan<float> targets, Span<float> gradQuantiles, float scale = 1f)
    {
        int m = quantiles.Length, k = targets.Length;
        double loss = 0;
        double inv = 1.0 / ((double)k * m);
        var half = Vector256.Create(0.5f);
        var one = Vector256<float>.One;
        for (int q = 0; q < m; q++)
        {
            float tau = (2 * q + 1) / (2f * m), theta = quantiles[q];
            // Eight target atoms per step with branch-free selects: this loop runs N·B·M·K times per update (3.7M at
            // the paper's sizes) and, scalar, its two dependent sums made it a sixth of TQC's step.
            var vTheta = Vector256.Create(theta);
            var vTau = Vector256.Create(tau);
            var vOneMinusTau = Vector256.Create(1f - tau);
            Vector256<float> lossAcc = Vector256<float>.Zero, gradAcc = Vector256<float>.Zero;
            int j = 0;
            for (; j + 8 <= k; j += 8)
            {
                var u = Vector256.Create(targets.Slice(j, 8)) - vTheta;
                var w = Vector256.ConditionalSelect(Vector256.LessThan(u, Vector256<float>.Zero), vOneMinusTau, vTau);
                var au = Vector256.Abs(u);
                var h = Vector256.ConditionalSelect(Vector256.LessThanOrEqual(au, one), half * u * u, au - half);
                lossAcc += w * h;
                gradAcc += w * Vector256.Min(Vector256.Max(u, -one), one);
            }
            float lossSum = Vector256.Sum(lossAcc), gradSum = -Vector256.Sum(gradAcc);
            for (; j < k; j++)
            {
                float u = targets[j] - theta;
                float w = u < 0 ? 1f - tau : tau;
                float au = MathF.Abs(u);
                lossSum += w * (au <= 1f ? 0.5f * u * u : au - 0.5f);
                gradSum -= w * Math.Clamp(u, -1f, 1f); // d H(u)/d θ = −clip(u, −1, 1)
            }
            loss += lossSum * inv;
            gradQuantiles[q] += (float)(gradSum * inv) * scale;
        }
        return loss;
    }

    /// <summary>
    /// J_Z = Σ_n mean_b QuantileHuber(Z_n(s_b, a_b), y_b) (each critic fitted to the same truncated mixture); fills the
    /// critics' gradients (zeroed first). Returns J_Z.
    /// </summary>
    internal double CriticLossAndGradient()
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        Critics.Parameters.ZeroGradients();
        Critics.Forward(batch.Observations, batch.Actions, b, Z);
        Array.Clear(GradZ);
        _rows.Run(RowWork.Phase.Loss, b, 0f);
        double loss = 0;
        for (int r = 0; r < N * b; r++) loss += _rowLoss[r] / b;
        Critics.Backward(GradZ, default);
        return loss;
    }

    /// <summary>Rows [<paramref name="lo"/>, <paramref name="hi"/>) of every critic's loss into <see cref="_rowLoss"/> and <see cref="GradZ"/>.</summary>
    private void LossRows(int lo, int hi)
    {
        int b = Batch.Rewards.Length;
        float invB = 1f / b;
        for (int n = 0; n < N; n++)
            for (int i = lo; i < hi; i++)
            {
                int at = (n * b + i) * M;
                _rowLoss[n * b + i] = QuantileHuberLoss(Z.AsSpan(at, M), Targets.AsSpan(i * Kept, Kept), GradZ.AsSpan(at, M), invB);
            }
    }

    /// <summary>J_π = mean_b (α log π(ã|s) − mean_{n,m} Z_n,m(s, ã)); fills the actor's gradients (zeroed first). Returns J_π.</summary>
    internal double ActorLossAndGradient(double alpha)
    {
        var batch = Batch;
        int b = batch.Rewards.Length;
        Actor.Parameters.ZeroGradients();
        Actor.Sample(batch.Observations, b, TrainRng, PiActions, PiLogProb, PiNoise, PiMean, PiLogStd);
        Critics.Forward(batch.Observations, PiActions, b, PiZ);
        float a = (float)alpha, g = -1f / ((float)N * M * b);
        GradPiZ.AsSpan().Fill(g);
        double loss = 0;
        for (int i = 0; i < b; i++)
        {
            double meanZ = 0;
            for (int n = 0; n < N; n++)
                foreach (float z in PiZ.AsSpan((n * b + i) * M, M)) meanZ += z;
            meanZ /= N * M;
            loss += (a * PiLogProb[i] - meanZ) / b;
            GradPiLogProb[i] = a / b;
        }
        Critics.ActionGradient(GradPiZ, GradPiActions); // d Q/d a only: the critics' weight gradients would be discarded
        Actor.Backward(PiMean, PiLogStd, PiNoise, GradPiLogProb, GradPiActions);
        return loss;
    }

    /// <summary>As SAC: J(α) = mean(−α(log π + H̄)) (or −log α·(…) with ent_coef_loss log_alpha), d J/d log α into the temperature's gradient. Returns J(α).</summary>
    internal double TemperatureLossAndGradient()
    {
        double loss = TemperatureLoss.Compute(Options.EntCoefLoss, Temperature.Values[0], Reductions.MeanInDouble(PiLogProb) + TargetEntropy, out float grad);
        Temperature.Gradients[0] = grad;
        return loss;
    }

    internal void SetBatch(ReadOnlySpan<float> observations, ReadOnlySpan<float> actions, ReadOnlySpan<float> rewards,
        ReadOnlySpan<float> nextObservations, ReadOnlySpan<bool> terminated)
    {
        observations.CopyTo(Batch.Observations); actions.CopyTo(Batch.Actions); rewards.CopyTo(Batch.Rewards);
        nextObservations.CopyTo(Batch.NextObservations); terminated.CopyTo(Batch.Terminated);
    }

    // ---------------------------------------------------------------- model file

    protected override void SaveState(ModelStateWriter writer)
    {
        base.SaveState(writer);
        writer.AddParameters("actor", Actor.Parameters);
        writer.AddParameters("critic", Critics.Parameters);
        writer.AddParameters("critic_target", CriticTargets.Parameters);
        writer.AddParameters("temperature", Temperature);
        writer.AddAdam("actor_optimizer", _actorOptimizer);
        writer.AddAdam("critic_optimizer", _criticOptimizer);
        writer.AddAdam("temperature_optimizer", _temperatureOptimizer);
    }

    protected override void RestoreState(ModelStateReader reader)
    {
        base.RestoreState(reader);
        reader.RestoreParameters("actor", Actor.Parameters);
        reader.RestoreParameters("critic", Critics.Parameters);
        reader.RestoreParameters("critic_target", CriticTargets.Parameters);
        reader.RestoreParameters("temperature", Temperature);
        reader.RestoreAdam("actor_optimizer", _actorOptimizer);
        reader.RestoreAdam("critic_optimizer", _criticOptimizer);
        reader.RestoreAdam("temperature_optimizer", _temperatureOptimizer);
    }
}
