using System.Text.Json.Nodes;
using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Core.Naming;

namespace Commissable.Backup.Cli.Commands.Executions;

/// <summary>
/// The checks every value gets before any request, each failing with a message that names the
/// option, says what is wrong and what is accepted. They mirror Google's own rules, so a typo is
/// caught on the operator's machine rather than halfway through a recovery.
/// </summary>
internal static partial class InputRules
{
    /// <summary>Cloud SQL keeps point-in-time recovery logs for at most 35 days.</summary>
    public static readonly TimeSpan MaxPointInTimeAge = TimeSpan.FromDays(35);

    public static string ProjectId(string option, string value)
        => CloudNames.IsProject(value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not a Google Cloud project ID: 6 to 30 lowercase letters, digits and '-', starting with a letter and not ending with '-'.");

    public static string Location(string option, string value)
        => LocationPattern().IsMatch(value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not a Google Cloud region such as europe-west1 or us-central1.");

    /// <summary>Cloud SQL instance IDs; <c>project:instance</c> may be at most 98 characters.</summary>
    public static string Instance(string option, string value, string project)
    {
        if (!CloudNames.IsInstance(value))
        {
            throw new UsageException($"{option} '{Printable(value)}' is not a Cloud SQL instance name: lowercase letters, digits and '-', starting with a letter and not ending with '-'.");
        }

        if (project.Length + 1 + value.Length > 98)
        {
            throw new UsageException($"{option} '{value}' is too long: the project ID, ':' and the instance name together may be at most 98 characters.");
        }

        return value;
    }

    public static string Database(string option, string value)
        => CloudNames.IsDatabase(value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not a database name: 1 to 63 letters, digits, '_', '-' and '$', starting with a letter or '_'.");

    /// <summary>
    /// A database or user name as workflows/clone-prod-to-staging.yaml accepts it (its check_name
    /// steps): letters, digits and '_', starting with a letter or '_', at most 63. Narrower than
    /// <see cref="Database"/> and <see cref="AppUser"/>: a name the workflow refuses would start an
    /// execution only for it to fail.
    /// </summary>
    public static string CloneWorkflowName(string option, string value, string what)
        => CloudNames.IsPlainIdentifier(value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not {what} the clone-prod-to-staging workflow accepts: 1 to 63 letters, digits and '_', starting with a letter or '_' (no '-', '$', '.' or '@').");

    /// <summary>The application's login role: never a superuser or a reserved role.</summary>
    public static string AppUser(string option, string value)
    {
        if (!CloudNames.IsUser(value))
        {
            throw new UsageException($"{option} '{Printable(value)}' is not a PostgreSQL user name: 1 to 63 letters, digits, '_', '-', '.', '@' and '$', starting with a letter or '_'.");
        }

        if (ReservedRoles.IsReserved(value))
        {
            throw new UsageException($"{option} '{value}' is a reserved or administrative role; the staging app user must be an ordinary role (for example crm_app).");
        }

        return value;
    }

    /// <summary>A Secret Manager secret ID (not a full resource name: the workflow adds the project).</summary>
    public static string SecretId(string option, string value)
        => CloudNames.IsSecretId(value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not a Secret Manager secret ID: 1 to 255 letters, digits, '_' and '-' (the ID, not projects/.../secrets/...).");

    public static string WorkflowId(string option, string value)
        => WorkflowName.IsValidWorkflowId(value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not a workflow ID: a letter, then letters, digits, '_' and '-', at most 128 characters.");

    public static string Table(string option, string value)
        => TablePattern().IsMatch(value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not a table name: table or schema.table, letters, digits and '_'.");

    /// <summary>Every <c>--critical-table</c>, checked, into <c>criticalTables</c> of a workflow argument (once each; absent when none).</summary>
    public static void CriticalTables(string option, IReadOnlyList<string>? values, JsonObject argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        var tables = (values ?? []).Select(t => Table(option, t)).ToList();
        if (tables.Count > 0)
        {
            argument["criticalTables"] = new JsonArray([.. tables.Distinct(StringComparer.Ordinal).Select(t => (JsonNode)t)]);
        }
    }

    /// <summary>An RFC 3339 time with an explicit offset, in the past and within PITR reach; returned in UTC.</summary>
    public static string PointInTime(string option, string value, DateTimeOffset now)
    {
        var match = RfcPattern().Match(value);
        if (!match.Success)
        {
            throw new UsageException($"{option} '{Printable(value)}' is not an RFC 3339 time with an offset, such as 2025-03-01T09:30:00Z or 2025-03-01T10:30:00+01:00.");
        }

        // .NET parses at most 7 fractional digits; nanoseconds beyond that do not matter to a recovery.
        var fraction = match.Groups["fraction"].Value;
        var text = match.Groups["seconds"].Value + (fraction.Length > 0 ? "." + fraction[..Math.Min(7, fraction.Length)] : "") + match.Groups["offset"].Value.ToUpperInvariant();
        if (!DateTimeOffset.TryParseExact(text.Replace('t', 'T'), ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            throw new UsageException($"{option} '{Printable(value)}' is not a valid date and time.");
        }

        if (time > now)
        {
            throw new UsageException($"{option} {Utc(time)} is in the future (now is {Utc(now)}): a point in time must already have happened.");
        }

        if (now - time > MaxPointInTimeAge)
        {
            throw new UsageException($"{option} {Utc(time)} is more than 35 days ago, beyond any Cloud SQL point-in-time recovery window; restore from a backup run (--backup-run) instead.");
        }

        return Utc(time);
    }

    public static string BackupRunId(string option, string value)
        => CloudNames.IsBackupRunId(value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not a backup run ID: the positive integer 'gcloud sql backups list' shows in its ID column.");

    /// <summary><c>gs://bucket/object</c>, by Core's one rule (<see cref="Core.Naming.GcsUri"/>).</summary>
    public static string GcsUri(string option, string value)
        => Core.Naming.GcsUri.TryParse(value, out _, out var problem) ? value
            : throw new UsageException($"{option} is not a Cloud Storage object URI such as gs://BUCKET/backups/...: {problem}.");

    /// <summary>
    /// Free text a workflow records (a tenant id, who asked): 1 to 200 characters without control
    /// characters, as the tenant-restore function accepts it; <paramref name="what"/> says what it is.
    /// </summary>
    public static string Text(string option, string value, string what)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length is 0 or > 200)
        {
            throw new UsageException($"{option} must be {what}: 1 to 200 characters (got {value.Length}).");
        }

        if (value.Any(char.IsControl))
        {
            throw new UsageException($"{option} '{Printable(value)}' must not contain control characters (line breaks, tabs, ...).");
        }

        return string.IsNullOrWhiteSpace(value) ? throw new UsageException($"{option} must be {what}, not only spaces.") : value;
    }

    /// <summary>One of <paramref name="accepted"/>, each with what it means.</summary>
    public static string OneOf(string option, string value, IReadOnlyList<(string Value, string Meaning)> accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        return accepted.Any(a => a.Value == value) ? value
            : throw new UsageException($"{option} '{Printable(value)}' is not one of {string.Join(", ", accepted.Select(a => $"{a.Value} ({a.Meaning})"))}.");
    }

    public static int Seconds(string option, string value, int min, int max)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds >= min && seconds <= max ? seconds
            : throw new UsageException($"{option} '{Printable(value)}' must be a whole number of seconds from {min} to {max}.");

    /// <summary>A TCP port on 127.0.0.1; 0 lets the server pick a free one and say which.</summary>
    public static int Port(string option, string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535 ? port
            : throw new UsageException($"{option} '{Printable(value)}' is not a port number: 0 to 65535 (0 picks a free one).");

    /// <summary>Three octets inside 127.0.0.0/8 for the local cloud's instances (the rule is the local cloud's own).</summary>
    public static string AddressPrefix(string option, string value)
        => Commissable.LocalCloud.LocalCloudOptions.AddressPrefixProblem(value, option) is { } problem ? throw new UsageException(problem) : value;

    /// <summary>A directory to keep state in (created when missing); returned as a full path.</summary>
    public static string StateDirectory(string option, string value)
        => value.Length > 0 && !value.Any(char.IsControl) ? Path.GetFullPath(value)
            : throw new UsageException($"{option} '{Printable(value)}' is not a directory path: a non-empty path without control characters.");

    /// <summary>
    /// An API's base URL: https, or plain http on a loopback host only (127.0.0.0/8, ::1,
    /// <c>localhost</c>: the token would cross the network in clear); no query; no credentials,
    /// which are never repeated (the user info may be a password).
    /// </summary>
    public static Uri Endpoint(string option, string value)
    {
        var parsed = Uri.TryCreate(value, UriKind.Absolute, out var uri);
        if (parsed ? uri!.UserInfo.Length > 0 : value.Contains('@', StringComparison.Ordinal))
        {
            throw new UsageException($"{option} must not contain credentials (user:password@); the value is not shown, in case it is a secret: give the URL alone, and a token with --access-token-file.");
        }

        if (!parsed || (uri!.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || !string.IsNullOrEmpty(uri.Query))
        {
            throw new UsageException($"{option} '{Printable(value)}' is not an http or https URL such as https://workflowexecutions.googleapis.com/.");
        }

        return ApiEndpoints.CarriesCredentialsSafely(uri) ? uri
            : throw new UsageException($"{option} '{Printable(value)}' is http on a host that is not loopback (127.0.0.0/8, ::1, localhost): the token would cross the network in clear; use https.");
    }

    public static string ExistingFile(string option, string value)
        => File.Exists(value) ? Path.GetFullPath(value)
            : throw new UsageException($"{option} '{Printable(value)}' does not exist or is not a file.");

    public static void Different(string option, string value, string otherOption, string other, string why)
    {
        if (string.Equals(value, other, StringComparison.Ordinal))
        {
            throw new UsageException($"{option} must differ from {otherOption} ('{value}'): {why}");
        }
    }

    private static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static string Printable(string value)
        => new(value.Take(120).Select(c => char.IsControl(c) ? '?' : c).ToArray());


    [GeneratedRegex("^[a-z]+-[a-z]+[0-9]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex LocationPattern();




    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TablePattern();

    [GeneratedRegex(@"^(?<seconds>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(\.(?<fraction>\d{1,9}))?(?<offset>[Zz]|[+-]\d{2}:\d{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex RfcPattern();


}
