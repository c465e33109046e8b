using System.Globalization;

namespace Proximal.Training.Runs;

/// <summary>
/// The folder one training run writes into, with its well-known paths:
/// <c>config.yaml</c>, <c>progress.csv</c>, <c>tb/</c> (TensorBoard events), <c>checkpoints/</c>, <c>model.zip</c>.
/// Creating one never reuses a folder that already has files in it: a numeric suffix is added instead
/// (<c>name-2</c>, <c>name-3</c>, …). A claim file written with create-new semantics makes two processes
/// starting at the same moment pick different folders.
/// </summary>
public sealed class RunDirectory
{
    /// <summary>Marker that claims a folder for one run.</summary>
    public const string ClaimFileName = ".proximal-run";
    public const string ConfigFileName = "config.yaml";
    public const string ProgressFileName = "progress.csv";
    public const string TensorBoardFolderName = "tb";
    public const string CheckpointsFolderName = "checkpoints";
    public const string ModelFileName = "model.zip";

    private RunDirectory(string path) => Path = System.IO.Path.GetFullPath(path);

    /// <summary>Absolute path of the run folder.</summary>
    public string Path { get; }
    /// <summary>Folder name (e.g. <c>CartPole-v1__ppo__1__20250101-120000</c>), used as the run's label in plots.</summary>
    public string Name => System.IO.Path.GetFileName(Path);
    public string ConfigPath => System.IO.Path.Combine(Path, ConfigFileName);
    public string ProgressCsvPath => System.IO.Path.Combine(Path, ProgressFileName);
    public string TensorBoardDirectory => System.IO.Path.Combine(Path, TensorBoardFolderName);
    public string CheckpointsDirectory => System.IO.Path.Combine(Path, CheckpointsFolderName);
    public string ModelPath => System.IO.Path.Combine(Path, ModelFileName);

    /// <summary>Path of the checkpoint taken at environment step <paramref name="step"/> (<c>checkpoints/model_&lt;step&gt;.zip</c>).</summary>
    public string CheckpointPath(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return System.IO.Path.Combine(CheckpointsDirectory, $"model_{step.ToString(CultureInfo.InvariantCulture)}.zip");
    }

    /// <summary>The conventional folder name <c>&lt;env&gt;__&lt;algo&gt;__&lt;seed&gt;__&lt;yyyyMMdd-HHmmss&gt;</c> (unsafe characters in the env id become '-').</summary>
    public static string DefaultName(string envId, string algorithm, long seed, DateTime timestamp)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(envId);
        ArgumentException.ThrowIfNullOrWhiteSpace(algorithm);
        return $"{Sanitize(envId)}__{Sanitize(algorithm)}__{seed.ToString(CultureInfo.InvariantCulture)}__" +
               timestamp.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
    }

    /// <summary>Creates <c>&lt;root&gt;/&lt;env&gt;__&lt;algo&gt;__&lt;seed&gt;__&lt;timestamp&gt;</c> (root defaults to <c>runs</c>; timestamp to local now).</summary>
    public static RunDirectory Create(string envId, string algorithm, long seed, string root = "runs", DateTime? timestamp = null) =>
        CreateAt(System.IO.Path.Combine(root, DefaultName(envId, algorithm, seed, timestamp ?? DateTime.Now)));

    /// <summary>
    /// Creates the run folder at <paramref name="path"/> (with <c>tb/</c> and <c>checkpoints/</c>). If that folder exists
    /// and is not empty (or another process claimed it first), uses <c>path-2</c>, <c>path-3</c>, … instead.
    /// </summary>
    public static RunDirectory CreateAt(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string basePath = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
        for (int attempt = 1; attempt <= 10_000; attempt++)
        {
            string candidate = attempt == 1 ? basePath : $"{basePath}-{attempt.ToString(CultureInfo.InvariantCulture)}";
            if (File.Exists(candidate)) continue;
            if (Directory.Exists(candidate) && Directory.EnumerateFileSystemEntries(candidate).Any()) continue;
            Directory.CreateDirectory(candidate);
            try
            {
                using (new FileStream(System.IO.Path.Combine(candidate, ClaimFileName), FileMode.CreateNew, FileAccess.Write)) { }
            }
            catch (IOException) when (File.Exists(System.IO.Path.Combine(candidate, ClaimFileName)))
            {
                continue; // another process won the race for this folder
            }
            var run = new RunDirectory(candidate);
            Directory.CreateDirectory(run.TensorBoardDirectory);
            Directory.CreateDirectory(run.CheckpointsDirectory);
            return run;
        }
        throw new IOException($"Could not create a run folder at {basePath}: 10000 numbered variants already exist.");
    }

    /// <summary>An existing run folder (for eval, plot, resume). Throws <see cref="DirectoryNotFoundException"/> naming it if absent.</summary>
    public static RunDirectory Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Run folder '{path}' does not exist.");
        return new RunDirectory(path);
    }

    public override string ToString() => Path;

    private static string Sanitize(string part)
    {
        var invalid = System.IO.Path.GetInvalidFileNameChars();
        var chars = part.Trim().ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (Array.IndexOf(invalid, chars[i]) >= 0 || chars[i] is '/' or '\\' or ':' or ' ' or '*' or '?' or '"' or '<' or '>' or '|')
                chars[i] = '-';
        return new string(chars);
    }
}
