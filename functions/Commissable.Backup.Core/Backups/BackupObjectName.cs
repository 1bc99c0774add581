using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Naming;

namespace Commissable.Backup.Core.Backups;

/// <summary>
/// The strategy's names for backups: <c>&lt;prefix&gt;/&lt;env&gt;/&lt;instance&gt;/backup_YYYYMMDD_HHmm_&lt;env&gt;_&lt;label&gt;&lt;extension&gt;</c>,
/// where the label is <c>before_&lt;change&gt;</c> for pre-deploy exports. Beside each backup the
/// catalog keeps <c>&lt;name&gt;.manifest.json</c> (its presence marks the backup complete),
/// verification records under <c>&lt;name&gt;.verifications/</c> and holds under <c>&lt;name&gt;.holds/</c>.
/// </summary>
public sealed partial record BackupObjectName
{
    public const string ManifestSuffix = ".manifest.json";
    public const string VerificationsSuffix = ".verifications/";
    public const string HoldsSuffix = ".holds/";

    public required string Prefix { get; init; }
    public required string Environment { get; init; }
    public required string Instance { get; init; }
    /// <summary>The minute the backup was started, UTC.</summary>
    public required DateTimeOffset Time { get; init; }
    /// <summary><c>before_&lt;change&gt;</c>, or a kind such as <c>scheduled</c>.</summary>
    public required string Label { get; init; }
    /// <summary><c>.sql.gz</c>, <c>.sql</c>, <c>.dump</c>, or empty for a directory-format export.</summary>
    public required string Extension { get; init; }

    public static BackupObjectName PreDeploy(string prefix, string environment, string instance, DateTimeOffset time, string change, string extension = ".sql.gz")
    {
        if (ChangeSlug.Problem(change) is { } problem) throw new ArgumentException(problem, nameof(change));
        return new BackupObjectName { Prefix = prefix, Environment = environment, Instance = instance, Time = Minute(time), Label = $"before_{change}", Extension = extension };
    }

    /// <summary>The object name (no bucket).</summary>
    public string Name => $"{Prefix.TrimEnd('/')}/{Environment}/{Instance}/{FileName}";

    /// <summary>
    /// The last segment of <see cref="Name"/>, <c>backup_YYYYMMDD_HHmm_&lt;env&gt;_&lt;label&gt;&lt;extension&gt;</c>:
    /// also the name of a dump kept on an operator's machine (strategy 5.2).
    /// </summary>
    public string FileName => string.Create(CultureInfo.InvariantCulture,
        $"backup_{Time.UtcDateTime:yyyyMMdd_HHmm}_{Environment}_{Label}{Extension}");

    public string ManifestName => Name + ManifestSuffix;
    public string VerificationsPrefix => Name + VerificationsSuffix;
    public string HoldsPrefix => Name + HoldsSuffix;

    /// <summary>The change of a pre-deploy export, or null.</summary>
    public string? Change => Label.StartsWith("before_", StringComparison.Ordinal) ? Label["before_".Length..] : null;

    /// <summary>Reads a name the strategy's way; false for anything else (never a backup then).</summary>
    public static bool TryParse(string name, string prefix, out BackupObjectName? parsed)
    {
        parsed = null;
        var root = prefix.TrimEnd('/') + "/";
        if (!name.StartsWith(root, StringComparison.Ordinal)) return false;
        var match = NameRegex().Match(name[root.Length..]);
        if (!match.Success || match.Groups["env"].Value != match.Groups["env2"].Value) return false;
        if (!DateTime.TryParseExact(match.Groups["time"].Value, "yyyyMMdd_HHmm", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
        {
            return false;
        }
        var label = match.Groups["label"].Value;
        if (label.StartsWith("before_", StringComparison.Ordinal) && !ChangeSlug.IsValid(label["before_".Length..])) return false;
        if (!CloudNames.IsInstance(match.Groups["instance"].Value)) return false;
        parsed = new BackupObjectName
        {
            Prefix = prefix.TrimEnd('/'),
            Environment = match.Groups["env"].Value,
            Instance = match.Groups["instance"].Value,
            Time = new DateTimeOffset(time, TimeSpan.Zero),
            Label = label,
            Extension = match.Groups["ext"].Value,
        };
        return true;
    }

    private static DateTimeOffset Minute(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero);
    }

    // The instance segment is checked by CloudNames, its one rule, after the match.
    [GeneratedRegex(@"\A(?<env>[a-z0-9-]{1,30})/(?<instance>[^/]{1,98})/backup_(?<time>\d{8}_\d{4})_(?<env2>[a-z0-9-]{1,30})_(?<label>(before_[a-z0-9][a-z0-9-]{0,62})|[a-z0-9-]{1,40})(?<ext>\.sql\.gz|\.sql|\.dump)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
