using System.Runtime.InteropServices;
using Proximal.Numerics;

namespace Proximal.Nn;

/// <summary>
/// One LSTM layer (Hochreiter and Schmidhuber, 1997, with the forget gate of Gers et al., 2000) run over B
/// sequences of T steps, time-major: input [T × B × In] (row t·B + b), output h [T × B × H].
/// <code>
///   z = x_t·W_ihᵀ + h_{t−1}·W_hhᵀ + b          gates in the order  i, f, o, g  (each H wide)
///   i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_g)
///   c_t = f ⊙ c_{t−1} + i ⊙ g;          h_t = o ⊙ tanh(c_t)
/// </code>
/// The gate order differs from PyTorch's (i, f, g, o) on purpose: the three sigmoid gates are contiguous, so each
/// row takes one vectorised sigmoid call and one tanh call.
/// <para>
/// <b>Episode starts.</b> A flag per (t, b) says that sequence b starts a new episode at step t: its previous state
/// (h_{t−1}, c_{t−1}) is replaced by ZEROS before step t — the same semantics as SB3-contrib's RecurrentPPO and
/// CleanRL's ppo_atari_lstm. The given initial state (h₀, c₀) therefore only enters a sequence whose first step
/// is not an episode start, and no gradient flows back across a reset.
/// </para>
/// <para>
/// <b>Cost.</b> Every pre-activation is summed as b + x_t·W_ihᵀ + h_{t−1}·W_hhᵀ, one FMA per input then per hidden
/// unit, on a copy of [W_ih | W_hh]ᵀ that is rebuilt only when the weights changed. On AVX-512 each step is one fused
/// kernel (<see cref="LstmStep"/>: the sums stay in registers and the cell runs on them before they leave); on AVX2 the
/// input projection of all T·B rows is summed first, then each step adds its recurrent product
/// (<see cref="SmallGemm"/>) and runs the cell pass (<see cref="LstmCell"/>) — same order, same bits, whichever runs.
/// Backpropagation through time runs the fused cell backward and one [B × 4H]·[4H × H] product per step; the weight
/// gradients are products over all T·B rows at the end. Workspaces grow to the largest T·B seen and are reused: the
/// steady state allocates nothing.
/// </para>
/// <para>
/// <b>Initialisation</b> (<see cref="InitializeOrthogonal"/>): each gate's block of W_ih and of W_hh is orthogonal
/// (gain 1), the bias zero except the forget gate's, which is 1. SB3-contrib and CleanRL leave it at 0, so
/// f ≈ σ(0) = ½ at the start and a memory decays by half per step; Jozefowicz, Zaremba and Sutskever (2015) found
/// that a forget bias of 1 closes most of the gap between the LSTM and other gated cells, because remembering is
/// the default until learned otherwise. Our memory task asks the policy to hold a cue over many blank steps, so we
/// take 1.
/// </para>
/// </summary>
public sealed unsafe class Lstm
{
    /// <summary>Initial bias of the forget gate (see the class remarks for why 1 and not 0).</summary>
    public const double ForgetGateBiasInit = 1.0;

    private readonly Parameters _parameters;
    private readonly string _label;
    // forward caches, time-major
    private float[] _x = [], _gates = [], _hPrev = [], _cPrev = [], _c = [], _tanhC = [], _h = [];
    private float[] _finalH = [], _finalC = [];
    private float[] _wT = [], _wSeen = []; // [W_ih | W_hh]ᵀ [(In + H) × 4H] and the W_ih, W_hh it was built from (see TransposedWeights)
    private bool[] _starts = [];
    private bool _hasStarts;
    // backward workspaces
    private float[] _dGates = [], _dx = [], _dh = [], _dc = [], _dhPrev = [], _dcPrev = [], _dWT = [];
    private bool _hasBackward;

    public Lstm(Parameters parameters, int inputSize, int hiddenSize, string name = "lstm")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Guard.Size(inputSize, $"Lstm '{name}' input size", nameof(inputSize));
        Guard.Size(hiddenSize, $"Lstm '{name}' hidden size", nameof(hiddenSize));
        _parameters = parameters;
        _label = $"Lstm '{name}'";
        Name = name;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        WeightIh = parameters.Allocate(checked(4 * hiddenSize * inputSize), name + ".weight_ih");
        WeightHh = parameters.Allocate(checked(4 * hiddenSize * hiddenSize), name + ".weight_hh");
        Bias = parameters.Allocate(4 * hiddenSize, name + ".bias");
    }

    public string Name { get; }
    public int InputSize { get; }
    public int HiddenSize { get; }
    /// <summary>Steps of the last forward pass (0 before the first).</summary>
    public int Steps { get; private set; }
    /// <summary>Sequences of the last forward pass (0 before the first).</summary>
    public int Batch { get; private set; }
    public Parameters Parameters => _parameters;

    /// <summary>W_ih, row-major [4H × In], gate blocks i, f, o, g.</summary>
    public ParameterSlice WeightIh { get; }
    /// <summary>W_hh, row-major [4H × H], gate blocks i, f, o, g.</summary>
    public ParameterSlice WeightHh { get; }
    /// <summary>b [4H] (one bias: PyTorch's b_ih + b_hh).</summary>
    public ParameterSlice Bias { get; }

    /// <summary>Threads handed to <see cref="Gemm.Multiply"/> in the backward pass (results do not depend on it).</summary>
    public int Threads
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"{_label}: Threads must be at least 1.");
    } = 1;

    /// <summary>
    /// The per-step kernel: fused (<see cref="LstmStep"/>) where AVX-512 is accelerated — 32 vector registers hold a
    /// 4-row × 16-unit tile's 16 gate accumulators through the cell — and, on AVX2's 16 registers, the recurrent product
    /// (<see cref="SmallGemm"/>) then the cell pass (<see cref="LstmCell.Forward"/>), which measured as fast there
    /// without the fused tile's register spills. Both sum every pre-activation in the same order: same bits (tested).
    /// </summary>
    internal bool FusedStep { get; set; } = SmallGemm.Wide;
    /// <summary>Vector512 tiles in the step and backward kernels (the machine's tier; tests set both).</summary>
    internal bool Wide { get; set; } = SmallGemm.Wide;

    private Span<float> Wih => _parameters.Values.AsSpan(WeightIh.Offset, WeightIh.Length);
    private Span<float> Whh => _parameters.Values.AsSpan(WeightHh.Offset, WeightHh.Length);
    private Span<float> B => _parameters.Values.AsSpan(Bias.Offset, Bias.Length);

    /// <summary>Orthogonal gate blocks (gain 1), zero bias except the forget gate's <see cref="ForgetGateBiasInit"/>.</summary>
    public void InitializeOrthogonal(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int h = HiddenSize;
        for (int g = 0; g < 4; g++)
        {
            Orthogonal.Fill(Wih.Slice(g * h * InputSize, h * InputSize), h, InputSize, 1.0, rng);
            Orthogonal.Fill(Whh.Slice(g * h * h, h * h), h, h, 1.0, rng);
        }
        var b = B;
        b.Clear();
        b.Slice(h, h).Fill((float)ForgetGateBiasInit);
    }

    /// <summary>h of every step of the last forward pass [Steps × Batch × H].</summary>
    public ReadOnlySpan<float> Output => _h.AsSpan(0, Steps * Batch * HiddenSize);
    /// <summary>h_T after the last step of the last forward pass [Batch × H].</summary>
    public ReadOnlySpan<float> FinalHidden => _finalH.AsSpan(0, Batch * HiddenSize);
    /// <summary>c_T after the last step of the last forward pass [Batch × H].</summary>
    public ReadOnlySpan<float> FinalCell => _finalC.AsSpan(0, Batch * HiddenSize);
    /// <summary>∂L/∂h₀ of the last backward pass [Batch × H] (zero rows for sequences that start with an episode start).</summary>
    public ReadOnlySpan<float> InitialHiddenGradient => _hasBackward ? _dh.AsSpan(0, Batch * HiddenSize) : default;
    /// <summary>∂L/∂c₀ of the last backward pass [Batch × H].</summary>
    public ReadOnlySpan<float> InitialCellGradient => _hasBackward ? _dc.AsSpan(0, Batch * HiddenSize) : default;

    /// <summary>
    /// Runs <paramref name="steps"/> steps over <paramref name="batch"/> sequences. <paramref name="input"/> is
    /// [steps × batch × In] time-major; <paramref name="episodeStarts"/> [steps × batch] (empty: none);
    /// <paramref name="initialHidden"/> and <paramref name="initialCell"/> [batch × H] (empty: zeros).
    /// Returns h of every step [steps × batch × H], valid until the next forward pass.
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<bool> episodeStarts = default,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default)
    {
        Guard.Batch(batch, _label);
        Guard.Batch(steps, _label);
        int h = HiddenSize, g4 = 4 * h, ni = InputSize;
        long rows = (long)steps * batch;
        Guard.Elements((int)Math.Min(rows, int.MaxValue), g4, _label);
        int r = (int)rows;
        Guard.Length(input.Length, rows * ni, _label, Guard.Operand.Input, r, ni, nameof(input));
        if (!episodeStarts.IsEmpty && episodeStarts.Length != r)
            throw new ArgumentException($"{_label}: episodeStarts has {episodeStarts.Length} flags, expected steps {steps} × batch {batch} = {r}.", nameof(episodeStarts));
        if (!initialHidden.IsEmpty && initialHidden.Length != batch * h)
            throw new ArgumentException($"{_label}: initialHidden has {initialHidden.Length} floats, expected batch {batch} × {h}.", nameof(initialHidden));
        if (!initialCell.IsEmpty && initialCell.Length != batch * h)
            throw new ArgumentException($"{_label}: initialCell has {initialCell.Length} floats, expected batch {batch} × {h}.", nameof(initialCell));

        Steps = steps;
        Batch = batch;
        _hasBackward = false;
        var x = Guard.Ensure(ref _x, (long)r * ni).AsSpan(0, r * ni);
        input.CopyTo(x);
        _hasStarts = !episodeStarts.IsEmpty;
        if (_hasStarts)
        {
            if (_starts.Length < r) _starts = new bool[r];
            episodeStarts.CopyTo(_starts);
        }
        var gates = Guard.Ensure(ref _gates, (long)r * g4).AsSpan(0, r * g4); // activations i, f, o, g of every step
        var hPrev = Guard.Ensure(ref _hPrev, (long)r * h).AsSpan(0, r * h);
        var cPrev = Guard.Ensure(ref _cPrev, (long)r * h).AsSpan(0, r * h);
        var c = Guard.Ensure(ref _c, (long)r * h).AsSpan(0, r * h);
        var tanhC = Guard.Ensure(ref _tanhC, (long)r * h).AsSpan(0, r * h);
        var hs = Guard.Ensure(ref _h, (long)r * h).AsSpan(0, r * h);
        var wT = TransposedWeights();
        bool wide = Wide, fused = FusedStep;
        if (!fused)
        {
            // The input projection of every step at once, summed as the fused kernel sums it: b, then one FMA per input.
            Kernels.BroadcastRows(B, gates, r);
            SmallGemm.Run(r, g4, ni, x, ni, transposeA: false, wT, g4, gates, g4, accumulate: true, wide);
        }
        var whhT = wT.Slice(ni * g4);

        int bh = batch * h;
        fixed (float* px = x, pw = wT, pb = B, pg = gates, php = hPrev, pcp = cPrev, pc = c, ptc = tanhC, ph = hs)
        {
            for (int t = 0; t < steps; t++)
            {
                var hp = hPrev.Slice(t * bh, bh);
                var cp = cPrev.Slice(t * bh, bh);
                if (t == 0)
                {
                    if (initialHidden.IsEmpty) hp.Clear(); else initialHidden.CopyTo(hp);
                    if (initialCell.IsEmpty) cp.Clear(); else initialCell.CopyTo(cp);
                }
                else
                {
                    hs.Slice((t - 1) * bh, bh).CopyTo(hp);
                    c.Slice((t - 1) * bh, bh).CopyTo(cp);
                }
                if (_hasStarts)
                    for (int b = 0; b < batch; b++)
                        if (_starts[t * batch + b]) { hp.Slice(b * h, h).Clear(); cp.Slice(b * h, h).Clear(); }

                long o = (long)t * bh;
                if (fused) // z_t = b + x_t·W_ihᵀ + h_{t−1}·W_hhᵀ and the cell, in one pass over this step's B rows
                    LstmStep.Forward(px + (long)t * batch * ni, ni, php + o, pcp + o, pw, pb, pg + (long)t * batch * g4,
                        pc + o, ptc + o, ph + o, batch, h, wide);
                else // the same sums continued from the stored input projection, then the same cell
                {
                    var gt = gates.Slice(t * batch * g4, batch * g4);
                    SmallGemm.Run(batch, g4, h, hp, h, transposeA: false, whhT, g4, gt, g4, accumulate: true, wide);
                    LstmCell.Forward(gt, cp, c.Slice(t * bh, bh), tanhC.Slice(t * bh, bh), hs.Slice(t * bh, bh), batch, h);
                }
            }
        }
        Guard.Ensure(ref _finalH, bh); Guard.Ensure(ref _finalC, bh);
        hs.Slice((steps - 1) * bh, bh).CopyTo(_finalH);
        c.Slice((steps - 1) * bh, bh).CopyTo(_finalC);
        return hs;
    }

    /// <summary>
    /// [W_ih | W_hh]ᵀ [(In + H) × 4H], which the fused step reads row by row. Rebuilt only when W_ih's or W_hh's bits
    /// changed since it was last built: the byte compare (16 KiB at In 2, H 32) costs a fraction of the transpose, and
    /// during a rollout the weights do not change, so each env step pays only the compare; a training forward pass
    /// after an optimiser step pays one transpose for all of its T steps.
    /// </summary>
    private ReadOnlySpan<float> TransposedWeights()
    {
        ReadOnlySpan<float> wih = Wih, whh = Whh;
        int h = HiddenSize, g4 = 4 * h, ni = InputSize, nih = wih.Length;
        if (_wT.Length != nih + whh.Length)
        {
            _wT = new float[nih + whh.Length];
            _wSeen = new float[nih + whh.Length];
        }
        else if (MemoryMarshal.AsBytes(wih).SequenceEqual(MemoryMarshal.AsBytes(_wSeen.AsSpan(0, nih)))
                 && MemoryMarshal.AsBytes(whh).SequenceEqual(MemoryMarshal.AsBytes(_wSeen.AsSpan(nih)))) return _wT;
        wih.CopyTo(_wSeen);
        whh.CopyTo(_wSeen.AsSpan(nih));
        Transpose(wih, g4, ni, _wT);
        Transpose(whh, g4, h, _wT.AsSpan((int)((long)ni * g4)));
        return _wT;

        // After every optimiser step the training forward pays this once per LSTM: pointers, no bounds checks.
        static void Transpose(ReadOnlySpan<float> w, int rows, int cols, Span<float> t)
        {
            fixed (float* pw = w, pt = t)
                for (int r0 = 0; r0 < rows; r0 += 8) // 8 × 8 blocks: eight source rows read, eight destination rows written
                {
                    int r1 = Math.Min(r0 + 8, rows);
                    for (int k0 = 0; k0 < cols; k0 += 8)
                    {
                        int k1 = Math.Min(k0 + 8, cols);
                        for (int r = r0; r < r1; r++)
                        {
                            float* src = pw + (long)r * cols;
                            for (int k = k0; k < k1; k++) pt[(long)k * rows + r] = src[k];
                        }
                    }
                }
        }
    }

    /// <summary>
    /// One step for <paramref name="state"/>.Batch sequences: rows flagged in <paramref name="episodeStart"/> (empty: none)
    /// start from zeros; <paramref name="state"/> is advanced in place. Returns the new h [Batch × H].
    /// </summary>
    public ReadOnlySpan<float> Step(ReadOnlySpan<float> input, LstmState state, ReadOnlySpan<bool> episodeStart = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.HiddenSize != HiddenSize)
            throw new ArgumentException($"{_label}: the state has hidden size {state.HiddenSize}, the layer {HiddenSize}.", nameof(state));
        var y = Forward(input, 1, state.Batch, episodeStart, state.Hidden, state.Cell);
        FinalHidden.CopyTo(state.Hidden);
        FinalCell.CopyTo(state.Cell);
        return y;
    }

    /// <summary>
    /// Backpropagation through time for the last forward pass, given ∂L/∂h of every step [Steps × Batch × H]:
    /// ADDS ∂L/∂W_ih, ∂L/∂W_hh, ∂L/∂b into the gradients, sets <see cref="InitialHiddenGradient"/> and
    /// <see cref="InitialCellGradient"/>, and returns ∂L/∂input [Steps × Batch × In] (empty when not asked for).
    /// </summary>
    public ReadOnlySpan<float> Backward(ReadOnlySpan<float> outputGradient, bool computeInputGradient = true)
    {
        Guard.HasForward(Batch, _label, "Backward");
        int steps = Steps, batch = Batch, h = HiddenSize, g4 = 4 * h, ni = InputSize;
        int r = steps * batch, bh = batch * h;
        Guard.Length(outputGradient.Length, (long)r * h, _label, Guard.Operand.OutputGradient, r, h, nameof(outputGradient));
        var dGates = Guard.Ensure(ref _dGates, (long)r * g4).AsSpan(0, r * g4);
        var dh = Guard.Ensure(ref _dh, bh).AsSpan(0, bh);
        var dc = Guard.Ensure(ref _dc, bh).AsSpan(0, bh);
        var dhPrev = Guard.Ensure(ref _dhPrev, bh).AsSpan(0, bh);
        var dcPrev = Guard.Ensure(ref _dcPrev, bh).AsSpan(0, bh);
        dh.Clear(); dc.Clear(); // gradients arriving from after the last step: none
        ReadOnlySpan<float> whh = Whh;
        ReadOnlySpan<float> gatesAll = _gates.AsSpan(0, r * g4), tanhAll = _tanhC.AsSpan(0, r * h), cPrevAll = _cPrev.AsSpan(0, r * h);

        for (int t = steps - 1; t >= 0; t--)
        {
            var dz = dGates.Slice(t * batch * g4, batch * g4);
            LstmCell.Backward(gatesAll.Slice(t * batch * g4, batch * g4), tanhAll.Slice(t * bh, bh), cPrevAll.Slice(t * bh, bh),
                outputGradient.Slice(t * bh, bh), dh, dc, dz, dcPrev, batch, h);
            // ∂L/∂h_{t−1} = ∂L/∂z_t · W_hh   [B × H], W_hh read in place
            SmallGemm.Run(batch, h, g4, dz, g4, transposeA: false, whh, h, dhPrev, h, accumulate: false, Wide);
            if (_hasStarts)
                for (int b = 0; b < batch; b++)
                    if (_starts[t * batch + b]) { dhPrev.Slice(b * h, h).Clear(); dcPrev.Slice(b * h, h).Clear(); } // the reset cut the path
            dhPrev.CopyTo(dh);
            dcPrev.CopyTo(dc);
        }
        _hasBackward = true; // dh, dc now hold ∂L/∂h₀, ∂L/∂c₀

        var grads = _parameters.Gradients;
        // ∂L/∂W_ih += dZᵀ·X: summed as its transpose Xᵀ·dZ [In × 4H] (SmallGemm: 4H-wide rows, 8 accumulators; Gemm's
        // blocking costs more than this whole product at In 2), then added in.
        var dWihT = Guard.Ensure(ref _dWT, (long)ni * g4).AsSpan(0, ni * g4);
        SmallGemm.Run(ni, g4, r, _x.AsSpan(0, r * ni), ni, transposeA: true, dGates, g4, dWihT, g4, accumulate: false, Wide);
        var gih = grads.AsSpan(WeightIh.Offset, WeightIh.Length);
        for (int j = 0; j < g4; j++)
            for (int i = 0; i < ni; i++) gih[j * ni + i] += dWihT[i * g4 + j];
        // ∂L/∂W_hh += dZᵀ·H_prev,  ∂L/∂b += Σ_rows dZ
        Gemm.Multiply(Transpose.Yes, Transpose.No, g4, h, r, 1f, dGates, g4, _hPrev.AsSpan(0, r * h), h, 1f,
            grads.AsSpan(WeightHh.Offset, WeightHh.Length), h, Threads);
        Kernels.AddColumnSums(dGates, r, grads.AsSpan(Bias.Offset, Bias.Length));
        if (!computeInputGradient) return default;
        var dx = Guard.Ensure(ref _dx, (long)r * ni).AsSpan(0, r * ni);
        Gemm.Multiply(Transpose.No, Transpose.No, r, ni, g4, 1f, dGates, g4, Wih, ni, 0f, dx, ni, Threads);
        return dx;
    }

    public override string ToString() => $"Lstm '{Name}' {InputSize}→{HiddenSize}";
}
