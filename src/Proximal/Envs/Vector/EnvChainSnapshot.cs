using Proximal.Envs.Wrappers;

namespace Proximal.Envs.Vector;

/// <summary>
/// Snapshot of one env's wrapper chain: the wrappers that carry state between steps (TimeLimit's step
/// counter) followed by the innermost env's <see cref="IEnvSnapshot"/>. A chain with any other stateful
/// link reports size −1 (not capturable), so a caller never resumes from an incomplete state.
/// </summary>
internal static class EnvChainSnapshot
{
    public static int Size(IEnv env) => env switch
    {
        IEnvSnapshot s => s.SnapshotSize,
        TimeLimit t => Size(t.Inner) is var n and >= 0 ? 1 + n : -1,
        _ => -1,
    };

    public static void Save(IEnv env, Span<double> into)
    {
        switch (env)
        {
            case IEnvSnapshot s: s.SaveSnapshot(into); break;
            case TimeLimit t: into[0] = t.ElapsedSteps; Save(t.Inner, into[1..]); break;
            default: throw new NotSupportedException($"{env} cannot be captured in a snapshot.");
        }
    }

    public static void Load(IEnv env, ReadOnlySpan<double> from)
    {
        switch (env)
        {
            case IEnvSnapshot s: s.LoadSnapshot(from); break;
            case TimeLimit t: t.ElapsedSteps = checked((int)from[0]); Load(t.Inner, from[1..]); break;
            default: throw new NotSupportedException($"{env} cannot be restored from a snapshot.");
        }
    }
}
