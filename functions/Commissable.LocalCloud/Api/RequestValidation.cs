using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Naming;

namespace Commissable.LocalCloud.Api;

/// <summary>
/// What the API's methods check in request bodies and values before any of them reaches SQL, a
/// path or a tool, each against the rule Google applies to it (names in the path are checked
/// earlier, by <see cref="RequestGuard"/>). Every failure is a 400 that says what is accepted.
/// </summary>
internal static partial class RequestValidation
{
    /// <summary>
    /// The most pg_dump/pg_restore jobs an export or import may ask for. Google documents no
    /// number for <c>threads</c>; each job is a connection to the instance, so the bound keeps a
    /// request from exhausting the instance's connections (max_connections is 100).
    /// </summary>
    public const int MaxThreads = 16;

    /// <summary>The most characters of a backup run's description the local cloud keeps.</summary>
    public const int MaxDescription = 4096;

    public static void ValidateBackupConfiguration(JsonObject resource)
    {
        var backup = resource["settings"]?["backupConfiguration"];
        if (backup is null) return;
        var startTime = (string?)backup["startTime"];
        if (startTime is not null && !StartTimePattern().IsMatch(startTime))
        {
            throw ApiException.BadRequest($"settings.backupConfiguration.startTime '{startTime}' must be HH:MM (24-hour, UTC).");
        }
        if (((bool?)backup["pointInTimeRecoveryEnabled"] ?? false) && !((bool?)backup["enabled"] ?? false))
        {
            throw ApiException.BadRequest("Point-in-time recovery requires automated backups: set settings.backupConfiguration.enabled to true.");
        }
        var days = (int?)backup["transactionLogRetentionDays"];
        if (days is < 1 or > 35)
        {
            throw ApiException.BadRequest("settings.backupConfiguration.transactionLogRetentionDays must be between 1 and 35.");
        }
        var retained = (int?)backup["backupRetentionSettings"]?["retainedBackups"];
        if (retained is < 1 or > 365)
        {
            throw ApiException.BadRequest("settings.backupConfiguration.backupRetentionSettings.retainedBackups must be between 1 and 365.");
        }
    }

    public static void ValidateInstanceName(string? name, string field)
    {
        if (CloudNames.InstanceProblem(name, field) is { } problem) throw ApiException.BadRequest(problem);
    }

    public static void ValidateDatabaseName(string? name, string field)
    {
        if (CloudNames.DatabaseProblem(name, field) is { } problem) throw ApiException.BadRequest(problem);
    }

    public static void ValidateUserName(string? name, string field)
    {
        if (!CloudNames.IsUser(name)) throw ApiException.BadRequest(CloudNames.UserProblem(name, field)!);
        if (IsReservedRole(name))
        {
            throw ApiException.BadRequest($"'{field}' names '{name}', a role reserved for running the instance; choose another user.");
        }
    }

    // Roles that run the instance (cloudsql*, including each import's own cloudsqlimport_ login) and
    // PostgreSQL's predefined pg_* roles: never an import user or a user to manage. postgres is
    // an ordinary user on Cloud SQL (and the default import user).
    private static bool IsReservedRole(string name) =>
        Commissable.Backup.Core.Naming.ReservedRoles.IsReserved(name) && !string.Equals(name, "postgres", StringComparison.Ordinal);

    /// <summary>The region becomes part of the instance's connection name and its socket directory.</summary>
    public static void ValidateRegion(JsonObject resource)
    {
        if ((string?)resource["region"] is { } region && !RegionPattern().IsMatch(region))
        {
            throw ApiException.BadRequest($"'region' must be a Cloud SQL region such as us-central1 (got '{CloudNames.Printable(region)}').");
        }
    }

    /// <summary>What an export names, checked before the request is accepted (types were checked when the body was read).</summary>
    public static void ValidateExport(JsonObject export)
    {
        ValidateUri((string?)export["uri"], "exportContext.uri");
        foreach (var (database, i) in (export["databases"]?.AsArray() ?? []).Select((d, i) => ((string?)d, i)))
        {
            ValidateDatabaseName(database, $"exportContext.databases[{i}]");
        }
        var options = export["sqlExportOptions"] as JsonObject;
        ValidateThreads(options?["threads"], "exportContext.sqlExportOptions.threads");
        foreach (var (table, i) in (options?["tables"]?.AsArray() ?? []).Select((t, i) => ((string?)t, i)))
        {
            // schema.table, each part a PostgreSQL identifier (quoted ones may hold any printable character).
            if (string.IsNullOrEmpty(table) || table.Length > 129 || table.Any(char.IsControl))
            {
                throw ApiException.BadRequest($"'exportContext.sqlExportOptions.tables[{i}]' must be a table name ('table' or 'schema.table'), at most 129 characters, without control characters.");
            }
        }
    }

    public static void ValidateImport(JsonObject import)
    {
        ValidateUri((string?)import["uri"], "importContext.uri");
        ValidateDatabaseName((string?)import["database"], "importContext.database");
        if ((string?)import["importUser"] is { Length: > 0 } user)
        {
            ValidateUserName(user, "importContext.importUser");
        }
        ValidateThreads(import["sqlImportOptions"]?["threads"], "importContext.sqlImportOptions.threads");
    }

    private static void ValidateThreads(JsonNode? threads, string field)
    {
        if (threads is not null && (int)threads is < 1 or > MaxThreads)
        {
            throw ApiException.BadRequest($"'{field}' must be from 1 to {MaxThreads} (got {(int)threads}).");
        }
    }

    /// <summary>Cloud Storage object names are at most 1024 bytes and hold no control characters.</summary>
    private static void ValidateUri(string? uri, string field)
    {
        if (uri is null) return;
        if (uri.Length > 1100 || uri.Any(char.IsControl))
        {
            throw ApiException.BadRequest($"'{field}' must be gs://<bucket>/<object>, at most 1024 bytes of object name, without control characters (got '{CloudNames.Printable(uri)}').");
        }
    }

    public static long ParseId(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ApiException.BadRequest($"'{CloudNames.Printable(id)}' is not a backup run id (an integer).");

    /// <summary>Int64 fields arrive as strings (Google's convention) or, from lenient clients, as numbers.</summary>
    public static string ScalarText(JsonNode node) =>
        node.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString(ApiResults.Wire);

    [GeneratedRegex(@"\A[a-z]{2,}(?:-[a-z]+)+[0-9]{1,2}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RegionPattern();

    [GeneratedRegex(@"\A(?:[01][0-9]|2[0-3]):[0-5][0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex StartTimePattern();
}
