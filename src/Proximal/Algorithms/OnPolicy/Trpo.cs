using Proximal.Algorithms.Policies;
using Proximal.Envs.Vector;
using Proximal.Nn;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// Trust Region Policy Optimization (Schulman et al., 2015), the practical algorithm of its section 6 with the
/// single-path estimator: N actors × T steps, GAE advantages (normalised), then one natural-gradient step that
/// maximises the surrogate L(θ) = mean(π_θ(a|s)/π_old(a|s) · A) subject to mean_s KL(π_old ‖ π_θ) ≤ δ:
/// <list type="number">
/// <item>g = ∇L at θ_old (actor-only backward; the critic's weights are untouched);</item>
/// <item>s ≈ (F + λI)⁻¹ g by conjugate gradient, where F·v is the Fisher of the policy distribution averaged over the
/// rollout's states — Jᵀ·M·J·v through the actor's forward-mode Jvp, the distribution's Fisher M in output
/// coordinates, and the actor's backward (<see cref="PolicyFisher"/>), on every fisher_subsample-th state
/// (Baselines' trpo_mpi: every 5th);</item>
/// <item>the largest step along s that satisfies the quadratic model of the constraint, β = √(2δ / sᵀ(F + λI)s);</item>
/// <item>a backtracking line search from θ_old + β·s, shrinking by 0.5 up to 10 times, accepting only a step whose
/// exact mean KL is within δ (within line_search_kl_tolerance·δ: Baselines' trpo_mpi accepts 1.5·δ) and whose
/// surrogate improved; none accepted leaves the policy where it was.</item>
/// </list>
/// The value function is then fitted separately, by epochs of Adam minibatches on mean((V − R)²) through a
/// critic-only backward. Rollout, GAE, acting, the learn loop and the model file are shared with PPO and A2C.
/// </summary>
public sealed class Trpo : OnPolicyAlgorithm
{
    public const string AlgorithmName = "trpo";

    private readonly PolicyFisher _fisher;
    private readonly LinearOperator _dampedFisher;
    private readonly Func<double, (double Surrogate, double Kl)> _evaluateStep;

    // Workspaces, allocated once: flat vectors have the parameter layout (their critic entries stay 0), the rest [B] or [B × P].
    private readonly float[] _g, _s, _fs, _r, _p, _ap, _thetaOld;
    private readonly float[] _advantages, _oldOutputs, _oldLogProb, _logProb, _gradLogProb, _gradOutputs, _kl;
    private double _stepScale;

    private Trpo(VecEnv env, TrpoOptions options, string? envId, bool ownsEnv)
        : this(ValidatedCopy(options), env, envId, ownsEnv) { }

    private Trpo(TrpoOptions options, VecEnv env, string? envId, bool ownsEnv) : base(env, options, envId, ownsEnv)
    {
        Options = options;
        int n = Policy.Parameters.Count, b = Buffer.Count, pSize = Policy.OutputSize;
        _fisher = new PolicyFisher(Policy);
        double damping = options.CgDamping;
        _dampedFisher = (v, result) =>
        {
            if (DataParallel is not { } dp) { _fisher.Multiply(v, result, damping); return; }
            _fisher.Multiply(v, result, 0); // [distributed] F·v of this rank's rows, averaged over the ranks, then damped
            dp.AverageGradients(result);
            float d = (float)damping;
            for (int i = 0; i < result.Length; i++) result[i] += d * v[i];
        };
        _evaluateStep = EvaluateStep;
        _g = new float[n]; _s = new float[n]; _fs = new float[n]; _r = new float[n]; _p = new float[n]; _ap = new float[n]; _thetaOld = new float[n];
        _advantages = new float[b]; _oldLogProb = new float[b]; _logProb = new float[b]; _gradLogProb = new float[b]; _kl = new float[b];
        _gradOutputs = new float[b * pSize];
        _oldOutputs = new float[b * pSize];
    }


    /// <summary>TRPO on an environment you built (the caller keeps ownership of <paramref name="env"/>).</summary>
    public Trpo(VecEnv env, TrpoOptions? options = null) : this(env, options ?? new TrpoOptions(), envId: null, ownsEnv: false) { }

    /// <summary>TRPO on a registered environment id, built with the options' n_envs, normalisation and threading.</summary>
    public static Trpo Create(string envId, TrpoOptions? options = null)
        => CreateOnRegisteredEnv(envId, options ??= new TrpoOptions(), env => new Trpo(env, options, envId, ownsEnv: true));

    /// <summary>Loads a model saved by <see cref="BaseAlgorithm.Save"/> (see <see cref="Ppo.Load"/> for the rules).</summary>
    public static Trpo Load(string path, VecEnv? env = null)
        => LoadModel<Trpo, TrpoOptions>(path, env, AlgorithmName, (e, o, id, owns) => new Trpo(e, o, id, owns));

    public override string Algorithm => AlgorithmName;
    /// <summary>[distributed] Its update reduces its gradients and statistics across ranks (ReduceGradients and co.).</summary>
    protected override bool SupportsDataParallel => true;
    public TrpoOptions Options { get; }
    /// <summary>The latest rollout (for tests that recompute the step independently).</summary>
    internal RolloutBuffer RolloutForTests => Buffer;

    // ---------------------------------------------------------------- update

    protected override void Train(double scheduleFraction)
    {
        int b = Buffer.Count;
        var head = Policy.Head;
        var parameters = Policy.Parameters;
        head.SnapshotOld(); // π_old's log-std, for the KL of the line search

        // Advantages, normalised over the rollout (trpo_mpi does).
        Buffer.Advantages.CopyTo(_advantages, 0);
        if (Options.NormalizeAdvantage) NormalizeAdvantages(_advantages); // over all ranks when distributed
        double surrogateBefore = 0; // ratio ≡ 1 at θ_old
        foreach (float a in _advantages) surrogateBefore += a;
        surrogateBefore = MeanAcrossRanks(surrogateBefore / b); // [distributed] every rank holds b rows

        // 1. g = ∇θ mean(ratio·A) at θ_old = mean(A·∇ log π): actor forward (π_old's outputs, kept for the KL of the
        // line search, and the Fisher's linearisation point when it uses the whole batch), actor-only backward.
        int fisherStride = Options.FisherSubsample;
        ReadOnlySpan<float> oldOutputs;
        if (fisherStride == 1) { _fisher.Prepare(Buffer.Observations, b); oldOutputs = _fisher.Outputs; }
        else oldOutputs = Policy.ActorOutputs(Buffer.Observations, b);
        oldOutputs.CopyTo(_oldOutputs);
        oldOutputs = _oldOutputs;
        head.LogProb(oldOutputs, Buffer.Actions, _oldLogProb);
        for (int i = 0; i < b; i++) _gradLogProb[i] = _advantages[i] / b;
        Array.Clear(_gradOutputs);
        // Zero first: LogProbBackward writes the Gaussian log-std's gradient straight into the parameter gradients
        // (zeroing after it erased that part of g, so the log-std never moved: std stayed 1 for the whole run).
        parameters.ZeroGradients();
        head.LogProbBackward(oldOutputs, Buffer.Actions, _gradLogProb, _gradOutputs);
        Policy.BackwardActor(_gradOutputs);
        ReduceGradients(); // [distributed] g averaged over the ranks
        parameters.Gradients.CopyTo(_g, 0);
        double gNorm = Math.Sqrt(Dot(_g, _g));
        if (!double.IsFinite(gNorm))
            throw new InvalidOperationException($"TRPO update diverged: the policy gradient norm is {gNorm} at step {NumTimesteps}.");

        int cgIters = 0, accepted = -1;
        double beta = 0, expected = 0, sFs = 0;
        var at = (Surrogate: surrogateBefore, Kl: 0.0);
        if (gNorm > 0)
        {
            // 2. s ≈ (F + λI)⁻¹ g, F on every fisher_subsample-th state (a forward of those rows for the products to
            // linearise at; the same F serves sᵀFs below, as in trpo_mpi).
            if (fisherStride > 1) _fisher.Prepare(Buffer.Observations, b, fisherStride);
            cgIters = ConjugateGradient(_dampedFisher, _g, _s, Options.CgIters, 1e-10, _r, _p, _ap);
            // 3. β = √(2δ / sᵀ(F + λI)s): the step on which the quadratic KL model equals δ.
            _dampedFisher(_s, _fs);
            sFs = Dot(_s, _fs);
            if (sFs > 0 && double.IsFinite(sFs))
            {
                beta = Math.Sqrt(2 * Options.MaxKl / sFs);
                expected = beta * Dot(_g, _s);
                // 4. Backtracking line search on the exact surrogate and KL.
                parameters.Values.CopyTo(_thetaOld, 0);
                _stepScale = beta;
                accepted = LineSearch(_evaluateStep, surrogateBefore, Options.LineSearchKlTolerance * Options.MaxKl, Options.LineSearchShrink, Options.LineSearchMaxIter, out at);
                if (accepted < 0) _thetaOld.CopyTo(parameters.Values, 0); // else θ is at the accepted step (the last one evaluated)
            }
        }

        // 5. The value function: epochs of Adam minibatches on mean((V − R)²), critic-only.
        double lr = ScheduledLearningRate(scheduleFraction);
        double valueLoss = FitValueFunction(Options.VfEpochs, Options.VfMinibatchSize, lr);

        IterationMetrics["train/policy_gradient_norm"] = gNorm;
        IterationMetrics["train/cg_iterations"] = cgIters;
        IterationMetrics["train/step_size"] = beta;
        IterationMetrics["train/sFs"] = sFs;
        IterationMetrics["train/expected_improvement"] = expected;
        IterationMetrics["train/line_search_steps"] = accepted; // −1: no step accepted
        IterationMetrics["train/surrogate_improvement"] = accepted >= 0 ? at.Surrogate - surrogateBefore : 0;
        IterationMetrics["train/kl"] = accepted >= 0 ? at.Kl : 0;
        IterationMetrics["train/value_loss"] = valueLoss;
        IterationMetrics["train/explained_variance"] = Surrogate.ExplainedVariance(Buffer.Values, Buffer.Returns);
        IterationMetrics["train/learning_rate"] = lr;
        if (Policy.LogStd.Length > 0)
        {
            double s = 0;
            foreach (float x in Policy.LogStd) s += x;
            IterationMetrics["train/std"] = Math.Exp(s / Policy.LogStd.Length);
        }
    }

    /// <summary>θ = θ_old + fraction·β·s.</summary>
    private void SetStep(double fraction)
    {
        var theta = Policy.Parameters.Values;
        float k = (float)(fraction * _stepScale);
        for (int i = 0; i < theta.Length; i++) theta[i] = _thetaOld[i] + k * _s[i];
    }

    /// <summary>The exact surrogate mean(exp(log π − log π_old)·A) and mean KL(π_old ‖ π) at θ_old + fraction·β·s.</summary>
    private (double Surrogate, double Kl) EvaluateStep(double fraction)
    {
        SetStep(fraction);
        int b = Buffer.Count;
        var head = Policy.Head;
        var outputs = Policy.ActorOutputs(Buffer.Observations, b);
        head.LogProb(outputs, Buffer.Actions, _logProb);
        head.Kl(_oldOutputs, outputs, _kl);
        double surrogate = 0, kl = 0;
        for (int i = 0; i < b; i++)
        {
            surrogate += Math.Exp((double)_logProb[i] - _oldLogProb[i]) * _advantages[i];
            kl += _kl[i];
        }
        if (DataParallel is { } dp) // [distributed] the line search decides on the means over all ranks
        {
            Span<double> both = [surrogate / b, kl / b];
            dp.Sum(both);
            return (both[0] / dp.Size, both[1] / dp.Size);
        }
        return (surrogate / b, kl / b);
    }

    // ---------------------------------------------------------------- the pieces, testable on their own

    /// <summary>y = A·v for a symmetric positive-definite A given only through products.</summary>
    internal delegate void LinearOperator(ReadOnlySpan<float> v, Span<float> result);

    /// <summary>
    /// Conjugate gradient (Hestenes and Stiefel) for A·x = b from x = 0, at most <paramref name="iterations"/> products,
    /// stopping early when |r|² falls below <paramref name="residualTolerance"/>. Dot products accumulate in double.
    /// Returns the iterations run. <paramref name="r"/>, <paramref name="p"/>, <paramref name="ap"/> are workspaces of b's length.
    /// </summary>
    internal static int ConjugateGradient(LinearOperator a, ReadOnlySpan<float> b, Span<float> x, int iterations, double residualTolerance,
        Span<float> r, Span<float> p, Span<float> ap)
    {
        x.Clear();
        b.CopyTo(r);
        b.CopyTo(p);
        double rr = Dot(r, r);
        for (int k = 0; k < iterations; k++)
        {
            if (rr < residualTolerance) return k;
            a(p, ap);
            double pAp = Dot(p, ap);
            if (!(pAp > 0)) return k; // not positive definite along p (or NaN): stop with what we have
            float alpha = (float)(rr / pAp);
            for (int i = 0; i < x.Length; i++) { x[i] += alpha * p[i]; r[i] -= alpha * ap[i]; }
            double rrNew = Dot(r, r);
            float mu = (float)(rrNew / rr);
            for (int i = 0; i < p.Length; i++) p[i] = r[i] + mu * p[i];
            rr = rrNew;
        }
        return iterations;
    }

    /// <summary>
    /// Backtracking line search: tries fractions 1, shrink, shrink², … (at most <paramref name="maxIterations"/>) and
    /// returns the index of the first whose evaluation has a finite KL ≤ <paramref name="maxKl"/> and a surrogate
    /// above <paramref name="surrogateBefore"/>; −1 when none does. <paramref name="at"/> is that step's evaluation.
    /// </summary>
    internal static int LineSearch(Func<double, (double Surrogate, double Kl)> evaluate, double surrogateBefore, double maxKl, double shrink,
        int maxIterations, out (double Surrogate, double Kl) at)
    {
        double fraction = 1;
        for (int k = 0; k < maxIterations; k++, fraction *= shrink)
        {
            at = evaluate(fraction);
            if (double.IsFinite(at.Surrogate) && double.IsFinite(at.Kl) && at.Kl <= maxKl && at.Surrogate > surrogateBefore) return k;
        }
        at = (double.NaN, double.NaN);
        return -1;
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}

/// <summary>
/// Fisher-vector products of a policy, averaged over a batch of states: F·v = (1/B) Σ_b J_bᵀ M_b J_b v, with J_b the
/// Jacobian of the actor's outputs at state b (forward-mode <see cref="ActorCritic.ActorJvp"/>, then the actor's
/// backward for Jᵀ) and M_b the distribution's Fisher in output coordinates (softmax: diag(p) − ppᵀ; Gaussian mean:
/// 1/σ²), plus the Gaussian log-std block 2·I. This is the Hessian of mean_s KL(π_old ‖ π) at π = π_old.
/// Uses the policy's gradient buffer as scratch. Allocation-free after the first call at a batch size.
/// </summary>
internal sealed class PolicyFisher(ActorCritic policy)
{
    private float[] _outputs = [], _u = [], _observations = [];
    private readonly float[] _uLogStd = new float[policy.LogStdSlice?.Length ?? 0];
    private int _batch;

    /// <summary>The actor outputs of the prepared batch (π_old's, when prepared before the step).</summary>
    public ReadOnlySpan<float> Outputs => _outputs.AsSpan(0, _batch * policy.OutputSize);

    /// <summary>
    /// Runs the actor on the states (every <paramref name="stride"/>-th of the <paramref name="batch"/> rows: rows 0,
    /// stride, 2·stride, …); <see cref="Multiply"/> linearises there until the actor's next forward.
    /// </summary>
    public void Prepare(ReadOnlySpan<float> observations, int batch, int stride = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        int rows = (batch + stride - 1) / stride, od = policy.ObservationSize;
        int n = rows * policy.OutputSize;
        if (_outputs.Length < n) { _outputs = new float[n]; _u = new float[n]; }
        _batch = rows;
        if (stride > 1)
        {
            if (_observations.Length < rows * od) _observations = new float[rows * od];
            for (int r = 0; r < rows; r++) observations.Slice(r * stride * od, od).CopyTo(_observations.AsSpan(r * od, od));
            observations = _observations.AsSpan(0, rows * od);
        }
        policy.ActorOutputs(observations, rows).CopyTo(_outputs);
    }

    /// <summary>The rows the last <see cref="Prepare"/> linearised at.</summary>
    public int Rows => _batch;

    /// <summary>result = F·v + damping·v (v and result in the flat parameter layout).</summary>
    public void Multiply(ReadOnlySpan<float> v, Span<float> result, double damping)
    {
        var parameters = policy.Parameters;
        int n = _batch * policy.OutputSize;
        var u = _u.AsSpan(0, n);
        u.Clear();
        Array.Clear(_uLogStd);
        var t = policy.ActorJvp(v); // J·v
        var logStd = policy.LogStdSlice;
        ReadOnlySpan<float> vLogStd = logStd is { } s ? s.Of(v) : default;
        policy.Head.FisherVectorProduct(Outputs, t, vLogStd, u, _uLogStd); // M·J·v (log-std block summed over rows)
        float inv = 1f / _batch;
        System.Numerics.Tensors.TensorPrimitives.Multiply(u, inv, u);
        parameters.ZeroGradients();
        policy.BackwardActor(u); // Jᵀ·M·J·v / B
        if (logStd is { } ls)
        {
            var g = parameters.GradientsOf(ls);
            for (int j = 0; j < g.Length; j++) g[j] += _uLogStd[j] * inv;
        }
        var grad = parameters.Gradients;
        float d = (float)damping;
        for (int i = 0; i < result.Length; i++) result[i] = grad[i] + d * v[i];
    }
}
