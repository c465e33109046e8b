using Proximal.Algorithms;
using Proximal.Algorithms.Registry;
using Proximal.Common.Config;

namespace Proximal.Training.Sessions;

/// <summary>YAML text with the name it is reported under in error messages (a file path, or e.g. "built-in configs/ppo/CartPole-v1.yaml").</summary>
public sealed record ConfigSource(string Name, string Yaml);

/// <summary>
/// Resolves a run's options from its layers, later layers winning:
/// the algorithm's option defaults &lt; the built-in tuned config for the env &lt; the user's config file &lt; explicit seed and
/// step count &lt; <c>key=value</c> overrides. Every problem is a <see cref="ConfigException"/> naming the key and
/// where the value came from; nothing is written anywhere.
/// </summary>
public static class TrainingConfig
{
    public static AlgorithmOptions Resolve(ConfigSource? builtIn = null, string? configFile = null, long? seed = null, long? totalSteps = null,
        IEnumerable<string>? overrides = null, string algorithm = "ppo")
    {
        var options = AlgorithmRegistry.Get(algorithm).NewOptions();
        if (builtIn is not null) ConfigBinder.ApplyYaml(options, builtIn.Yaml, builtIn.Name);
        if (configFile is not null) ConfigBinder.ApplyYaml(options, ReadFile(configFile), configFile);
        if (seed is { } s) options.Seed = s;
        if (totalSteps is { } n) options.TotalSteps = n;
        ConfigBinder.ApplyOverrides(options, overrides);
        options.Validate();
        return options;
    }

    private static string ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ConfigException($"Config file '{path}' does not exist.", source: path);
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new ConfigException($"Config file '{path}' cannot be read: {e.Message}", source: path, inner: e); }
    }
}
