namespace Proximal.Cli.Bench;

/// <summary>
/// Floating-point operations of one off-policy gradient step, counted from the network sizes the way the update runs
/// them. What is counted: every matrix product (2 flops per multiply-add: 2·B·in·out for one pass over a layer at batch
/// B), Adam (13 per parameter, as <see cref="MlpBench"/>) and the Polyak lerp (3 per target parameter). What is not:
/// bias adds, activations, the squashed-Gaussian sampling and log-probabilities, losses, TQC's sort — elementwise work
/// of O(B·width), under 1 % of the products at width 256. The counts are of the work the algorithm NEEDS: the actor's step
/// through the critics counts only d Q/d a (no critic weight gradients, only the action columns of the first layer's
/// input gradient), so the figure does not grow when an implementation does more than it must.
/// </summary>
public static class OffPolicyFlops
{
    private const double AdamPerParameter = 13, PolyakPerParameter = 3;

    /// <summary>One pass of products over an MLP with these layer sizes at batch B: Σ 2·B·in·out.</summary>
    public static double Forward(int[] sizes, int batch)
    {
        double f = 0;
        for (int i = 0; i + 1 < sizes.Length; i++) f += 2.0 * batch * sizes[i] * sizes[i + 1];
        return f;
    }

    /// <summary>Backward with parameter gradients (∂W = gᵀx every layer) and input gradients (g·W) for every layer but the first.</summary>
    public static double Backward(int[] sizes, int batch) => 2 * Forward(sizes, batch) - 2.0 * batch * sizes[0] * sizes[1];

    /// <summary>Backward for d output/d (the last <paramref name="columns"/> inputs) only: input gradients, no parameter gradients.</summary>
    public static double InputColumnsGradient(int[] sizes, int batch, int columns)
        => Forward(sizes, batch) - 2.0 * batch * sizes[0] * sizes[1] + 2.0 * batch * columns * sizes[1];

    public static long Parameters(int[] sizes)
    {
        long p = 0;
        for (int i = 0; i + 1 < sizes.Length; i++) p += (long)sizes[i] * sizes[i + 1] + sizes[i + 1];
        return p;
    }

    /// <summary>
    /// SAC: a′ ~ π(s′) (actor forward), K target critics forward; K critics forward and backward; ã ~ π(s) (actor forward),
    /// K critics forward and d Q/d a back; actor backward; Adam on actor and critics; Polyak on the critics.
    /// TQC is the same with K = N critics of M outputs (<paramref name="critics"/>, <paramref name="outputsPerCritic"/>).
    /// </summary>
    public static double SacStep(int observationSize, int actionSize, int[] actorHidden, int[] criticHidden, int batch,
        int critics = 2, int outputsPerCritic = 1)
    {
        int[] actor = [observationSize, .. actorHidden, 2 * actionSize];
        int[] critic = [observationSize + actionSize, .. criticHidden, outputsPerCritic];
        double products =
            Forward(actor, batch) + critics * Forward(critic, batch)                                     // soft targets
            + critics * (Forward(critic, batch) + Backward(critic, batch))                               // critic update
            + Forward(actor, batch) + critics * (Forward(critic, batch) + InputColumnsGradient(critic, batch, actionSize))
            + Backward(actor, batch);                                                                    // actor update
        return products + AdamPerParameter * (Parameters(actor) + critics * Parameters(critic))
            + PolyakPerParameter * critics * Parameters(critic);
    }

    /// <summary>
    /// TD3, averaged over <paramref name="policyDelay"/> steps: each step the target actor and both target critics forward,
    /// both critics forward and backward, Adam on the critics; every d-th step the actor forward, Q_1 forward and d Q_1/d a
    /// back, actor backward, Adam on the actor, Polyak on critics and actor.
    /// </summary>
    public static double Td3Step(int observationSize, int actionSize, int[] hidden, int batch, int policyDelay = 2)
    {
        int[] actor = [observationSize, .. hidden, actionSize];
        int[] critic = [observationSize + actionSize, .. hidden, 1];
        double everyStep = Forward(actor, batch) + 2 * Forward(critic, batch)
            + 2 * (Forward(critic, batch) + Backward(critic, batch)) + AdamPerParameter * 2 * Parameters(critic);
        double delayed = Forward(actor, batch) + Forward(critic, batch) + InputColumnsGradient(critic, batch, actionSize)
            + Backward(actor, batch) + AdamPerParameter * Parameters(actor)
            + PolyakPerParameter * (2 * Parameters(critic) + Parameters(actor));
        return everyStep + delayed / policyDelay;
    }
}
