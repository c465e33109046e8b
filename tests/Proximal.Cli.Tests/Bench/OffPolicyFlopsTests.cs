using Proximal.Cli.Bench;

namespace Proximal.Cli.Tests.Bench;

public class OffPolicyFlopsTests
{
    /// <summary>Multiply-adds of one product pass, counted by hand: layer by layer, batch × in × out.</summary>
    private static double Macs(int batch, params (int In, int Out)[] layers) => layers.Sum(l => (double)batch * l.In * l.Out);

    [Fact]
    public void Layer_passes_are_counted_as_two_flops_per_multiply_add()
    {
        int[] sizes = [2, 3, 1];
        Assert.Equal(2 * Macs(4, (2, 3), (3, 1)), OffPolicyFlops.Forward(sizes, 4));
        // Backward: weight gradients of both layers, input gradient of the second only.
        Assert.Equal(2 * (Macs(4, (2, 3), (3, 1)) + Macs(4, (3, 1))), OffPolicyFlops.Backward(sizes, 4));
        // d out/d (last input column): input gradient of the second layer, one column of the first's.
        Assert.Equal(2 * (Macs(4, (3, 1)) + Macs(4, (1, 3))), OffPolicyFlops.InputColumnsGradient(sizes, 4, 1));
        Assert.Equal(2 * 3 + 3 + 3 * 1 + 1, OffPolicyFlops.Parameters(sizes));
    }

    [Fact]
    public void Sac_step_is_the_sum_of_its_passes_adam_and_polyak()
    {
        // obs 2, action 1, hidden [3], batch 4: actor 2→3→2, critics 3→3→1 (two of them).
        const int b = 4;
        double actorF = 2 * Macs(b, (2, 3), (3, 2)), criticF = 2 * Macs(b, (3, 3), (3, 1));
        double actorB = 2 * (Macs(b, (2, 3), (3, 2)) + Macs(b, (3, 2)));
        double criticB = 2 * (Macs(b, (3, 3), (3, 1)) + Macs(b, (3, 1)));
        double criticDa = 2 * (Macs(b, (3, 1)) + Macs(b, (1, 3)));
        double actorP = 2 * 3 + 3 + 3 * 2 + 2, criticP = 3 * 3 + 3 + 3 + 1;
        double expect = actorF + 2 * criticF          // targets
            + 2 * (criticF + criticB)                  // critic update
            + actorF + 2 * (criticF + criticDa) + actorB // actor update
            + 13 * (actorP + 2 * criticP) + 3 * 2 * criticP;
        Assert.Equal(expect, OffPolicyFlops.SacStep(2, 1, [3], [3], b), 6);
    }

    [Fact]
    public void Td3_step_averages_the_delayed_actor_update()
    {
        const int b = 4;
        double actorF = 2 * Macs(b, (2, 3), (3, 1)), criticF = 2 * Macs(b, (3, 3), (3, 1));
        double actorB = 2 * (Macs(b, (2, 3), (3, 1)) + Macs(b, (3, 1)));
        double criticB = 2 * (Macs(b, (3, 3), (3, 1)) + Macs(b, (3, 1)));
        double criticDa = 2 * (Macs(b, (3, 1)) + Macs(b, (1, 3)));
        double actorP = 2 * 3 + 3 + 3 * 1 + 1, criticP = 3 * 3 + 3 + 3 + 1;
        double every = actorF + 2 * criticF + 2 * (criticF + criticB) + 13 * 2 * criticP;
        double delayed = actorF + criticF + criticDa + actorB + 13 * actorP + 3 * (2 * criticP + actorP);
        Assert.Equal(every + delayed / 2, OffPolicyFlops.Td3Step(2, 1, [3], b), 6);
    }
}
