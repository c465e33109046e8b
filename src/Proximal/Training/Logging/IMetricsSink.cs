namespace Proximal.Training.Logging;

/// <summary>
/// Somewhere the training loop sends one set of named metrics per update (CSV file, TensorBoard, console).
/// Keys are stable names such as <c>train/policy_loss</c> or <c>episode_return_mean</c>.
/// </summary>
public interface IMetricsSink : IDisposable
{
    /// <summary>Records <paramref name="metrics"/> as measured at environment step <paramref name="step"/>.</summary>
    void Write(long step, IReadOnlyDictionary<string, double> metrics);

    /// <summary>Makes everything written so far visible to readers of the output.</summary>
    void Flush();
}
