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
}
