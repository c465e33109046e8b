using Proximal.Algorithms.OnPolicy;
using Proximal.Common.Config;
using Proximal.Training.Sessions;

namespace Proximal.Tests.Training.Sessions;

public sealed class TrainingConfigTests : IDisposable
{
    private readonly string _dir = TestDirs.Create();
    public void Dispose() => TestDirs.Delete(_dir);

    private static readonly ConfigSource BuiltIn = new("built-in configs/ppo/Test.yaml", "n_envs: 8\nn_steps: 32\nlearning_rate: 0.001\nseed: 3\ntotal_steps: 1000\n");

    [Fact]
    public void LaterLayersWin()
    {
        string file = Path.Combine(_dir, "mine.yaml");
        File.WriteAllText(file, "n_steps: 64\nlearning_rate: 0.002\nseed: 4\ntotal_steps: 2000\n");
        var o = Assert.IsType<PpoOptions>(TrainingConfig.Resolve(BuiltIn, file, seed: 5, totalSteps: 3000, overrides: ["learning_rate=0.003", "policy.hidden_sizes=16,16"]));
        Assert.Equal(8, o.NEnvs);                  // built-in only
        Assert.Equal(64, o.NSteps);                // file over built-in
        Assert.Equal(5, o.Seed);                   // --seed over file
        Assert.Equal(3000, o.TotalSteps);          // --steps over file
        Assert.Equal(0.003, o.LearningRate);       // --set over everything
        Assert.Equal([16, 16], o.Policy.HiddenSizes);
        Assert.Equal(7, TrainingConfig.Resolve(BuiltIn, overrides: ["seed=7"], seed: 5).Seed); // --set over --seed
        Assert.Equal(new PpoOptions().NSteps, ((PpoOptions)TrainingConfig.Resolve()).NSteps);              // no layers: defaults
    }

    [Fact]
    public void ProblemsNameTheKeyAndSource()
    {
        var unknown = Assert.Throws<ConfigException>(() => TrainingConfig.Resolve(BuiltIn, overrides: ["learnin_rate=1"]));
        Assert.Equal("learnin_rate", unknown.Key);
        Assert.Contains("learning_rate", unknown.Message);
        var type = Assert.Throws<ConfigException>(() => TrainingConfig.Resolve(BuiltIn, overrides: ["n_envs=four"]));
        Assert.Contains("n_envs", type.Message);
        var range = Assert.Throws<ConfigException>(() => TrainingConfig.Resolve(BuiltIn, totalSteps: 0));
        Assert.Equal("total_steps", range.Key);
        var missing = Assert.Throws<ConfigException>(() => TrainingConfig.Resolve(BuiltIn, Path.Combine(_dir, "nope.yaml")));
        Assert.Contains("nope.yaml' does not exist", missing.Message);
        string bad = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(bad, "gamma: 1.5\n");
        var inFile = Assert.Throws<ConfigException>(() => TrainingConfig.Resolve(BuiltIn, bad));
        Assert.StartsWith(bad + ":1:", inFile.Message);
        Assert.Equal("gamma", inFile.Key);
        var cross = Assert.Throws<ConfigException>(() => TrainingConfig.Resolve(BuiltIn, overrides: ["minibatch_size=100"]));
        Assert.Contains("minibatch_size 100 does not divide", cross.Message);
    }
}
