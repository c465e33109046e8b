using Proximal.Nn;
using Proximal.Numerics;

namespace Proximal.Tests.Nn;

public class AllocationTests
{
    [Fact]
    public void SteadyStateTrainingStepAllocatesNothing()
    {
        var rng = new Rng(20);
        var p = new Parameters();
        var actor = new Mlp(p, [17, 64, 64, 6], Activation.Tanh, rng, outputGain: 0.01, name: "actor");
        var critic = new Mlp(p, [17, 64, 64, 1], Activation.Relu, rng, name: "critic");
        var adam = new Adam(p, 3e-4);
        var sgd = new Sgd(p, 1e-3, 0.9);
        var schedule = new LinearSchedule(3e-4, 0);
        const int batch = 64;
        var x = Reference.RandomFloats(rng, batch * 17);
        var ga = Reference.RandomFloats(rng, batch * 6);
        var gc = Reference.RandomFloats(rng, batch);
        var tangent = Reference.RandomFloats(rng, p.Count);

        void Step(int i)
        {
            p.ZeroGradients();
            actor.Forward(x, batch);
            critic.Forward(x, batch);
            actor.Backward(ga, computeInputGradient: false);
            critic.Backward(gc, computeInputGradient: true);
            actor.Jvp(tangent);
            p.ClipGradientNorm(0.5);
            adam.Step(schedule.ValueAt(i / 100.0));
            sgd.Step();
            actor.Forward(x.AsSpan(0, batch / 2 * 17), batch / 2); // smaller batches reuse the workspaces
        }

        for (int i = 0; i < 3; i++) Step(i); // warm-up: workspaces sized, JIT tiers settled enough
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 3; i < 20; i++) Step(i);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void SteadyStateStepsOnTheSparseInputPathAllocateNothing()
    {
        var rng = new Rng(21);
        var p = new Parameters();
        var net = new Mlp(p, [210, 64, 7], Activation.Relu, rng, name: "board");
        var frozen = new FrozenMlp(net);
        const int batch = 64;
        var x = new float[batch * 210];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() < 0.09 ? 1f : 0f; // board planes
        var g = Reference.RandomFloats(rng, batch * 7);

        void Step()
        {
            p.ZeroGradients();
            net.Forward(x, batch);
            Assert.True(net.Linears[0].LastForwardWasSparse);
            net.Backward(g, computeInputGradient: false);
            net.Forward(x.AsSpan(0, batch / 2 * 210), batch / 2);
            frozen.Forward(x.AsSpan(0, 3 * 210), 3);
        }

        for (int i = 0; i < 3; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
