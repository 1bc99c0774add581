using System.Diagnostics;
using System.Text;

namespace Commissable.Testing;

/// <summary>
/// How the tests start the real Google Cloud SDK offline: a private config directory, the
/// developer's own <c>CLOUDSDK_*</c> settings removed (account, project, proxies, token), the
/// endpoints overridden to local servers, the bearer token read by gcloud from its file (never on a
/// command line), and the settings that keep gcloud from the network (no metadata-server probe,
/// no update check, no survey). Every command gets <c>--quiet</c>.
/// </summary>
public static class GcloudStart
{
    /// <param name="arguments">The command and its flags.</param>
    /// <param name="configDirectory">gcloud's private configuration directory.</param>
    /// <param name="tokenFile">The file gcloud reads the bearer token from.</param>
    /// <param name="overrides">API name (<c>sql</c>, <c>workflowexecutions</c>) to the local endpoint.</param>
    /// <param name="project">The project, or null for none.</param>
    public static ProcessStartInfo Info(IEnumerable<string> arguments, string configDirectory, string tokenFile, IReadOnlyDictionary<string, Uri> overrides, string? project)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(overrides);
        var start = new ProcessStartInfo(GcloudFactAttribute.Executable ?? throw new InvalidOperationException($"gcloud is not on PATH: {GcloudFactAttribute.Why}"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments.Concat(["--quiet", $"--access-token-file={tokenFile}"]))
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("CLOUDSDK_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        start.Environment["CLOUDSDK_CONFIG"] = configDirectory;
        foreach (var (api, endpoint) in overrides)
        {
            start.Environment[$"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.ToUpperInvariant()}"] = endpoint.AbsoluteUri.TrimEnd('/') + "/";
        }
        if (project is not null) start.Environment["CLOUDSDK_CORE_PROJECT"] = project;
        // Both are needed to keep gcloud from probing the GCE metadata server (which can hang for 13 s).
        start.Environment["CLOUDSDK_CORE_CHECK_GCE_METADATA"] = "false";
        start.Environment["CLOUDSDK_METRICS_ENVIRONMENT"] = "localcloud-tests";
        start.Environment["CLOUDSDK_CORE_DISABLE_USAGE_REPORTING"] = "true";
        start.Environment["CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK"] = "true";
        start.Environment["CLOUDSDK_SURVEY_DISABLE_PROMPTS"] = "true";
        start.Environment["NO_PROXY"] = start.Environment["no_proxy"] = "127.0.0.1,localhost";
        return start;
    }

    /// <summary>Runs gcloud to its end (killed with its children on cancellation); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo start, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(start);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("gcloud did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
