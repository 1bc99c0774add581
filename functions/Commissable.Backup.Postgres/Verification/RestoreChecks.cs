using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Postgres.Inspection;
using Npgsql;
using static Commissable.Backup.Postgres.Inspection.InspectionSession;

namespace Commissable.Backup.Postgres.Verification;

/// <summary>
/// The smoke checks of a restored database: is it what the manifest says the source held, and can
/// the application use it. Each check reads schema <c>public</c> of the restored database; all of
/// them run in one read-only REPEATABLE READ snapshot.
/// </summary>
/// <remarks>
/// <para>
/// The results come in the order of <see cref="All"/> (checks not selected in
/// <see cref="VerificationOptions.Checks"/> are left out), each with a stable name and a detail an
/// operator can act on. A check never throws: one that cannot run (a table it needs is gone, a
/// permission is missing, the database is unreachable) is a failed result whose detail starts with
/// "could not run:" and carries the reason. Only cancellation and invalid arguments throw.
/// </para>
/// <para>
/// What the manifest did not record it cannot prove, and a missing field is not evidence of a bad
/// restore: automated backup runs have no snapshot at all, and must still be verifiable. So a
/// check that compares with a field the snapshot lacks passes with a detail that starts with
/// "not recorded in the manifest" and says what was found. A check fails only when the restored
/// database contradicts the manifest or is unusable on its own terms. "Lacks" means: a null
/// snapshot; a null <see cref="DatabaseSnapshot.MigrationHead"/> (<c>migrations.head</c>); a null
/// <see cref="DatabaseSnapshot.SchemaFingerprint"/> (<c>schema.fingerprint</c>); an empty
/// <see cref="DatabaseSnapshot.RowCounts"/> (<c>rows.counts</c>, and <c>tenants.same</c> when
/// <see cref="DatabaseSnapshot.TenantIds"/> is empty as well: a reading of a database with tables
/// always has counts, so empty counts mean nothing was read). The checks that need no manifest
/// (<c>migrations.finished</c>, <c>sequences.ahead</c>, <c>tables.critical</c>) always run.
/// </para>
/// </remarks>
public static class RestoreChecks
{
    /// <summary>Every <c>_prisma_migrations</c> row finished, none rolled back (unless applied again since).</summary>
    public const string MigrationsFinished = "migrations.finished";

    /// <summary>The latest finished, not rolled back migration equals the manifest's.</summary>
    public const string MigrationsHead = "migrations.head";

    /// <summary>The SHA-256 of the restored schema's <see cref="SchemaFingerprint"/> equals the manifest's.</summary>
    public const string SchemaFingerprintCheck = "schema.fingerprint";

    /// <summary>Every table's row count equals the manifest's, within the configured tolerance; no table missing or extra.</summary>
    public const string RowCounts = "rows.counts";

    /// <summary>
    /// The tenant ids found in the business tables are the manifest's (and, with
    /// <see cref="VerificationOptions.RequireTenants"/>, there is at least one).
    /// </summary>
    public const string TenantsSame = "tenants.same";

    /// <summary>Every column-owned sequence would hand out a value past its column's values.</summary>
    public const string SequencesAhead = "sequences.ahead";

    /// <summary>Every configured critical table exists and has rows.</summary>
    public const string TablesCritical = "tables.critical";

    /// <summary>The names of all checks, in the order they run and are reported.</summary>
    public static IReadOnlyList<string> All { get; } =
        [MigrationsFinished, MigrationsHead, SchemaFingerprintCheck, RowCounts, TenantsSame, SequencesAhead, TablesCritical];

    /// <summary>How many offending items a detail names before "and N more".</summary>
    private const int MaxListed = 10;

    /// <summary>Runs the selected checks against a restored database.</summary>
    /// <param name="recorded">What the manifest recorded of the source; null when nothing was (backup runs).</param>
    /// <param name="restored">The restored, scratch database. It is only read.</param>
    /// <param name="options">Tolerance, critical tables and which checks; null for <see cref="VerificationOptions.Default"/>.</param>
    /// <param name="sourceFingerprintLines">
    /// Optional: the source's <see cref="SchemaFingerprint.Lines"/> (from
    /// <see cref="DatabaseSnapshotReader.ReadWithFingerprintAsync"/>). When given, a failed
    /// <c>schema.fingerprint</c> names the objects that differ instead of only the two hashes.
    /// </param>
    /// <param name="cancellationToken">Stops the checks; the only way this method throws once arguments are valid.</param>
    /// <returns>One result per selected check, in the order of <see cref="All"/>.</returns>
    /// <exception cref="ArgumentException">Invalid options (see <see cref="VerificationOptions"/>).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static async Task<IReadOnlyList<CheckResult>> RunAsync(
        DatabaseSnapshot? recorded,
        NpgsqlDataSource restored,
        VerificationOptions? options = null,
        IReadOnlyList<string>? sourceFingerprintLines = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(restored);
        options ??= VerificationOptions.Default;
        options.Validate();
        var selected = All.Where(options.Runs).ToList();
        var results = new List<CheckResult>(selected.Count);
        var run = new Run(recorded, options, sourceFingerprintLines);
        try
        {
            await InspectionSession.RunAsync(restored, async (connection, ct) =>
            {
                foreach (var name in selected)
                {
                    var (result, broken) = await run.GuardedAsync(connection, name, ct).ConfigureAwait(false);
                    results.Add(result);
                    if (broken is not null)
                    {
                        // The session cannot recover (connection lost): the remaining checks fail with this reason.
                        throw broken;
                    }
                }
                return results;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = "could not run: could not read the restored database: " + Describe(e);
            results.AddRange(selected.Skip(results.Count).Select(name => new CheckResult(name, false, reason)));
        }
        return results;
    }

    /// <summary>One exception as one line of words, without a stack trace.</summary>
    private static string Describe(Exception e)
    {
        var text = e switch
        {
            PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
            _ when e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) => $"{e.Message} ({inner.Message})",
            _ => e.Message,
        };
        text = text.ReplaceLineEndings(" ");
        return text.Length <= 500 ? text : text[..500] + "…";
    }

    /// <summary>"a; b; c; and 4 more", naming at most <see cref="MaxListed"/>.</summary>
    private static string Listed(IReadOnlyCollection<string> items, int max = MaxListed)
    {
        var shown = string.Join("; ", items.Take(max));
        return items.Count > max ? string.Create(CultureInfo.InvariantCulture, $"{shown}; and {items.Count - max} more") : shown;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>One run's state: the census is read once and shared by the two checks that need it.</summary>
    private sealed class Run(DatabaseSnapshot? recorded, VerificationOptions options, IReadOnlyList<string>? sourceFingerprintLines)
    {
        private const string Savepoint = "restore_check";
        private TenantCensus? _census;

        /// <summary>
        /// Runs one check inside a savepoint, so a statement that fails (a missing table) does not
        /// abort the snapshot the other checks read. Returns the exception that broke the session
        /// when even rolling back to the savepoint failed.
        /// </summary>
        public async Task<(CheckResult Result, Exception? Broken)> GuardedAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
        {
            await ExecuteAsync(connection, $"SAVEPOINT {Savepoint}", cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await CheckAsync(connection, name, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"RELEASE SAVEPOINT {Savepoint}", cancellationToken).ConfigureAwait(false);
                return (result, null);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                var failed = new CheckResult(name, false, "could not run: " + Describe(e));
                try
                {
                    await ExecuteAsync(connection, $"ROLLBACK TO SAVEPOINT {Savepoint}", cancellationToken).ConfigureAwait(false);
                    return (failed, null);
                }
                catch (Exception rollback) when (!cancellationToken.IsCancellationRequested)
                {
                    return (failed, rollback);
                }
            }
        }

        private Task<CheckResult> CheckAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken) => name switch
        {
            MigrationsFinished => MigrationsFinishedAsync(connection, cancellationToken),
            MigrationsHead => MigrationsHeadAsync(connection, cancellationToken),
            SchemaFingerprintCheck => SchemaFingerprintAsync(connection, cancellationToken),
            RowCounts => RowCountsAsync(connection, cancellationToken),
            TenantsSame => TenantsSameAsync(connection, cancellationToken),
            SequencesAhead => SequencesAheadAsync(connection, cancellationToken),
            TablesCritical => TablesCriticalAsync(connection, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown check"),
        };

        private async Task<CheckResult> MigrationsFinishedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            var head = await MigrationHead.ReadAsync(connection, RowCounter.Schema, cancellationToken).ConfigureAwait(false);
            if (!head.TableExists)
            {
                return recorded?.MigrationHead is { } expected
                    ? new(MigrationsFinished, false, $"no {MigrationHead.TableName} table, but the manifest records head {expected}")
                    : new(MigrationsFinished, true, $"no {MigrationHead.TableName} table (not a Prisma database): nothing to check");
            }

            var rows = await QueryAsync(connection, $"""
                SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL
                FROM {Quote(RowCounter.Schema)}.{Quote(MigrationHead.TableName)}
                WHERE finished_at IS NULL OR rolled_back_at IS NOT NULL
                ORDER BY migration_name COLLATE "C", started_at
                """, cancellationToken).ConfigureAwait(false);
            var applied = head.Applied.ToHashSet(StringComparer.Ordinal);
            var offending = new List<string>();
            var resolved = new List<string>();
            foreach (var row in rows)
            {
                var (migration, finished, rolledBack) = ((string)row[0]!, (bool)row[1]!, (bool)row[2]!);
                if (!rolledBack && !finished)
                {
                    offending.Add($"{migration} not finished (failed or still running)");
                }
                else if (applied.Contains(migration))
                {
                    // prisma migrate resolve --rolled-back, then deploy again: the history Prisma itself accepts.
                    resolved.Add(migration);
                }
                else
                {
                    offending.Add($"{migration} rolled back and not applied again");
                }
            }
            if (offending.Count > 0)
            {
                return new(MigrationsFinished, false, string.Create(CultureInfo.InvariantCulture,
                    $"{offending.Count} migration row(s) not cleanly applied: {Listed(offending)}"));
            }
            var detail = string.Create(CultureInfo.InvariantCulture, $"{head.Applied.Count} migrations applied, none unfinished or rolled back");
            return new(MigrationsFinished, true, resolved.Count == 0
                ? detail
                : string.Create(CultureInfo.InvariantCulture, $"{head.Applied.Count} migrations applied, none unfinished; rolled back then applied again: {Listed(resolved.Distinct(StringComparer.Ordinal).ToList())}"));
        }

        private async Task<CheckResult> MigrationsHeadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            var head = await MigrationHead.ReadAsync(connection, RowCounter.Schema, cancellationToken).ConfigureAwait(false);
            var found = head switch
            {
                { TableExists: false } => $"no {MigrationHead.TableName} table",
                { Latest: null } => "no applied migration",
                _ => string.Create(CultureInfo.InvariantCulture, $"{head.Latest} ({head.Applied.Count} applied)"),
            };
            if (recorded?.MigrationHead is not { } expected)
            {
                return new(MigrationsHead, true, $"not recorded in the manifest; found {found}");
            }
            var expectedText = recorded.AppliedMigrations > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{expected} ({recorded.AppliedMigrations} applied)")
                : expected;
            return string.Equals(head.Latest, expected, StringComparison.Ordinal)
                ? new(MigrationsHead, true, found)
                : new(MigrationsHead, false, $"expected {expectedText}, found {found}");
        }

        private async Task<CheckResult> SchemaFingerprintAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            var fingerprint = await SchemaFingerprint.CaptureAsync(connection, InspectionScope.PublicSchema, cancellationToken).ConfigureAwait(false);
            if (recorded?.SchemaFingerprint is not { } expected)
            {
                return new(SchemaFingerprintCheck, true, $"not recorded in the manifest; found sha256 {fingerprint.Sha256}");
            }
            if (string.Equals(fingerprint.Sha256, expected, StringComparison.OrdinalIgnoreCase))
            {
                return new(SchemaFingerprintCheck, true, $"sha256 {fingerprint.Sha256}, as recorded");
            }
            if (sourceFingerprintLines is null)
            {
                return new(SchemaFingerprintCheck, false,
                    $"expected sha256 {expected}, found {fingerprint.Sha256} (the source's fingerprint lines would say which objects differ)");
            }

            var differences = FingerprintDifferences(sourceFingerprintLines, fingerprint.Lines);
            var linesHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(sourceFingerprintLines.Select(l => l + "\n")))));
            var caveat = string.Equals(linesHash, expected, StringComparison.OrdinalIgnoreCase)
                ? ""
                : $" (the source lines supplied hash to {linesHash}, not the manifest's {expected}: they may describe another database)";
            return new(SchemaFingerprintCheck, false, differences.Count == 0
                ? $"expected sha256 {expected}, found {fingerprint.Sha256}; the supplied source lines match the restore{caveat}"
                : string.Create(CultureInfo.InvariantCulture, $"expected sha256 {expected}, found {fingerprint.Sha256}; differences: {Listed(differences)}{caveat}"));
        }

        /// <summary>
        /// What differs, by object: an object that exists on one side only is one entry with its
        /// number of lines (a dropped table is one finding, not twenty); otherwise each differing
        /// line of the object is an entry.
        /// </summary>
        private static List<string> FingerprintDifferences(IReadOnlyList<string> sourceLines, IReadOnlyList<string> restoredLines)
        {
            var source = sourceLines.ToHashSet(StringComparer.Ordinal);
            var restored = restoredLines.ToHashSet(StringComparer.Ordinal);
            var sourceObjects = source.GroupBy(ObjectOf, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var restoredObjects = restored.GroupBy(ObjectOf, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var changed = source.Where(l => !restored.Contains(l)).Select(l => (Line: l, Side: "only in the source"))
                .Concat(restored.Where(l => !source.Contains(l)).Select(l => (Line: l, Side: "only in the restore")))
                .GroupBy(d => ObjectOf(d.Line), StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal);
            var entries = new List<string>();
            foreach (var group in changed)
            {
                var inSource = sourceObjects.GetValueOrDefault(group.Key);
                var inRestore = restoredObjects.GetValueOrDefault(group.Key);
                if (inRestore == 0)
                {
                    entries.Add(string.Create(CultureInfo.InvariantCulture, $"{group.Key}: only in the source ({inSource} lines)"));
                }
                else if (inSource == 0)
                {
                    entries.Add(string.Create(CultureInfo.InvariantCulture, $"{group.Key}: only in the restore ({inRestore} lines)"));
                }
                else
                {
                    entries.AddRange(group.OrderBy(d => d.Line, StringComparer.Ordinal)
                        .Select(d => $"{group.Key}: {d.Side}: {Shorten(d.Line[Math.Min(group.Key.Length + 1, d.Line.Length)..])}"));
                }
            }
            return entries;

            static string Shorten(string line) => line.Length <= 240 ? line : line[..240] + "…";
        }

        /// <summary>
        /// The object a fingerprint line belongs to: its leading qualified name (identifiers are
        /// quoted where needed, so only a space outside quotes ends it), or <c>extension name</c> /
        /// <c>schema name</c> for those lines.
        /// </summary>
        private static string ObjectOf(string line)
        {
            var end = NameEnd(line, 0);
            var first = line[..end];
            return first is "extension" or "schema" && end < line.Length ? line[..NameEnd(line, end + 1)] : first;

            static int NameEnd(string text, int from)
            {
                var quoted = false;
                for (var i = from; i < text.Length; i++)
                {
                    if (text[i] == '"') quoted = !quoted;
                    else if (text[i] == ' ' && !quoted) return i;
                }
                return text.Length;
            }
        }

        private async Task<CheckResult> RowCountsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            var census = await CensusAsync(connection, cancellationToken).ConfigureAwait(false);
            var found = await RowCounter.CountAsync(connection, census, cancellationToken).ConfigureAwait(false);
            if (recorded is null || recorded.RowCounts.Count == 0)
            {
                return new(RowCounts, true, string.Create(CultureInfo.InvariantCulture,
                    $"not recorded in the manifest; found {found.Count} tables, {N(found.Values.Sum())} rows"));
            }

            var off = new List<string>();
            var names = recorded.RowCounts.Keys.Concat(found.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var inexact = 0;
            foreach (var name in names)
            {
                var hasExpected = recorded.RowCounts.TryGetValue(name, out var expected);
                var hasFound = found.TryGetValue(name, out var actual);
                if (!hasFound)
                {
                    off.Add(string.Create(CultureInfo.InvariantCulture, $"{Quote(name)} missing (recorded {N(expected)} rows)"));
                }
                else if (!hasExpected)
                {
                    off.Add(string.Create(CultureInfo.InvariantCulture, $"{Quote(name)} not in the manifest ({N(actual)} rows)"));
                }
                else if (!options.IsWithinTolerance(expected, actual))
                {
                    off.Add(string.Create(CultureInfo.InvariantCulture, $"{Quote(name)} expected {N(expected)}, found {N(actual)} ({actual - expected:+#,0;-#,0})"));
                }
                else if (expected != actual)
                {
                    inexact++;
                }
            }
            var tolerance = Tolerance();
            if (off.Count > 0)
            {
                return new(RowCounts, false, string.Create(CultureInfo.InvariantCulture,
                    $"{off.Count} of {names.Count} tables off{tolerance}: {Listed(off)}"));
            }
            return new(RowCounts, true, inexact == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{found.Count} tables, {N(found.Values.Sum())} rows, as recorded")
                : string.Create(CultureInfo.InvariantCulture, $"{found.Count} tables, {N(found.Values.Sum())} rows; {inexact} differ from the manifest within the tolerance{tolerance}"));
        }

        private string Tolerance()
        {
            var parts = new List<string>();
            if (options.RowCountToleranceFraction > 0)
            {
                parts.Add((options.RowCountToleranceFraction * 100).ToString("0.####", CultureInfo.InvariantCulture) + " %");
            }
            if (options.RowCountToleranceRows > 0)
            {
                parts.Add(N(options.RowCountToleranceRows) + " rows");
            }
            return parts.Count == 0 ? "" : $" (tolerance {string.Join(" or ", parts)})";
        }

        private async Task<CheckResult> TenantsSameAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            var found = (await CensusAsync(connection, cancellationToken).ConfigureAwait(false)).TenantIds;
            if (options.RequireTenants && found.Count == 0)
            {
                return new(TenantsSame, false, $"no tenants: no business table in {RowCounter.Schema} has a {Quote(options.TenantColumn)} value (an empty database, or not the CRM's)");
            }
            if (recorded is null || (recorded.RowCounts.Count == 0 && recorded.TenantIds.Count == 0))
            {
                return new(TenantsSame, true, string.Create(CultureInfo.InvariantCulture, $"not recorded in the manifest; found {found.Count} tenants"));
            }
            var expected = recorded.TenantIds.ToHashSet(StringComparer.Ordinal);
            var foundSet = found.ToHashSet(StringComparer.Ordinal);
            var missing = expected.Where(t => !foundSet.Contains(t)).Order(StringComparer.Ordinal).ToList();
            var extra = found.Where(t => !expected.Contains(t)).ToList();
            if (missing.Count == 0 && extra.Count == 0)
            {
                return new(TenantsSame, true, string.Create(CultureInfo.InvariantCulture, $"{found.Count} tenants, as recorded"));
            }
            var parts = new List<string>();
            if (missing.Count > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{missing.Count} of {expected.Count} recorded tenants missing ({Listed(missing, 5)})"));
            }
            if (extra.Count > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{extra.Count} tenants not in the manifest ({Listed(extra, 5)})"));
            }
            return new(TenantsSame, false, string.Join("; ", parts));
        }

        private static async Task<CheckResult> SequencesAheadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            var check = await SequenceCheck.RunAsync(connection, InspectionScope.PublicSchema, cancellationToken).ConfigureAwait(false);
            return check.Passed
                ? new(SequencesAhead, true, string.Create(CultureInfo.InvariantCulture, $"{check.Sequences.Count} owned sequences ahead of their columns"))
                : new(SequencesAhead, false, string.Create(CultureInfo.InvariantCulture,
                    $"{check.Behind.Count} of {check.Sequences.Count} sequences behind their column (the next insert would collide): {Listed(check.Behind.Select(s => s.ToString()).ToList())}"));
        }

        private async Task<CheckResult> TablesCriticalAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            var wanted = options.CriticalTables.Distinct(StringComparer.Ordinal).ToList();
            if (wanted.Count == 0)
            {
                return new(TablesCritical, true, "no critical tables configured");
            }
            var existing = new HashSet<string>(StringComparer.Ordinal);
            await using (var find = new NpgsqlCommand("""
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($2)
                """, connection))
            {
                find.Parameters.Add(new NpgsqlParameter { Value = RowCounter.Schema });
                find.Parameters.Add(new NpgsqlParameter { Value = wanted.ToArray() });
                await using var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    existing.Add(reader.GetString(0));
                }
            }
            var missing = wanted.Where(t => !existing.Contains(t)).Select(t => Quote(t)).ToList();
            var empty = new List<string>();
            foreach (var table in wanted.Where(existing.Contains))
            {
                await using var probe = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {Quote(RowCounter.Schema)}.{Quote(table)})", connection);
                if (!(bool)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
                {
                    empty.Add(Quote(table));
                }
            }
            if (missing.Count == 0 && empty.Count == 0)
            {
                return new(TablesCritical, true, string.Create(CultureInfo.InvariantCulture, $"{wanted.Count} critical tables present, none empty"));
            }
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing: {Listed(missing)}");
            if (empty.Count > 0) parts.Add($"empty: {Listed(empty)}");
            return new(TablesCritical, false, string.Create(CultureInfo.InvariantCulture,
                $"{missing.Count + empty.Count} of {wanted.Count} critical tables unusable; {string.Join("; ", parts)}"));
        }

        private async Task<TenantCensus> CensusAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
            _census ??= await TenantCensus.TakeAsync(connection, InspectionScope.PublicSchema, options.TenantColumn, cancellationToken).ConfigureAwait(false);

        private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
