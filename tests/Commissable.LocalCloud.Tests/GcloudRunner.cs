using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Commissable.LocalCloud.Tests;

/// <summary>What one gcloud run did: its exit code, its output and how long it took.</summary>
public sealed record GcloudResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"`{Command}` exited {ExitCode} after {Elapsed.TotalSeconds:0.0} s{Environment.NewLine}" +
        $"--- stderr ---{Environment.NewLine}{Stderr.TrimEnd()}{Environment.NewLine}--- stdout ---{Environment.NewLine}{Stdout.TrimEnd()}";
}

/// <summary>
/// Runs the real Google Cloud SDK against a <see cref="LocalCloudFixture"/>: the sql endpoint
/// overridden to the local cloud, the bearer token read by gcloud from the state directory's token
/// file (the token itself never appears in a command line or a message), a private config directory,
/// and the settings that keep gcloud offline (no metadata-server probe, no update check, no survey).
/// Every command gets <c>--quiet</c> and a time limit.
/// </summary>
public sealed class Gcloud : IDisposable
{
    private readonly LocalCloudFixture _cloud;
    private readonly ITestOutputHelper? _output;
    private readonly string _configDirectory = Path.Combine(Path.GetTempPath(), $"gcloud-cfg-{Guid.NewGuid():N}"[..24]);

    public Gcloud(LocalCloudFixture cloud, ITestOutputHelper? output = null)
    {
        _cloud = cloud;
        _output = output;
        if (Executable is null)
        {
            // Only reached under CI=true (elsewhere GcloudFactAttribute skips): a missing SDK fails there.
            throw new XunitException($"gcloud is not on PATH and CI=true: {GcloudFactAttribute.Why}");
        }
        Directory.CreateDirectory(_configDirectory);
    }

    /// <summary>The gcloud executable found on PATH, or null.</summary>
    public static string? Executable => GcloudFactAttribute.Executable;

    /// <summary>How long one command may take before it is killed and the test fails.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Runs a command that must succeed (exit 0); the failure message holds the command and its stderr.</summary>
    public async Task<GcloudResult> RunAsync(params string[] arguments)
    {
        var result = await TryRunAsync(arguments);
        if (result.ExitCode != 0)
        {
            throw new XunitException($"gcloud failed: {result}");
        }
        return result;
    }

    /// <summary>Runs a command that must succeed with <c>--format=json</c> and parses what it printed.</summary>
    public async Task<JsonNode> JsonAsync(params string[] arguments)
    {
        var result = await RunAsync([.. arguments, "--format=json"]);
        try
        {
            return JsonNode.Parse(result.Stdout) ?? throw new XunitException($"gcloud printed JSON null: {result}");
        }
        catch (System.Text.Json.JsonException error)
        {
            throw new XunitException($"gcloud did not print JSON ({error.Message}): {result}");
        }
    }

    /// <summary>Runs a command and returns what happened, whatever its exit code (for commands expected to fail).</summary>
    public async Task<GcloudResult> TryRunAsync(params string[] arguments)
    {
        var command = "gcloud " + string.Join(' ', arguments.Select(Display));
        var start = GcloudStart.Info(arguments, _configDirectory, LocalCloudHost.TokenFile(_cloud.StateDirectory),
            new Dictionary<string, Uri> { ["sql"] = _cloud.BaseUrl }, _cloud.Project);

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new XunitException($"could not start {command}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new XunitException(
                $"`{command}` did not finish within {Timeout.TotalSeconds:0} s and was killed.{Environment.NewLine}--- stderr ---{Environment.NewLine}{Redact(await stderr)}");
        }
        var result = new GcloudResult(command, process.ExitCode, Redact(await stdout), Redact(await stderr), clock.Elapsed);
        _output?.WriteLine($"{clock.Elapsed.TotalSeconds,5:0.0} s  rc={result.ExitCode}  {command}");
        return result;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_configDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The token is never passed on a command line; this is a second guard for what gcloud prints.</summary>
    private string Redact(string text) =>
        _cloud.Token.Length == 0 ? text : text.Replace(_cloud.Token, "<token>", StringComparison.Ordinal);

    private static string Display(string argument) =>
        argument.StartsWith("--password=", StringComparison.Ordinal) || argument.StartsWith("--root-password=", StringComparison.Ordinal)
            ? argument[..(argument.IndexOf('=', StringComparison.Ordinal) + 1)] + "[redacted]"
            : argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_=.,:/@%+".Contains(c, StringComparison.Ordinal))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

