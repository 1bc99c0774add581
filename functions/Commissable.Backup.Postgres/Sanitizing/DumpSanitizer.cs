using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Backups.Masking;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Npgsql;

namespace Commissable.Backup.Postgres.Sanitizing;

/// <summary>What <see cref="DumpSanitizer"/> makes and how.</summary>
public sealed record SanitizeOptions
{
    /// <summary>The masking rules, checked against the backup's schema before anything is created.</summary>
    public required MaskingRules Rules { get; init; }

    /// <summary>The pseudonyms' key holder (the caller disposes it).</summary>
    public required Pseudonyms Pseudonyms { get; init; }

    /// <summary>Tenants whose closure is kept; empty keeps every tenant.</summary>
    public IReadOnlyList<string> Tenants { get; init; } = [];

    /// <summary>The tenant column the tenants are found by.</summary>
    public string TenantColumn { get; init; } = "tenantId";

    /// <summary>Told what each stage did, one line each (never a value of the backup).</summary>
    public IProgress<string>? Progress { get; init; }

    /// <summary>The clock the manifest's times and the scratch database's name come from.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>What a sanitize made.</summary>
/// <param name="Output">The masked custom-format dump.</param>
/// <param name="ManifestPath">Its manifest, <c>OUTPUT.manifest.json</c>.</param>
/// <param name="Manifest">The manifest written.</param>
/// <param name="Masking">What the masking did.</param>
/// <param name="RowsDeleted">With tenants: rows deleted per closure table; empty without.</param>
/// <param name="ScratchDatabase">The scratch database used (dropped).</param>
public sealed record SanitizeResult(
    string Output,
    string ManifestPath,
    BackupManifest Manifest,
    MaskingReport Masking,
    IReadOnlyDictionary<string, long> RowsDeleted,
    string ScratchDatabase);

/// <summary>
/// Makes a masked copy of a backup for developers: the backup's SQL text
/// (<see cref="BackupObjectText.OpenFileAsync"/>) is masked on its way
/// (<see cref="DumpMasker"/>) into a scratch database created for it on a non-production server
/// (<see cref="DumpRestore.RestoreSqlAsync"/>, restricted psql), so that database never holds an
/// unmasked value of a masked column; optionally cut down to some tenants' closure
/// (<see cref="TenantSubset"/>); then dumped with <c>pg_dump --format=custom --no-owner
/// --no-privileges</c> into a new file (0600, written under a temporary name in a private directory
/// beside it and renamed; an existing file is never replaced), with its manifest beside it
/// (content manifest of the output itself, and what was masked). The scratch database is always dropped.
/// </summary>
public static class DumpSanitizer
{
    /// <summary>Where the manifest goes: beside the dump, <c>FILE.manifest.json</c>.</summary>
    public static string ManifestPathOf(string output) => output + BackupObjectName.ManifestSuffix;

    /// <param name="source">The backup on this machine (a file, or a directory-format dump's directory).</param>
    /// <param name="sourceShown">What the operator named (a gs:// URI or the file's full path), for the manifest.</param>
    /// <param name="sourceManifest">The backup's own manifest, when there is one (its instance and environment are carried over).</param>
    /// <param name="server">The server the scratch database is created on (never production: the caller checks).</param>
    /// <param name="maintenanceDatabase">A database of that server to connect to for CREATE and DROP DATABASE.</param>
    /// <param name="output">The new dump file; it must not exist.</param>
    /// <exception cref="MaskingRefusedException">The rules do not cover the backup (nothing is written; no scratch database is left).</exception>
    /// <exception cref="SanitizeRefusedException">The output exists, or a tenant is not in the backup.</exception>
    public static async Task<SanitizeResult> SanitizeAsync(string source, string sourceShown, BackupManifest? sourceManifest, DatabaseEndpoint server, string maintenanceDatabase,
        string output, SanitizeOptions options, PostgresBinaries tools, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(sourceShown);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrEmpty(maintenanceDatabase);
        ArgumentException.ThrowIfNullOrEmpty(output);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tools);
        output = Path.GetFullPath(output);
        var manifestPath = ManifestPathOf(output);
        RefuseExisting(output);
        RefuseExisting(manifestPath);
        var directory = Path.GetDirectoryName(output)!;
        if (!Directory.Exists(directory))
        {
            throw new SanitizeRefusedException($"the output's directory {directory} does not exist");
        }

        var started = options.Time.GetUtcNow();
        await using var text = await BackupObjectText.OpenFileAsync(source, tools, cancellationToken).ConfigureAwait(false);
        var masker = await DumpMasker.OpenAsync(text, options.Rules, options.Pseudonyms, cancellationToken).ConfigureAwait(false);
        options.Progress?.Report(string.Create(CultureInfo.InvariantCulture,
            $"rules checked against {masker.Schema.Tables.Count} tables: {options.Rules.Rules.Count} rules, every personal-looking column covered"));

        var scratch = string.Create(CultureInfo.InvariantCulture, $"sanitize_{started:yyyyMMdd_HHmmss}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        var work = new DirectoryInfo(OwnerOnly.CreateTempDirectory("commissable-sanitize-"));
        // The dump is written beside its final name (a rename never crosses file systems), in a private directory.
        var staging = Path.Combine(directory, $".{Path.GetFileName(output)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
        OwnerOnly.CreateDirectory(staging);
        var created = false;
        try
        {
            await ExecuteAsync(server, maintenanceDatabase, $"CREATE DATABASE \"{scratch}\" TEMPLATE template0", cancellationToken).ConfigureAwait(false);
            created = true;
            var clock = Stopwatch.StartNew();
            MaskingReport? written = null;
            await DumpRestore.RestoreSqlAsync(server, scratch,
                async (stdin, token) => written = await masker.WriteAsync(stdin, null, token).ConfigureAwait(false),
                new DumpRestoreOptions(), tools, cancellationToken).ConfigureAwait(false);
            var report = written ?? throw new InvalidOperationException("The masked text was not written.");
            options.Progress?.Report(string.Create(CultureInfo.InvariantCulture,
                $"masked {report.MaskedValues} values in {report.Rows} rows ({report.InputBytes / 1048576.0:F1} MB of SQL text) into scratch database {scratch} in {clock.Elapsed.TotalSeconds:F1} s"));

            IReadOnlyDictionary<string, long> deleted = new Dictionary<string, long>();
            if (options.Tenants.Count > 0)
            {
                await using var connection = new NpgsqlConnection(server.ConnectionString(scratch, "commissable-sanitize"));
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                deleted = await TenantSubset.KeepAsync(connection, options.TenantColumn, options.Tenants, cancellationToken).ConfigureAwait(false);
                options.Progress?.Report(string.Create(CultureInfo.InvariantCulture,
                    $"kept the closure of {options.Tenants.Count} tenant(s): {deleted.Values.Sum()} rows of other tenants deleted from {deleted.Count} tables"));
            }

            var dumped = Path.Combine(staging, "masked.dump");
            // The operator's dump: 0600, its size, checksums and content manifest from the bytes as they are written.
            var copy = await CustomFormatDump.WriteAsync(server, scratch, dumped, new CustomFormatDumpOptions { TenantColumn = options.TenantColumn }, tools, cancellationToken)
                .ConfigureAwait(false);
            var manifest = new BackupManifest
            {
                Uri = output,
                Kind = "sanitized-copy",
                Environment = sourceManifest?.Environment ?? "unknown",
                SourceInstance = sourceManifest?.SourceInstance ?? "unknown",
                Databases = sourceManifest?.Databases ?? [],
                DatabaseVersion = sourceManifest?.DatabaseVersion,
                Format = "CUSTOM",
                StartTime = started,
                EndTime = options.Time.GetUtcNow(),
                SizeBytes = copy.SizeBytes,
                Md5Hash = copy.Md5Hash,
                Crc32c = copy.Crc32c,
                Content = copy.Content,
                Sanitized = new SanitizedCopy
                {
                    Source = sourceShown,
                    Rules = report.Rules,
                    Tenants = options.Tenants.Count > 0 ? options.Tenants : null,
                    TenantColumn = options.Tenants.Count > 0 ? options.TenantColumn : null,
                    LargeObjectsLeftOut = report.LargeObjectsLeftOut,
                },
            };
            var stagedManifest = Path.Combine(staging, "manifest.json");
            await using (var file = OwnerOnly.CreateFile(stagedManifest))
            {
                await JsonSerializer.SerializeAsync(file, manifest, CatalogJson.Options, cancellationToken).ConfigureAwait(false);
            }
            // The dump first, its manifest last: a manifest beside a file says the file is complete.
            File.Move(dumped, output, overwrite: false);
            File.Move(stagedManifest, manifestPath, overwrite: false);
            return new SanitizeResult(output, manifestPath, manifest, report, deleted, scratch);
        }
        finally
        {
            if (created)
            {
                await ExecuteAsync(server, maintenanceDatabase, $"DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)", CancellationToken.None).ConfigureAwait(false);
            }
            work.Delete(recursive: true);
            Directory.Delete(staging, recursive: true);
        }
    }

    private static void RefuseExisting(string path)
    {
        if (File.Exists(path) || Directory.Exists(path))
        {
            throw new SanitizeRefusedException($"{path} exists; a masked copy never replaces a file");
        }
    }

    private static async Task ExecuteAsync(DatabaseEndpoint server, string database, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(database, "commissable-sanitize"));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
