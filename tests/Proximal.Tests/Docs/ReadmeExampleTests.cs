using Proximal.Algorithms;
using Proximal.Algorithms.OnPolicy;
using Proximal.Common.Callbacks;

namespace Proximal.Tests.Docs;

/// <summary>
/// The README's C# example, run as written, and checked to do what its comments say. The README block must
/// stay identical to <see cref="ExampleCode"/>, so the two cannot drift apart.
/// </summary>
public sealed class ReadmeExampleTests : IDisposable
{
    private const string ExampleCode = """
        var options = new PpoOptions { NEnvs = 8, NSteps = 32, MinibatchSize = 64, NEpochs = 20,
                                       LearningRate = 1e-3, AnnealLr = true, Gamma = 0.98, GaeLambda = 0.8 };
        using var ppo = Ppo.Create("CartPole-v1", options);          // or new Ppo(yourVecEnv, options)
        ppo.Learn(100_000, [new StopOnRewardThreshold(475)]);        // lr anneals from 1e-3 to 0 over these 100,000 steps
        ppo.Save("cartpole.zip");                                    // atomic; holds everything needed to resume exactly

        using var again = Ppo.Load("cartpole.zip");                  // or AlgorithmRegistry.Load(path) for any algorithm
        float[] action = again.Predict(new float[] { 0.01f, 0f, 0.02f, 0f }, deterministic: true);
        again.Learn(50_000);                                         // a new schedule: lr from 1e-3 again, never 0
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("proximal-readme-").FullName;
    private readonly string _cwd = Environment.CurrentDirectory;
    public void Dispose() { Environment.CurrentDirectory = _cwd; Directory.Delete(_dir, true); }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Proximal.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    private static string Normalize(string code) => string.Join('\n', code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)));

    [Fact]
    public void TheReadmeBlockIsTheCodeThisTestRuns()
    {
        string readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        int start = readme.IndexOf("```csharp", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no C# example");
        start = readme.IndexOf('\n', start) + 1;
        string block = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
        Assert.Equal(Normalize(ExampleCode), Normalize(block));
    }

    [Fact]
    public void TheReadmeExampleDoesWhatItsCommentsSay()
    {
        Environment.CurrentDirectory = _dir; // it saves cartpole.zip in the working folder
        var lrs = new List<double>();
        var record = new LambdaCallback((_, m) => { lrs.Add(m["train/learning_rate"]); return true; });

        // ---- the README's code (see ExampleCode), with a recorder added to each Learn call
        var options = new PpoOptions { NEnvs = 8, NSteps = 32, MinibatchSize = 64, NEpochs = 20,
                                       LearningRate = 1e-3, AnnealLr = true, Gamma = 0.98, GaeLambda = 0.8 };
        using var ppo = Ppo.Create("CartPole-v1", options);
        ppo.Learn(100_000, [new StopOnRewardThreshold(475), record]);
        ppo.Save("cartpole.zip");
        using var again = Ppo.Load("cartpole.zip");
        float[] action = again.Predict(new float[] { 0.01f, 0f, 0.02f, 0f }, deterministic: true);
        var first = lrs.ToList();
        lrs.Clear();
        again.Learn(50_000, [record]);
        // ----

        Assert.Equal(1e-3, first[0], 12);
        double expectedAtStop = 1e-3 * (1 - (ppo.NumTimesteps - 256) / 100_000.0); // the last update ran at the step before it
        Assert.Equal(expectedAtStop, first[^1], 9);
        Assert.True(ppo.Metrics["rollout/episode_return_mean"] >= 475, "stopped by the threshold");
        Assert.True(File.Exists(Path.Combine(_dir, "cartpole.zip")));
        Assert.Single(action);
        Assert.Contains(action[0], new[] { 0f, 1f });
        Assert.Equal(1e-3, lrs[0], 12);                      // a new schedule from the full rate
        Assert.All(lrs, lr => Assert.True(lr > 0));          // never 0
        Assert.Equal(1e-3 * (1 - (lrs.Count - 1) * 256 / 50_000.0), lrs[^1], 9); // linear over this call's steps
    }
}
