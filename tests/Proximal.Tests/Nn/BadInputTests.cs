using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public class BadInputTests
{
    private static void ThrowsMentioning<T>(Action action, params string[] words) where T : Exception
    {
        var e = Assert.Throws<T>(action);
        foreach (var w in words) Assert.Contains(w, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void LearningRatesMustBeFiniteAndNonNegative()
    {
        var p = new Parameters(); p.Allocate(4, "w");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Adam(p, double.NaN), "NaN");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Adam(p, -1e-3), "non-negative");
        var adam = new Adam(p, 1e-3);
        ThrowsMentioning<ArgumentOutOfRangeException>(() => adam.Step(double.NaN), "learning rate", "NaN");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => adam.LearningRate = double.PositiveInfinity, "finite");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Sgd(p, -1), "Sgd", "learning rate");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Adam(p, 1e-3, beta1: 1.0), "beta1");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Adam(p, 1e-3, epsilon: 0), "epsilon");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Sgd(p, 0.1, momentum: -0.5), "momentum");
        ThrowsMentioning<ArgumentException>(() => new Adam(new Parameters(), 1e-3), "at least one parameter");
    }

    [Fact]
    public void OptimiserNoticesModelGrewAfterIt()
    {
        var p = new Parameters(); p.Allocate(4, "w");
        var adam = new Adam(p, 1e-3);
        p.Allocate(2, "late");
        ThrowsMentioning<InvalidOperationException>(() => adam.Step(), "4 parameters", "6");
        ThrowsMentioning<ArgumentException>(() => new Adam(new Parameters(), 1), "parameter");
        var p2 = new Parameters(); p2.Allocate(3, "w");
        var a2 = new Adam(p2, 1e-3);
        ThrowsMentioning<ArgumentException>(() => a2.LoadState(new float[2], new float[3], 1), "first moment", "2");
        ThrowsMentioning<ArgumentException>(() => a2.LoadState(new float[3], [0, -1, 0], 1), "second moment");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => a2.LoadState(new float[3], new float[3], -1), "step count");
    }

    [Fact]
    public void LayerSizesAndBatchesAreChecked()
    {
        var p = new Parameters();
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Linear(p, 0, 3, "zero"), "zero", "input size");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Tanh(0), "size");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new Mlp(p, [4, 0, 2], Activation.Tanh, new Rng(1)), "size 1", "[4, 0, 2]");
        ThrowsMentioning<ArgumentException>(() => new Mlp(p, [4], Activation.Tanh, new Rng(1)), "at least");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => p.Allocate(0, "empty"), "empty", "positive");

        var lin = new Linear(p, 3, 2, "l");
        ThrowsMentioning<InvalidOperationException>(() => lin.Backward(new float[2]), "Forward");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => lin.Forward(new float[3], 0), "batch");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => lin.Forward(new float[3], -2), "batch");
        ThrowsMentioning<ArgumentException>(() => lin.Forward(new float[5], 2), "'l'", "5", "6");
        lin.Forward(new float[6], 2);
        ThrowsMentioning<ArgumentException>(() => lin.Backward(new float[3]), "output gradient", "3", "4");
        ThrowsMentioning<ArgumentException>(() => lin.Jvp(new float[p.Count - 1]), "parameter tangent");
        ThrowsMentioning<ArgumentException>(() => lin.Jvp(new float[p.Count], new float[5]), "input tangent", "6");
        var tanh = new Tanh(4);
        tanh.Forward(new float[8], 2);
        ThrowsMentioning<ArgumentException>(() => tanh.Backward(new float[7]), "output gradient", "7", "8");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => lin.Threads = 0, "Threads");
    }

    [Fact]
    public void ParameterSlicesAreChecked()
    {
        var p = new Parameters();
        var a = p.Allocate(3, "a");
        ThrowsMentioning<ArgumentException>(() => p.Allocate(2, "a"), "'a'", "unique");
        ThrowsMentioning<KeyNotFoundException>(() => _ = p["b"], "'b'", "a");
        var other = new Parameters();
        ThrowsMentioning<ArgumentException>(() => other.ValuesOf(a), "does not belong");
        ThrowsMentioning<ArgumentException>(() => a.Of(new float[2].AsSpan()), "'a'", "2");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => GradientClipping.ClipGlobalNorm(new float[3], double.NaN), "max norm");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => new LinearSchedule(1, 0, 0), "end fraction");
        ThrowsMentioning<ArgumentOutOfRangeException>(() => Orthogonal.Fill(new float[6], 2, 3, double.NaN, new Rng(1)), "gain");
        ThrowsMentioning<ArgumentException>(() => Orthogonal.Fill(new float[5], 2, 3, 1, new Rng(1)), "2×3", "5");
    }
}
