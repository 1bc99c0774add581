namespace Commissable.Backup.Core.Backups;

/// <summary>
/// What an approver of a point-in-time restore is shown before the swap: the restored database
/// against the newest backup manifest taken before the point in time (<see cref="Backup"/>), and
/// against the source instance as it is now (<see cref="Production"/>). Evidence, not a check: a
/// restore to a point in time differs from production by design, so nothing here passes or fails
/// the verification; it says what differs so a human can decide.
/// </summary>
/// <remarks>
/// Counts, table names, tenant ids and migration names only: never a row value.
/// </remarks>
public sealed record RecoveryEvidence
{
    /// <summary>The moment the database was restored to (a point in time, or a backup run's end).</summary>
    public required DateTimeOffset PointInTime { get; init; }

    /// <summary>The restored database against the newest manifest before <see cref="PointInTime"/>.</summary>
    public required BackupEvidence Backup { get; init; }

    /// <summary>The restored database against the source instance now.</summary>
    public required ProductionEvidence Production { get; init; }

    /// <summary>
    /// The difference table, rendered for a log line or an approval message: a header
    /// <c>table  tenant  restored  production  difference</c>, one line per table or (table, tenant)
    /// whose counts differ, and a total; or, when production could not be read, the sentence that
    /// says why. Several lines.
    /// </summary>
    public required string Table { get; init; }

    /// <summary>What the approver reads: one line about the backup, one about production, then <see cref="Table"/>.</summary>
    public required string Text { get; init; }
}

/// <summary>The restored database against the newest manifest of the source taken before the point in time.</summary>
public sealed record BackupEvidence
{
    /// <summary>False when no manifest of the source that records contents ended before the point in time.</summary>
    public required bool Found { get; init; }

    /// <summary>The backup's <c>gs://</c> URI; null when none was found.</summary>
    public string? Uri { get; init; }

    /// <summary>The backup's kind (<c>pre-deploy-export</c>, <c>scheduled-export</c>, ...).</summary>
    public string? Kind { get; init; }

    /// <summary>When the backup ended.</summary>
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>
    /// What of the manifest was compared: <c>content</c> (its content manifest, read from the
    /// backup's bytes), <c>snapshot</c> (a snapshot of the source read before the export, in
    /// manifests written before content manifests existed), or null when none was found.
    /// </summary>
    public string? Basis { get; init; }

    /// <summary>Tables of <c>public</c> the backup holds and the restored database does not (unquoted names).</summary>
    public IReadOnlyList<string> TablesMissing { get; init; } = [];

    /// <summary>Tables of <c>public</c> the restored database holds and the backup does not.</summary>
    public IReadOnlyList<string> TablesExtra { get; init; } = [];

    /// <summary>Tables in both whose column lists differ (from a content manifest only).</summary>
    public IReadOnlyList<string> ColumnsDiffer { get; init; } = [];

    /// <summary>The backup's Prisma migration head; null when it has none.</summary>
    public string? MigrationHeadBackup { get; init; }

    /// <summary>The restored database's Prisma migration head; null when it has none.</summary>
    public string? MigrationHeadRestored { get; init; }

    /// <summary>
    /// <c>equal</c> or <c>differs</c> when the schema fingerprints were compared; <c>not compared</c>
    /// when the manifest's fingerprint is of another kind (a content manifest's is of the dump's
    /// DDL, which a live database does not have) or absent. The migration head is compared either way.
    /// </summary>
    public string? Schema { get; init; }

    /// <summary>The finding in words, one line.</summary>
    public required string Detail { get; init; }
}

/// <summary>The restored database against the source instance as it is now.</summary>
public sealed record ProductionEvidence
{
    /// <summary>Whether the source's database could be read (reachable with the inspector's login).</summary>
    public required bool Read { get; init; }

    /// <summary>Why it could not be read; null when it was.</summary>
    public string? Reason { get; init; }

    /// <summary>Rows over every table of <c>public</c> in the restored database.</summary>
    public long? RestoredRows { get; init; }

    /// <summary>Rows over every table of <c>public</c> in production now.</summary>
    public long? ProductionRows { get; init; }

    /// <summary><see cref="RestoredRows"/> minus <see cref="ProductionRows"/>.</summary>
    public long? Difference { get; init; }

    /// <summary>Tables compared (in either database).</summary>
    public int Tables { get; init; }

    /// <summary>Distinct tenant ids in the restored database (tables with the tenant column).</summary>
    public int TenantsRestored { get; init; }

    /// <summary>Distinct tenant ids in production now.</summary>
    public int TenantsProduction { get; init; }

    /// <summary>Production's Prisma migration head now; null when it has none or was not read.</summary>
    public string? MigrationHead { get; init; }

    /// <summary>
    /// The tables, and (table, tenant) pairs, whose counts differ: at most a bounded number, the
    /// largest differences kept; <see cref="OmittedLines"/> says how many more there were.
    /// </summary>
    public IReadOnlyList<RowDifference> Differences { get; init; } = [];

    /// <summary>Lines that differ but were left out of <see cref="Differences"/> to bound its size.</summary>
    public int OmittedLines { get; init; }

    /// <summary>The finding in words, one line.</summary>
    public required string Detail { get; init; }
}

/// <summary>One line of the difference table.</summary>
/// <param name="Table">Table of <c>public</c>, unquoted.</param>
/// <param name="Tenant">
/// Null for the whole table; else a tenant id, or <c>\N</c> for rows whose tenant column is NULL
/// (the COPY text of NULL, as <see cref="TableContent.Tenants"/> keys it).
/// </param>
/// <param name="Restored">Rows in the restored database; null when the table is not there.</param>
/// <param name="Production">Rows in production now; null when the table is not there.</param>
/// <param name="Difference">Restored minus production (an absent table counts 0).</param>
public sealed record RowDifference(string Table, string? Tenant, long? Restored, long? Production, long Difference);
