namespace Proximal.Common.Persistence;

/// <summary>A model file that cannot be loaded: missing, not a Proximal model, corrupt, or from a newer format.</summary>
public sealed class ModelFileException : IOException
{
    public ModelFileException(string filePath, string message, string? entry = null, Exception? inner = null)
        : base(message, inner)
    {
        FilePath = filePath;
        Entry = entry;
    }

    /// <summary>The model file.</summary>
    public string FilePath { get; }

    /// <summary>The entry inside the zip the problem is in (e.g. <c>metadata.json</c>), when there is one.</summary>
    public string? Entry { get; }
}
