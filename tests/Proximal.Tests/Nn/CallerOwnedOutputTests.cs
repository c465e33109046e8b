using Proximal.Algorithms.Policies;
using Proximal.Nn;
using Proximal.Numerics;
using Proximal.Spaces;

namespace Proximal.Tests.Nn;

/// <summary>Forward passes into caller-owned destinations stay valid while the same network is evaluated again.</summary>
public class CallerOwnedOutputTests
{
    [Fact]
    public void TwoEvaluationsOfOneMlpStayAliveAtOnce()
    {
        var p = new Parameters();
        var mlp = new Mlp(p, [3, 8, 2], Activation.Tanh, new Rng(1));
        float[] x1 = [0.1f, -0.4f, 0.9f], x2 = [-1f, 0.3f, 0.2f];
        var expected1 = mlp.Forward(x1, 1).ToArray();
        var expected2 = mlp.Forward(x2, 1).ToArray();

        var y1 = new float[2]; var y2 = new float[2];
        mlp.Forward(x1, 1, y1);
        var workspace = mlp.Forward(x1, 1); // the workspace span of the same call ...
        mlp.Forward(x2, 1, y2);
        Assert.Equal(expected2, workspace.ToArray()); // ... was overwritten by the next pass
        Assert.Equal(expected1, y1);                  // the caller-owned copy was not
        Assert.Equal(expected2, y2);
        Assert.Throws<ArgumentException>(() => mlp.Forward(x1, 1, new float[3]));
    }

    [Fact]
    public void ActorCriticFillsCallerOwnedOutputsAndValues()
    {
        var ac = new ActorCritic(new Box(-1, 1, 3), new Discrete(2), new PolicyOptions(), new Rng(2));
        float[] obs = [0.1f, 0.2f, 0.3f, -0.3f, -0.2f, -0.1f];
        var o = new float[4]; var v = new float[2]; var v2 = new float[2]; var a = new float[4];
        ac.Forward(obs, 2, o, v);
        var expectedO = o.ToArray(); var expectedV = v.ToArray();
        ac.Values(obs.AsSpan(3), 1, v2.AsSpan(0, 1));
        ac.ActorOutputs(obs, 2, a);
        Assert.Equal(expectedO, o);
        Assert.Equal(expectedV, v);
        Assert.Equal(expectedV[1], v2[0]);
        Assert.Equal(expectedO, a);
    }
}
