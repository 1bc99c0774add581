using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Commissable.Backup.Core.Naming;

/// <summary>
/// The names Google defines (Cloud SQL instances, databases, users; projects; buckets), each rule
/// once. A name that fails here never becomes a path, a URL segment, an SQL identifier or a tool
/// argument. Every pattern is anchored at the true end of the text (<c>\z</c>): .NET's <c>$</c>
/// also matches before a final newline, so <c>"prod\n"</c> would pass a <c>$</c>-anchored rule.
/// </summary>
public static partial class CloudNames
{
    /// <summary>
    /// Cloud SQL instance IDs: lowercase letters, digits and '-', starting with a letter, not
    /// ending with '-', at most 98 characters.
    /// </summary>
    public static bool IsInstance([NotNullWhen(true)] string? value) => value is not null && InstancePattern().IsMatch(value);

    /// <summary>
    /// Database names: a letter or '_', then letters, digits, '_', '-' and '$', at most 63 characters
    /// (PostgreSQL's identifier length). Never '.', '..', a space, '=', a quote or a control character,
    /// so a name can be neither a relative path nor read by a tool as a connection string.
    /// </summary>
    public static bool IsDatabase([NotNullWhen(true)] string? value) => value is not null && DatabasePattern().IsMatch(value);

    /// <summary>
    /// Database user names: a letter or '_', then letters, digits, '_', '-', '.', '@' and '$' (IAM users
    /// are <c>name@project.iam</c>), at most 63 characters.
    /// </summary>
    public static bool IsUser([NotNullWhen(true)] string? value) => value is not null && UserPattern().IsMatch(value);

    /// <summary>
    /// A plain SQL identifier: a letter or '_', then letters, digits and '_', at most 63 characters.
    /// What workflows/clone-prod-to-staging.yaml takes for the staging database and app user (its
    /// check_name steps), narrower than <see cref="IsDatabase"/> and <see cref="IsUser"/>.
    /// </summary>
    public static bool IsPlainIdentifier([NotNullWhen(true)] string? value) => value is not null && PlainIdentifierPattern().IsMatch(value);

    /// <summary>Project IDs, optionally domain-scoped (<c>example.com:my-project</c>): 6 to 30 characters after the domain.</summary>
    public static bool IsProject([NotNullWhen(true)] string? value) => value is not null && ProjectPattern().IsMatch(value);

    /// <summary>Bucket names: 3 to 63 characters, lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit.</summary>
    public static bool IsBucket([NotNullWhen(true)] string? value) =>
        value is not null && BucketPattern().IsMatch(value) && !value.Contains("..", StringComparison.Ordinal);

    /// <summary>Secret Manager secret IDs (the ID, not the resource name): 1 to 255 letters, digits, '_' and '-'.</summary>
    public static bool IsSecretId([NotNullWhen(true)] string? value) => value is not null && SecretIdPattern().IsMatch(value);

    /// <summary>Cloud SQL backup run IDs: the positive 64-bit integer <c>gcloud sql backups list</c> shows.</summary>
    public static bool IsBackupRunId([NotNullWhen(true)] string? value) =>
        value is not null && BackupRunIdPattern().IsMatch(value) && long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);

    /// <summary>Null when <paramref name="value"/> is an instance ID, else a message naming the field and what is accepted.</summary>
    public static string? InstanceProblem(string? value, string field = "instance") =>
        IsInstance(value) ? null
        : $"'{field}' must be a Cloud SQL instance ID: lowercase letters, digits and '-', starting with a letter and not ending with '-', at most 98 characters{Got(value)}.";

    /// <summary>Null when <paramref name="value"/> is a database name, else a message naming the field and what is accepted.</summary>
    public static string? DatabaseProblem(string? value, string field = "database") =>
        IsDatabase(value) ? null
        : $"'{field}' must be a database name: a letter or '_', then letters, digits, '_', '-' or '$', at most 63 characters{Got(value)}.";

    /// <summary>Null when <paramref name="value"/> is a user name, else a message naming the field and what is accepted.</summary>
    public static string? UserProblem(string? value, string field = "user") =>
        IsUser(value) ? null
        : $"'{field}' must be a database user name: a letter or '_', then letters, digits, '_', '-', '.', '@' or '$', at most 63 characters{Got(value)}.";

    /// <summary>Null when <paramref name="value"/> is a project ID, else a message naming the field and what is accepted.</summary>
    public static string? ProjectProblem(string? value, string field = "project") =>
        IsProject(value) ? null
        : $"'{field}' must be a project ID: 6 to 30 lowercase letters, digits and '-', starting with a letter, optionally after 'domain:'{Got(value)}.";

    /// <summary>Null when <paramref name="value"/> is a bucket name, else a message naming the field and what is accepted.</summary>
    public static string? BucketProblem(string? value, string field = "bucket") =>
        IsBucket(value) ? null
        : $"'{field}' must be a bucket name: 3 to 63 lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit{Got(value)}.";

    /// <summary>
    /// A value quoted for an error message: at most 100 characters, control characters shown as '?',
    /// so a hostile value cannot forge log lines or flood an answer.
    /// </summary>
    public static string Printable(string value) =>
        new(value.Take(100).Select(Visible).ToArray());

    /// <summary>
    /// A name or id as shown in a table: control characters as '?', so a value with a newline cannot
    /// forge a line; cut at <paramref name="width"/> characters, the last one '…'.
    /// </summary>
    public static string Printable(string value, int width)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var clean = new string([.. value.Select(Visible)]);
        return clean.Length <= width ? clean : clean[..(width - 1)] + "…";
    }

    private static char Visible(char c) => char.IsControl(c) ? '?' : c;

    private static string Got(string? value) => value switch
    {
        null => " (it is missing)",
        "" => " (it is empty)",
        _ => $" (got '{Printable(value)}')",
    };

    [GeneratedRegex(@"\A[a-z](?:[a-z0-9-]{0,96}[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex InstancePattern();

    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_$-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DatabasePattern();

    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_.@$-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex UserPattern();

    [GeneratedRegex(@"\A[A-Za-z_][A-Za-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainIdentifierPattern();

    [GeneratedRegex(@"\A(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectPattern();

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex BucketPattern();

    [GeneratedRegex(@"\A[A-Za-z0-9_-]{1,255}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SecretIdPattern();

    [GeneratedRegex(@"\A[1-9][0-9]{0,18}\z", RegexOptions.CultureInvariant)]
    private static partial Regex BackupRunIdPattern();
}
