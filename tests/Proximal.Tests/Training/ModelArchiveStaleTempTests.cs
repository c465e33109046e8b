using Proximal.Common.Persistence;

namespace Proximal.Tests.Training;

public sealed class ModelArchiveStaleTempTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    /// <summary>A process id that no live process has: above the kernel's pid_max.</summary>
    private static int DeadPid()
    {
        string pidMax = "/proc/sys/kernel/pid_max";
        int max = File.Exists(pidMax) ? int.Parse(File.ReadAllText(pidMax).Trim()) : 4_194_304;
        return max + 1;
    }

    [Fact]
    public void SavingRemovesTemporaryFilesOfDeadProcessesOnly()
    {
        string guid = Guid.NewGuid().ToString("N");
        string stale = Path.Combine(_dir, $".model.zip.{DeadPid()}.{guid}.tmp");      // left by a kill -9 during a save
        string staleOther = Path.Combine(_dir, $".model_4096.zip.{DeadPid()}.{Guid.NewGuid():N}.tmp");
        string mine = Path.Combine(_dir, $".model.zip.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"); // a save in progress here
        string unrelated = Path.Combine(_dir, ".notes.tmp");
        foreach (var f in new[] { stale, staleOther, mine, unrelated }) File.WriteAllText(f, "partial");

        ModelArchive.Save(Path.Combine(_dir, "model.zip"), null, [new ModelArray("w", new float[] { 1, 2 })]);

        Assert.False(File.Exists(stale));
        Assert.False(File.Exists(staleOther));
        Assert.True(File.Exists(mine));
        Assert.True(File.Exists(unrelated));
        Assert.True(File.Exists(Path.Combine(_dir, "model.zip")));
    }
}
