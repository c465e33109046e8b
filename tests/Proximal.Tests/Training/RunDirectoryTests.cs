using Proximal.Training.Runs;

namespace Proximal.Tests.Training;

public sealed class RunDirectoryTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    [Fact]
    public void CreatesConventionalNameAndWellKnownPaths()
    {
        var run = RunDirectory.Create("ALE/Pong-v5", "ppo", 42, _dir, new DateTime(2025, 3, 4, 5, 6, 7));
        Assert.Equal("ALE-Pong-v5__ppo__42__20250304-050607", run.Name);
        Assert.Equal(Path.Combine(_dir, run.Name), run.Path);
        Assert.True(Directory.Exists(run.TensorBoardDirectory));
        Assert.True(Directory.Exists(run.CheckpointsDirectory));
        Assert.Equal(Path.Combine(run.Path, "config.yaml"), run.ConfigPath);
        Assert.Equal(Path.Combine(run.Path, "progress.csv"), run.ProgressCsvPath);
        Assert.Equal(Path.Combine(run.Path, "tb"), run.TensorBoardDirectory);
        Assert.Equal(Path.Combine(run.Path, "model.zip"), run.ModelPath);
        Assert.Equal(Path.Combine(run.Path, "checkpoints", "model_2048.zip"), run.CheckpointPath(2048));
    }

    [Fact]
    public void NeverReusesANonEmptyFolder()
    {
        string target = Path.Combine(_dir, "myrun");
        var first = RunDirectory.CreateAt(target);
        Assert.Equal(target, first.Path);
        File.WriteAllText(first.ModelPath, "precious");

        var second = RunDirectory.CreateAt(target + Path.DirectorySeparatorChar);
        Assert.Equal(target + "-2", second.Path);
        var third = RunDirectory.CreateAt(target);
        Assert.Equal(target + "-3", third.Path);
        Assert.Equal("precious", File.ReadAllText(first.ModelPath));

        // An existing empty folder (e.g. made by the user beforehand) is used as is.
        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        Assert.Equal(empty, RunDirectory.CreateAt(empty).Path);
    }

    [Fact]
    public void SameSecondSameSeedGetsDistinctFolders()
    {
        var t = new DateTime(2025, 1, 1);
        var a = RunDirectory.Create("CartPole-v1", "ppo", 1, _dir, t);
        var b = RunDirectory.Create("CartPole-v1", "ppo", 1, _dir, t);
        Assert.NotEqual(a.Path, b.Path);
    }

    [Fact]
    public void OpenRequiresAnExistingFolder()
    {
        var created = RunDirectory.CreateAt(Path.Combine(_dir, "r"));
        Assert.Equal(created.Path, RunDirectory.Open(created.Path).Path);
        var e = Assert.Throws<DirectoryNotFoundException>(() => RunDirectory.Open(Path.Combine(_dir, "nope")));
        Assert.Contains("nope", e.Message);
    }
}
