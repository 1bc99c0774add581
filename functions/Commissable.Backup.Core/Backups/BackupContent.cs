namespace Commissable.Backup.Core.Backups;

/// <summary>
/// What a backup holds, read from the backup's own bytes in one streaming pass (its content
/// manifest): the evidence a restore is compared with. Everything here is in the backup's own
/// snapshot, so it agrees with the dump whatever was written to the source meanwhile.
/// </summary>
/// <remarks>
/// <para>
/// The canonical text of a row is its line in the dump's <c>COPY ... FROM stdin</c> block, exactly
/// as pg_dump printed it (its session settings: DateStyle ISO, IntervalStyle postgres,
/// extra_float_digits 3, and the <see cref="TimeZone"/> recorded here). A restored database is read
/// back with pg_dump under the same settings, so equal contents give equal text.
/// </para>
/// <para>
/// A digest (<see cref="DigestAlgorithm"/>) is the sum, modulo 2^128, of the 128-bit XxHash128
/// (seed 0) of every row's UTF-8 line without its newline, as 32 lowercase hex digits: it does
/// not depend on row order, counts duplicates, and changes with any changed, lost or extra row
/// except with a probability of about 2^-128 per accident. It is not a defence against an
/// adversary who can write both the backup and the manifest.
/// </para>
/// <para>
/// Names are as pg_dump prints them: a table <c>public."Contact"</c>, a sequence in
/// <c>setval</c>'s form <c>public."Contact_id_seq"</c>. No row value is ever stored here except
/// tenant ids (the keys of <see cref="TableContent.Tenants"/>) and Prisma migration names.
/// </para>
/// </remarks>
public sealed record BackupContent
{
    public const int CurrentVersion = 1;

    /// <summary>The digest every <see cref="TableContent.Digest"/> and <see cref="TenantContent.Digest"/> is made with.</summary>
    public const string Xxh128Sum = "xxh128-sum";

    public int Version { get; init; } = CurrentVersion;

    /// <summary>How the digests were made; <see cref="Xxh128Sum"/>.</summary>
    public string DigestAlgorithm { get; init; } = Xxh128Sum;

    /// <summary>The dump header's "Dumped by pg_dump version …", for example <c>15.8</c>; null when the header lacks it.</summary>
    public string? PgDumpVersion { get; init; }

    /// <summary>The dump header's "Dumped from database version …"; null when the header lacks it.</summary>
    public string? ServerVersion { get; init; }

    /// <summary>The session TimeZone the dump's text was written in (it decides how <c>timestamptz</c> prints).</summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>The tenant column the per-tenant digests were made for, unquoted (for example <c>tenantId</c>).</summary>
    public required string TenantColumn { get; init; }

    /// <summary>Every table the dump creates, keyed by its name as pg_dump prints it; partitioned parents included.</summary>
    public IReadOnlyDictionary<string, TableContent> Tables { get; init; } = new Dictionary<string, TableContent>();

    /// <summary>Every sequence position the dump sets (<c>SELECT pg_catalog.setval(…)</c>), keyed as in the call.</summary>
    public IReadOnlyDictionary<string, RecordedSequence> Sequences { get; init; } = new Dictionary<string, RecordedSequence>();

    /// <summary>The Prisma migration state from the dumped <c>_prisma_migrations</c> rows; null when the dump has no such table.</summary>
    public MigrationState? Migrations { get; init; }

    /// <summary>Lowercase hex SHA-256 of <see cref="SchemaObjects"/>, each followed by a newline.</summary>
    public required string SchemaFingerprint { get; init; }

    /// <summary>
    /// One line per schema statement of the dump (tables, columns, constraints, indexes, sequences,
    /// types, views, functions, triggers, policies, extensions; not ownership, privileges, comments,
    /// sequence positions or data), as <c>label sha256-16</c>: the label is the statement's start
    /// (it names the object and its table), the hash is of the whole normalised statement. Sorted
    /// ordinally, so a difference names the object.
    /// </summary>
    public IReadOnlyList<string> SchemaObjects { get; init; } = [];

    /// <summary>Extensions the dump creates, as <c>name in schema</c>, sorted.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];

    /// <summary>Materialized views the dump creates, and whether it populates them (a <c>REFRESH MATERIALIZED VIEW</c>).</summary>
    public IReadOnlyDictionary<string, bool> MaterializedViews { get; init; } = new Dictionary<string, bool>();

    /// <summary>Every <c>COMMENT ON</c> target (for example <c>TABLE public."Contact"</c>) and the SHA-256 (16 hex digits) of its text.</summary>
    public IReadOnlyDictionary<string, string> Comments { get; init; } = new Dictionary<string, string>();

    /// <summary>Total rows over the tables that hold data (partitioned parents not counted twice).</summary>
    public long TotalRows => Tables.Values.Where(t => !t.Partitioned).Sum(t => t.Rows);
}

/// <summary>One table of a <see cref="BackupContent"/>.</summary>
public sealed record TableContent
{
    /// <summary>Exact row count (for a partitioned parent, the sum over its partitions).</summary>
    public required long Rows { get; init; }

    /// <summary>Order-independent digest of the rows (<see cref="BackupContent.DigestAlgorithm"/>); a parent's is the sum of its partitions'.</summary>
    public required string Digest { get; init; }

    /// <summary>The dump's COPY column list, as printed (generated columns are not in it).</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>The partitioned table this one is a partition of, as pg_dump prints it; null when none.</summary>
    public string? PartitionOf { get; init; }

    /// <summary>True for a partitioned parent: it holds no rows of its own, its figures sum its partitions'.</summary>
    public bool Partitioned { get; init; }

    /// <summary>
    /// Where the table has the tenant column: rows and digest per tenant id (the column's COPY text
    /// unescaped; <c>\N</c> for NULL). Null when the table has no tenant column.
    /// </summary>
    public IReadOnlyDictionary<string, TenantContent>? Tenants { get; init; }
}

/// <summary>One tenant's rows in one table.</summary>
public sealed record TenantContent(long Rows, string Digest);

/// <summary>
/// The Prisma migration state of the dumped <c>_prisma_migrations</c> rows, by the rules of
/// <c>MigrationHead</c>: the head is the greatest (ordinal) name among finished, not rolled back rows.
/// </summary>
public sealed record MigrationState(string? Head, int Applied, int Unfinished, int RolledBack);
