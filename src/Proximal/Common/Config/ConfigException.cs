namespace Proximal.Common.Config;

/// <summary>
/// A configuration problem a user can fix: unknown key, wrong type, value out of range, malformed YAML or
/// <c>--set</c>. The message starts with where the value came from (<c>file:line:column</c> or the
/// <c>--set</c> argument) and names the key, the value and what was expected.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message, string? key = null, string? source = null, int? line = null, Exception? inner = null)
        : base(message, inner)
    {
        Key = key;
        Source = source;
        Line = line;
    }

    /// <summary>Dotted snake_case key the problem is about (e.g. <c>policy.hidden_sizes</c>), when there is one.</summary>
    public string? Key { get; }

    /// <summary>YAML file name or <c>--set key=value</c> text the value came from, when known.</summary>
    public new string? Source { get; }

    /// <summary>1-based line in <see cref="Source"/> when the value came from YAML.</summary>
    public int? Line { get; }
}
