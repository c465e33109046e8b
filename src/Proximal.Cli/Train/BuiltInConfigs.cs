using System.Reflection;
using Proximal.Training.Sessions;

namespace Proximal.Cli.Train;

/// <summary>The repository's configs/&lt;algo&gt;/&lt;env&gt;.yaml files, embedded in this assembly at build time.</summary>
internal static class BuiltInConfigs
{
    private const string Prefix = "configs/";

    /// <summary>Embedded config for <paramref name="envId"/> under <paramref name="algorithm"/>, or null when there is none.</summary>
    public static ConfigSource? Find(string algorithm, string envId)
    {
        var assembly = typeof(BuiltInConfigs).Assembly;
        string wanted = $"{Prefix}{algorithm}/{envId}.yaml";
        // MSBuild's %(RecursiveDir) uses the platform separator; compare with '/'.
        string? name = assembly.GetManifestResourceNames().FirstOrDefault(n => string.Equals(n.Replace('\\', '/'), wanted, StringComparison.Ordinal));
        if (name is null) return null;
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return new ConfigSource($"built-in {wanted}", reader.ReadToEnd());
    }

    /// <summary>Env ids that have a built-in config for <paramref name="algorithm"/>.</summary>
    public static IReadOnlyList<string> EnvIds(string algorithm)
    {
        string prefix = $"{Prefix}{algorithm}/";
        return typeof(BuiltInConfigs).Assembly.GetManifestResourceNames()
            .Select(n => n.Replace('\\', '/'))
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .Select(n => n[prefix.Length..^".yaml".Length])
            .Order(StringComparer.Ordinal).ToArray();
    }
}
