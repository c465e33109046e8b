namespace Proximal.Envs.Vector;

/// <summary>Steps its envs one after another on the calling thread; the cheapest choice for fast envs such as CartPole.</summary>
public sealed class SyncVecEnv : EnvArrayVecEnv
{
    public SyncVecEnv(IReadOnlyList<IEnv> envs) : base(envs) { }

    /// <summary>Creates <paramref name="numEnvs"/> envs with <paramref name="factory"/>(i).</summary>
    public SyncVecEnv(Func<int, IEnv> factory, int numEnvs) : base(VecEnvFactory.Create(factory, numEnvs)) { }

    private protected override void RunAll(Command command) => RunRange(command, 0, NumEnvs);

    public override void Dispose() => DisposeEnvs();

    public override string ToString() => $"SyncVecEnv({NumEnvs} × {Envs[0]})";
}

internal static class VecEnvFactory
{
    public static IEnv[] Create(Func<int, IEnv> factory, int numEnvs)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (numEnvs <= 0) throw new ArgumentOutOfRangeException(nameof(numEnvs), numEnvs, "A VecEnv needs numEnvs > 0.");
        var envs = new IEnv[numEnvs];
        try
        {
            for (int i = 0; i < numEnvs; i++)
                envs[i] = factory(i) ?? throw new ArgumentException($"The env factory returned null for env {i}.", nameof(factory));
        }
        catch
        {
            foreach (var e in envs) e?.Dispose();
            throw;
        }
        return envs;
    }
}
