using Proximal.Common.Config;
using Proximal.Nn;

namespace Proximal.Algorithms.OnPolicy;

/// <summary>
/// A2C's own hyperparameters over the on-policy ones. Defaults are Stable-Baselines3's A2C defaults
/// (stable_baselines3/a2c/a2c.py): n_steps 5, γ 0.99, λ 1.0 (plain n-step returns), ent_coef 0.0, vf_coef 0.5,
/// max_grad_norm 0.5, learning rate 7e-4, RMSprop (α 0.99, ε 1e-5, PyTorch form), no advantage normalisation.
/// OpenAI Baselines' a2c differs in ent_coef (0.01) and its RMSprop (TensorFlow form: ε inside the square root,
/// v starting at 1); set <c>ent_coef: 0.01</c> and <c>rms_prop_style: tensorflow</c> to follow it.
/// </summary>
public sealed class A2cOptions : OnPolicyOptions
{
    public A2cOptions()
    {
        NSteps = 5;
        GaeLambda = 1.0;
        LearningRate = 7e-4;
        NormalizeAdvantage = false;
    }

    /// <summary>c2, the entropy bonus's weight (SB3: 0.0; Baselines: 0.01).</summary>
    [NonNegative] public double EntCoef { get; set; }
    /// <summary>c1, the weight of the value loss mean((V − R)²).</summary>
    [NonNegative] public double VfCoef { get; set; } = 0.5;
    /// <summary>RMSprop (the A3C paper's and both reference implementations' choice) or, when false, Adam (adam_epsilon).</summary>
    public bool UseRmsProp { get; set; } = true;
    /// <summary>α, RMSprop's decay of the squared-gradient average.</summary>
    [Range(0, 1, MaxExclusive = true)] public double RmsPropAlpha { get; set; } = 0.99;
    [Range(0, 1, MinExclusive = true)] public double RmsPropEps { get; set; } = 1e-5;
    /// <summary>Where ε sits and where v starts: torch (SB3's default) or tensorflow (Baselines, SB3's RMSpropTFLike).</summary>
    public RmspropStyle RmsPropStyle { get; set; } = RmspropStyle.Torch;

    public new A2cOptions Clone() => (A2cOptions)base.Clone();
}
