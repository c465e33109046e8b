using Proximal.Common.Config;
using Proximal.Envs.Vector;

namespace Proximal.Algorithms;

/// <summary>
/// What every algorithm's options share, in two concerns: the environments a run steps (copies, threading,
/// normalisation) and the run itself (seed, length, learning rate, threads). Families add their own level
/// (<c>OnPolicyOptions</c>, <c>OffPolicyOptions</c>) and each algorithm the last one (<c>PpoOptions</c>, …).
/// All levels bind from one flat YAML mapping with SB3's snake_case names, so configs port across.
/// </summary>
public abstract class AlgorithmOptions
{
    // ---- environments

    /// <summary>N, the number of parallel environment copies.</summary>
    [Range(1, 4096)] public int NEnvs { get; set; } = 1;
    /// <summary>How the copies are stepped: in the calling thread, or spread over worker threads.</summary>
    public VecEnvKind VecEnv { get; set; } = VecEnvKind.Sync;
    /// <summary>Worker threads of the threaded VecEnv (0: one per core).</summary>
    [Range(0, 256)] public int EnvThreads { get; set; }
    /// <summary>Running mean/std observation normalisation (clipped to ±10).</summary>
    public bool NormalizeObservation { get; set; }
    /// <summary>Scale rewards by the running std of the discounted return (clipped to ±10).</summary>
    public bool NormalizeReward { get; set; }
    /// <summary>
    /// The task's keyword options by name (e.g. Ant-v4's <c>use_contact_forces: true</c>, Pendulum-v1's <c>g</c>), as
    /// <c>proximal envs</c> lists them; a task rejects names it does not know. YAML mapping or <c>--set env_kwargs.name=value</c>.
    /// </summary>
    public Dictionary<string, double> EnvKwargs { get; set; } = new(StringComparer.Ordinal);

    // ---- the run

    [Range(0, long.MaxValue)] public long Seed { get; set; } = 1;
    /// <summary>Environment steps of a run (summed over the copies): what <c>train</c> runs when not told otherwise.</summary>
    [Range(1, long.MaxValue)] public long TotalSteps { get; set; } = 1_000_000;
    [Range(0, 1, MinExclusive = true)] public double LearningRate { get; set; } = 3e-4;
    /// <summary>Anneal the learning rate linearly to 0 over each training call (see <see cref="ScheduleMode"/>).</summary>
    public bool AnnealLr { get; set; }
    /// <summary>Threads of large matrix products in the update (results do not depend on it).</summary>
    [Range(1, 256)] public int TrainThreads { get; set; } = 1;

    /// <summary>Checks that depend on several options together; throws <see cref="ConfigException"/> naming the keys.</summary>
    public virtual void Validate() => ConfigBinder.Validate(this);

    /// <summary>A deep copy (nested option objects and arrays are copied too).</summary>
    public AlgorithmOptions Clone()
    {
        var c = (AlgorithmOptions)MemberwiseClone();
        c.CopyNested();
        return c;
    }

    /// <summary>Replaces nested reference-typed options of a fresh <see cref="object.MemberwiseClone"/> by copies.</summary>
    protected virtual void CopyNested() => EnvKwargs = new Dictionary<string, double>(EnvKwargs, StringComparer.Ordinal);
}
