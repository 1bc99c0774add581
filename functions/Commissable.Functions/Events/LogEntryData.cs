using System.Text.Json;
using System.Text.Json.Serialization;

namespace Commissable.Functions.Events;

/// <summary>
/// The data of Cloud Audit Logs events (<c>google.cloud.audit.log.v1.written</c>): a Cloud Logging
/// entry holding an audit log, typed from <c>google.events.cloud.audit.v1.LogEntryData</c>. The
/// Cloud SQL backup runs arrive this way (<c>serviceName</c> <c>cloudsql.googleapis.com</c>).
/// Every member is optional, as in proto3 JSON.
/// </summary>
public sealed record LogEntryData
{
    /// <summary>e.g. <c>projects/p/logs/cloudaudit.googleapis.com%2Factivity</c>.</summary>
    public string? LogName { get; init; }

    /// <summary>The monitored resource that produced the entry.</summary>
    public MonitoredResource? Resource { get; init; }

    /// <summary>The audit log.</summary>
    public AuditLog? ProtoPayload { get; init; }

    /// <summary>Unique id of the entry.</summary>
    public string? InsertId { get; init; }

    /// <summary>User-defined labels.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>The long-running operation the entry belongs to, if any.</summary>
    public LogEntryOperation? Operation { get; init; }

    /// <summary>When the event happened.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>When Cloud Logging received the entry.</summary>
    public DateTimeOffset? ReceiveTimestamp { get; init; }

    /// <summary>
    /// The severity name (DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, ALERT, EMERGENCY);
    /// the numeric form (0, 100... 800) is read as its name.
    /// </summary>
    [JsonConverter(typeof(LogSeverityConverter))]
    public string? Severity { get; init; }

    /// <summary>The trace, <c>projects/P/traces/ID</c>.</summary>
    public string? Trace { get; init; }

    /// <summary>The span within the trace.</summary>
    public string? SpanId { get; init; }
}

/// <summary>The resource a log entry is about.</summary>
public sealed record MonitoredResource
{
    /// <summary>e.g. <c>cloudsql_database</c>.</summary>
    public string? Type { get; init; }

    /// <summary>e.g. <c>project_id</c>, <c>database_id</c>, <c>region</c>.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>The long-running operation a log entry belongs to.</summary>
public sealed record LogEntryOperation
{
    /// <summary>The operation's id.</summary>
    public string? Id { get; init; }

    /// <summary>Who produced it, e.g. <c>cloudsql.googleapis.com</c>.</summary>
    public string? Producer { get; init; }

    /// <summary>Whether this is the operation's first entry.</summary>
    public bool? First { get; init; }

    /// <summary>Whether this is the operation's last entry.</summary>
    public bool? Last { get; init; }
}

/// <summary>An audit log (<c>google.cloud.audit.AuditLog</c>).</summary>
public sealed record AuditLog
{
    /// <summary>e.g. <c>cloudsql.googleapis.com</c>.</summary>
    public string? ServiceName { get; init; }

    /// <summary>e.g. <c>cloudsql.backupRuns.create</c>.</summary>
    public string? MethodName { get; init; }

    /// <summary>e.g. <c>projects/p/instances/i</c>.</summary>
    public string? ResourceName { get; init; }

    /// <summary>The outcome; absent or code 0 means success.</summary>
    public RpcStatus? Status { get; init; }

    /// <summary>Who made the call.</summary>
    public AuthenticationInfo? AuthenticationInfo { get; init; }

    /// <summary>The authorization checks made.</summary>
    public IReadOnlyList<AuthorizationInfo>? AuthorizationInfo { get; init; }

    /// <summary>Where the call came from.</summary>
    public RequestMetadata? RequestMetadata { get; init; }

    /// <summary>The request, as the service logged it.</summary>
    public JsonElement? Request { get; init; }

    /// <summary>The response, as the service logged it.</summary>
    public JsonElement? Response { get; init; }

    /// <summary>Service-specific metadata.</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>Deprecated service-specific data.</summary>
    public JsonElement? ServiceData { get; init; }

    /// <summary>For list calls, how many items were returned.</summary>
    public long? NumResponseItems { get; init; }
}

/// <summary>A <c>google.rpc.Status</c>.</summary>
public sealed record RpcStatus
{
    /// <summary>A <c>google.rpc.Code</c>; 0 is OK.</summary>
    public int? Code { get; init; }

    /// <summary>A developer-facing message.</summary>
    public string? Message { get; init; }

    /// <summary>Error details, as JSON.</summary>
    public JsonElement? Details { get; init; }
}

/// <summary>Who made an audited call.</summary>
public sealed record AuthenticationInfo
{
    /// <summary>The caller's email, e.g. a service account.</summary>
    public string? PrincipalEmail { get; init; }

    /// <summary>The caller's subject, e.g. <c>user:someone@example.com</c>.</summary>
    public string? PrincipalSubject { get; init; }

    /// <summary>The service account key used, if any.</summary>
    public string? ServiceAccountKeyName { get; init; }

    /// <summary>The authority selector, if any.</summary>
    public string? AuthoritySelector { get; init; }
}

/// <summary>One authorization check of an audited call.</summary>
public sealed record AuthorizationInfo
{
    /// <summary>The resource checked.</summary>
    public string? Resource { get; init; }

    /// <summary>The permission checked.</summary>
    public string? Permission { get; init; }

    /// <summary>Whether it was granted.</summary>
    public bool? Granted { get; init; }
}

/// <summary>Where an audited call came from.</summary>
public sealed record RequestMetadata
{
    /// <summary>The caller's IP address.</summary>
    public string? CallerIp { get; init; }

    /// <summary>The caller's user agent.</summary>
    public string? CallerSuppliedUserAgent { get; init; }

    /// <summary>The caller's network.</summary>
    public string? CallerNetwork { get; init; }
}

/// <summary>Reads a LogSeverity given as its name or its number.</summary>
internal sealed class LogSeverityConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number when reader.TryGetInt32(out var number) => number switch
        {
            0 => "DEFAULT",
            100 => "DEBUG",
            200 => "INFO",
            300 => "NOTICE",
            400 => "WARNING",
            500 => "ERROR",
            600 => "CRITICAL",
            700 => "ALERT",
            800 => "EMERGENCY",
            _ => throw new JsonException($"{number} is not a LogSeverity (0, 100, 200... 800)."),
        },
        _ => throw new JsonException($"A LogSeverity is a name or a number, not {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
