using Proximal.Algorithms.OnPolicy;
using Proximal.Algorithms.Policies;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Algorithms;

public class ActorCriticTests
{
    [Theory]
    [InlineData(false, ActivationKind.Tanh)]
    [InlineData(true, ActivationKind.Tanh)]
    [InlineData(true, ActivationKind.Relu)]
    public void BackwardMatchesFiniteDifferencesForSeparateAndSharedNetworks(bool shared, ActivationKind activation)
    {
        var policy = new ActorCritic(new Box(-10, 10, 5), new Box(-1, 1, 3),
            new PolicyOptions { HiddenSizes = [8, 8], SharedTrunk = shared, Activation = activation }, new Rng(11));
        // Larger weights than the 0.01 policy-head init so every layer's gradient is well above float noise.
        var rng = new Rng(5);
        var p = policy.Parameters.Values;
        for (int i = 0; i < p.Length; i++) p[i] = (float)(rng.NextGaussian() * 0.5);
        const int b = 4;
        var obs = new float[b * 5];
        for (int i = 0; i < obs.Length; i++) obs[i] = (float)rng.NextGaussian();
        var w = new float[b * 3];
        var u = new float[b];
        for (int i = 0; i < w.Length; i++) w[i] = (float)rng.NextGaussian();
        for (int i = 0; i < u.Length; i++) u[i] = (float)rng.NextGaussian();

        double Loss()
        {
            var o = policy.Forward(obs, b, out var v);
            double s = 0;
            for (int i = 0; i < o.Length; i++) s += (double)w[i] * o[i];
            for (int i = 0; i < v.Length; i++) s += (double)u[i] * v[i];
            return s;
        }

        policy.Parameters.ZeroGradients();
        Loss();
        policy.Backward(w, u);
        var grad = (float[])policy.Parameters.Gradients.Clone();
        var logStd = policy.Parameters["log_std"];
        int checkedCount = 0, kinks = 0;
        double l0 = Loss();
        for (int i = 0; i < p.Length; i++)
        {
            if (i >= logStd.Offset && i < logStd.Offset + logStd.Length) continue; // the log-std enters only through the head
            float keep = p[i];
            const float h = 1e-2f;
            p[i] = keep + h; double up = Loss();
            p[i] = keep - h; double down = Loss();
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            // A ReLU kink inside [θ−h, θ+h] makes the one-sided slopes disagree: no derivative to compare there.
            if (Math.Abs((up - l0) / h - (l0 - down) / h) > 0.05 * (Math.Abs(fd) + 0.1)) { kinks++; continue; }
            Assert.True(Math.Abs(fd - grad[i]) <= 2e-3 + 2e-2 * Math.Abs(fd),
                $"parameter {i}: analytic {grad[i]} vs finite difference {fd} (shared={shared}, {activation})");
            checkedCount++;
        }
        Assert.True(checkedCount > 100 && kinks < checkedCount / 10, $"{checkedCount} checked, {kinks} skipped at kinks");
    }

    [Fact]
    public void InitialisationFollowsThePpoGains()
    {
        var policy = new ActorCritic(new Box(-1, 1, 4), new Discrete(2), new PolicyOptions(), new Rng(1));
        // Policy head gain 0.01 and value head gain 1: orthogonal rows have norm equal to the gain.
        var head = policy.Parameters["actor.2.weight"];
        var value = policy.Parameters["critic.2.weight"];
        double Norm(ReadOnlySpan<float> row) { double s = 0; foreach (float x in row) s += x * x; return Math.Sqrt(s); }
        var hv = policy.Parameters.ValuesOf(head);
        Assert.Equal(0.01, Norm(hv[..64]), 4);
        Assert.Equal(1.0, Norm(policy.Parameters.ValuesOf(value)), 4);
        Assert.All(policy.Parameters.ValuesOf(policy.Parameters["actor.0.bias"]).ToArray(), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void GaussianPolicyStartsWithLogStdInitAndUnsupportedSpacesAreNamed()
    {
        var policy = new ActorCritic(new Box(-1, 1, 3), new Box(-2, 2, 2), new PolicyOptions { LogStdInit = -0.5 }, new Rng(1));
        Assert.Equal(new[] { -0.5f, -0.5f }, policy.LogStd.ToArray());
        var ex = Assert.Throws<NotSupportedException>(() => new ActorCritic(new Discrete(3), new Discrete(2), new PolicyOptions(), new Rng(1)));
        Assert.Contains("Box observation space", ex.Message);
    }
}
