namespace Commissable.Testing;

/// <summary>
/// A fact that needs the Google Cloud SDK: skipped, visibly and with the reason, where <c>gcloud</c>
/// is not on PATH, except under <c>CI=true</c>, where it runs and fails (a CI machine must have the SDK).
/// </summary>
public sealed class GcloudFactAttribute : FactAttribute
{
    public const string Why =
        "these tests drive the local cloud or check the deployment scripts with the Google Cloud SDK (gcloud 528 or later); " +
        "install it (https://cloud.google.com/sdk/docs/install) and put gcloud on PATH.";

    public GcloudFactAttribute()
    {
        if (Executable is null && !IsCi)
        {
            Skip = $"gcloud is not on PATH: {Why}";
        }
    }

    /// <summary>The gcloud on PATH, or null.</summary>
    public static string? Executable { get; } = FindOnPath("gcloud");

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(path => File.Exists(path)
                && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
