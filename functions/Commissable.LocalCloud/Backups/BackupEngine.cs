using System.Globalization;
using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud.Api;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;
using Commissable.LocalCloud.State;
using Npgsql;

namespace Commissable.LocalCloud.Backups;

/// <summary>
/// Backup runs as real base backups (<c>pg_basebackup</c> with the WAL to make them consistent),
/// restore onto an instance, and clone, with a point in time a real point-in-time recovery:
/// a base backup rolled forward with the archived WAL to the requested time.
/// </summary>
internal sealed class BackupEngine(InstanceManager instances, LocalCloudOptions options, TimeProvider clock, ILogger<BackupEngine> logger)
{
    private readonly Lock _idLock = new();
    private long _lastId;

    public IReadOnlyList<BackupRecord> List(InstanceRecord instance)
    {
        var directory = instances.BackupsDirectory(instance.Name);
        if (!System.IO.Directory.Exists(directory)) return [];
        return System.IO.Directory.EnumerateDirectories(directory)
            .Select(d => AtomicFile.ReadJson(Path.Combine(d, "backup.json")))
            .Where(j => j is not null)
            .Select(j => BackupRecord.FromJson(j!))
            .OrderByDescending(b => b.EnqueuedTime)
            .ThenByDescending(b => b.Id)
            .ToList();
    }

    public BackupRecord Get(InstanceRecord instance, long id) =>
        List(instance).FirstOrDefault(b => b.Id == id)
        ?? throw ApiException.NotFound($"The backup run {id} does not exist for instance '{instance.Name}'.");

    /// <summary>Registers an ENQUEUED backup run; <see cref="RunAsync"/> takes it.</summary>
    public BackupRecord Enqueue(InstanceRecord instance, string type, string? description, DateTimeOffset? windowStart)
    {
        var now = clock.GetUtcNow();
        long id;
        lock (_idLock)
        {
            id = Math.Max(now.ToUnixTimeMilliseconds(), _lastId + 1);
            _lastId = id;
        }
        var backup = new BackupRecord
        {
            Id = id,
            Instance = instance.Name,
            Type = type,
            Status = "ENQUEUED",
            Description = description,
            EnqueuedTime = now,
            WindowStartTime = windowStart ?? now,
            ArchivingSince = instance.ArchivingSince,
            DatabaseVersion = instances.Binaries.DatabaseVersion,
        };
        Save(backup);
        return backup;
    }

    /// <summary>Takes the base backup; the run ends SUCCESSFUL or FAILED (and the operation with it).</summary>
    public async Task RunAsync(InstanceRecord instance, BackupRecord backup, IChildProcessObserver? observer, CancellationToken cancellationToken)
    {
        var directory = Directory(instance.Name, backup.Id);
        var baseDirectory = Path.Combine(directory, "base");
        backup.Status = "RUNNING";
        backup.StartTime = clock.GetUtcNow();
        Save(backup);
        var cluster = instances.Cluster(instance);
        try
        {
            File.SetUnixFileMode(instances.BackupsDirectory(instance.Name), InstanceManager.TraversableMode);
            await cluster.GiveAsync(directory, cancellationToken).ConfigureAwait(false);
            await new ExternalProcess
            {
                FileName = instances.Binaries.Path("pg_basebackup"),
                Arguments = ["-d", cluster.ToolConnection(InstanceManager.AdminUser), "-D", baseDirectory,
                    "-X", "stream", "-c", "fast", "--no-password", "-l", $"backup run {backup.Id}"],
                Environment = new Dictionary<string, string> { ["PGPASSWORD"] = instances.AdminPassword(instance.Name) },
                RunAs = cluster.Layout.RunAs,
                Observer = observer,
            }.RunAsync(cancellationToken).ConfigureAwait(false);
            // The internal superuser's password travels with the data it belongs to.
            File.Copy(instances.AdminPasswordFile(instance.Name), Path.Combine(directory, "admin.secret"), overwrite: true);
            backup.Status = "SUCCESSFUL";
            backup.EndTime = clock.GetUtcNow();
            Save(backup);
        }
        catch (Exception error) when (error is ExternalProcessException or IOException)
        {
            // backupRuns.get answers the run's error as it is stored: cleaned as an operation's error
            // is (no absolute path, no server log line), the full text in the log.
            var (_, message) = OperationErrors.Describe(error, options.StateDirectory);
            logger.LogWarning("backup run {Id} of {Instance} failed: {Error}", backup.Id, instance.Name, OperationErrors.ForLog(error));
            backup.Status = "FAILED";
            backup.EndTime = clock.GetUtcNow();
            backup.Error = message;
            Save(backup);
            OperationManager.DeletePath(baseDirectory);
            throw new OperationFailedException("INTERNAL_ERROR", $"The backup failed: {message}");
        }
        if (backup.Type == "AUTOMATED")
        {
            ApplyRetention(instance);
        }
        PruneWalArchive(instance);
    }

    /// <summary>Marks runs a crash cut off as FAILED.</summary>
    public void RecoverAfterRestart(InstanceRecord instance)
    {
        foreach (var backup in List(instance).Where(b => b.Status is "ENQUEUED" or "RUNNING"))
        {
            backup.Status = "FAILED";
            backup.Error = "The backup was interrupted because the local cloud stopped.";
            backup.EndTime = clock.GetUtcNow();
            Save(backup);
            OperationManager.DeletePath(Path.Combine(Directory(instance.Name, backup.Id), "base"));
        }
    }

    public void Delete(InstanceRecord instance, long id)
    {
        Get(instance, id);
        System.IO.Directory.Delete(Directory(instance.Name, id), recursive: true);
        PruneWalArchive(instance);
    }

    /// <summary>Keeps the newest <c>retainedBackups</c> automated backups, as Cloud SQL does; on-demand ones stay until deleted.</summary>
    public void ApplyRetention(InstanceRecord instance)
    {
        var automated = List(instance).Where(b => b.Type == "AUTOMATED" && b.Status is "SUCCESSFUL" or "FAILED").ToList();
        foreach (var old in automated.Skip(Math.Max(1, instance.RetainedBackups)))
        {
            logger.LogInformation("retention: deleting automated backup {Id} of {Instance}", old.Id, instance.Name);
            System.IO.Directory.Delete(Directory(instance.Name, old.Id), recursive: true);
        }
    }

    /// <summary>
    /// The point-in-time recovery window: from the end of the oldest successful base backup
    /// taken in the current archiving stretch, to now. Null when there is none.
    /// </summary>
    public (DateTimeOffset Start, DateTimeOffset End)? RecoveryWindow(InstanceRecord instance)
    {
        if (!instance.PitrEnabled || instance.ArchivingSince is null) return null;
        var bases = UsableBases(instance);
        return bases.Count == 0 ? null : (bases.Min(b => b.EndTime!.Value), clock.GetUtcNow());
    }

    /// <summary>Restores a base backup onto <paramref name="target"/>, replacing its data (as Google does).</summary>
    public async Task RestoreAsync(InstanceRecord target, InstanceRecord source, BackupRecord backup, CancellationToken cancellationToken)
    {
        var backupDirectory = Directory(source.Name, backup.Id);
        var data = instances.DataDirectory(target.Name);
        var aside = data + ".before-restore";
        var cluster = instances.Cluster(target);
        await cluster.StopAsync(cancellationToken).ConfigureAwait(false);
        OperationManager.DeletePath(aside);
        System.IO.Directory.Move(data, aside);
        try
        {
            await CopyTreeAsync(Path.Combine(backupDirectory, "base"), data, cancellationToken).ConfigureAwait(false);
            await cluster.PrepareDataDirectoryAsync(cancellationToken).ConfigureAwait(false);
            var previousPassword = instances.AdminPassword(target.Name);
            instances.SetAdminPassword(target.Name, File.ReadAllText(Path.Combine(backupDirectory, "admin.secret")).Trim());
            try
            {
                // The restored data continues an older history; archived WAL of the replaced one would collide.
                await StartNewArchivingStretchAsync(target, cancellationToken).ConfigureAwait(false);
                await instances.StartAsync(target, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                instances.SetAdminPassword(target.Name, previousPassword);
                throw;
            }
        }
        catch (Exception error) when (error is ExternalProcessException or InvalidOperationException or IOException)
        {
            await cluster.StopAsync(cancellationToken).ConfigureAwait(false);
            OperationManager.DeletePath(data);
            System.IO.Directory.Move(aside, data);
            await instances.StartAsync(target, cancellationToken).ConfigureAwait(false);
            throw new OperationFailedException("INTERNAL_ERROR", $"The restore failed and the instance was left as it was: {error.Message}");
        }
        OperationManager.DeletePath(aside);
    }

    /// <summary>
    /// Builds the data of a NEW instance: a copy of the source as it is now, or, with a point in
    /// time, the newest usable base backup rolled forward with the archived WAL to that time.
    /// </summary>
    public async Task CloneAsync(InstanceRecord source, InstanceRecord destination, DateTimeOffset? pointInTime, IChildProcessObserver? observer, CancellationToken cancellationToken)
    {
        var data = instances.DataDirectory(destination.Name);
        System.IO.Directory.CreateDirectory(instances.InstanceDirectory(destination.Name));
        var cluster = instances.Cluster(destination);
        if (pointInTime is null)
        {
            await cluster.GiveAsync(instances.InstanceDirectory(destination.Name), cancellationToken).ConfigureAwait(false);
            await new ExternalProcess
            {
                FileName = instances.Binaries.Path("pg_basebackup"),
                Arguments = ["-d", instances.Cluster(source).ToolConnection(InstanceManager.AdminUser), "-D", data, "-X", "stream", "-c", "fast", "--no-password"],
                Environment = new Dictionary<string, string> { ["PGPASSWORD"] = instances.AdminPassword(source.Name) },
                RunAs = cluster.Layout.RunAs,
                Observer = observer,
            }.RunAsync(cancellationToken).ConfigureAwait(false);
            instances.SetAdminPassword(destination.Name, instances.AdminPassword(source.Name));
            await cluster.PrepareDataDirectoryAsync(cancellationToken).ConfigureAwait(false);
            await StartNewArchivingStretchAsync(destination, cancellationToken).ConfigureAwait(false);
            await instances.StartAsync(destination, cancellationToken).ConfigureAwait(false);
            return;
        }

        var target = pointInTime.Value;
        var chosen = UsableBases(source).Where(b => b.EndTime <= target).MaxBy(b => b.EndTime)
            ?? throw new OperationFailedException("INTERNAL_ERROR", "No base backup precedes the point in time.");
        await ArchiveCurrentWalAsync(source, cancellationToken).ConfigureAwait(false);
        var backupDirectory = Directory(source.Name, chosen.Id);
        await CopyTreeAsync(Path.Combine(backupDirectory, "base"), data, cancellationToken).ConfigureAwait(false);
        instances.SetAdminPassword(destination.Name, File.ReadAllText(Path.Combine(backupDirectory, "admin.secret")).Trim());
        await cluster.PrepareDataDirectoryAsync(cancellationToken).ConfigureAwait(false);
        var signal = Path.Combine(data, "recovery.signal");
        await File.WriteAllTextAsync(signal, "", cancellationToken).ConfigureAwait(false);
        await cluster.GiveAsync(signal, cancellationToken).ConfigureAwait(false);
        var archive = instances.WalArchive(source.Name);
        var recovery = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["restore_command"] = $"cp '{archive}/%f' '%p'",
            ["recovery_target_time"] = target.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'", CultureInfo.InvariantCulture),
            ["recovery_target_action"] = "promote",
            ["recovery_target_timeline"] = "current",
        };
        // Archiving is configured from the start but only runs once the clone is promoted (archive_mode
        // 'on' does not archive during recovery), so its own stretch of WAL begins with its new timeline.
        await StartNewArchivingStretchAsync(destination, cancellationToken).ConfigureAwait(false);
        await instances.StartAsync(destination, cancellationToken, recovery).ConfigureAwait(false);
        await WaitForPromotionAsync(destination, cluster, cancellationToken).ConfigureAwait(false);
        // Recovery settings are ignored once promoted; drop them so the next start is a plain one.
        await instances.WriteRuntimeConfigAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Begins a new unbroken stretch of archived WAL (empty archive), when PITR is on.</summary>
    public Task StartNewArchivingStretchAsync(InstanceRecord instance, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        OperationManager.DeletePath(instances.WalArchive(instance.Name));
        instance.ArchivingSince = instance.PitrEnabled ? clock.GetUtcNow() : null;
        instances.Save(instance);
        return Task.CompletedTask;
    }

    private List<BackupRecord> UsableBases(InstanceRecord instance) =>
        List(instance).Where(b => b.Status == "SUCCESSFUL" && b.EndTime is not null
            && instance.ArchivingSince is not null && b.ArchivingSince == instance.ArchivingSince).ToList();

    /// <summary>
    /// Makes sure the WAL up to now is in the archive: a transaction commits now (recovery stops at
    /// the first commit after the target, so one must exist), then the segment is switched and
    /// the local cloud waits until the archiver has copied it.
    /// </summary>
    private async Task ArchiveCurrentWalAsync(InstanceRecord source, CancellationToken cancellationToken)
    {
        await using var connection = await instances.OpenAdminAsync(source, cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (var mark = new NpgsqlCommand("SELECT txid_current()", connection))
        {
            await mark.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        string segment;
        await using (var command = new NpgsqlCommand("SELECT pg_walfile_name(pg_switch_wal())", connection))
        {
            segment = (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        var archived = Path.Combine(instances.WalArchive(source.Name), segment);
        var deadline = clock.GetUtcNow() + TimeSpan.FromMinutes(5);
        while (!File.Exists(archived))
        {
            if (clock.GetUtcNow() > deadline)
            {
                throw new OperationFailedException("INTERNAL_ERROR", $"WAL segment {segment} was not archived within 5 minutes; see the source's server log.");
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WaitForPromotionAsync(InstanceRecord destination, PostgresCluster cluster, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + TimeSpan.FromMinutes(60);
        while (true)
        {
            try
            {
                await using var connection = await instances.OpenAdminAsync(destination, cancellationToken: cancellationToken).ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
                if (!(bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
                {
                    return;
                }
            }
            catch (NpgsqlException)
            {
                if (!await cluster.IsRunningAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new OperationFailedException("INTERNAL_ERROR", $"Point-in-time recovery failed: {LastLogLine(cluster)}");
                }
                // Still replaying WAL; not accepting connections yet.
            }
            if (clock.GetUtcNow() > deadline)
            {
                throw new OperationFailedException("INTERNAL_ERROR", "Point-in-time recovery did not finish within 60 minutes.");
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes archived WAL older than what the oldest kept base backup needs.</summary>
    public void PruneWalArchive(InstanceRecord instance)
    {
        var archive = instances.WalArchive(instance.Name);
        if (!System.IO.Directory.Exists(archive)) return;
        var bases = UsableBases(instance).OrderBy(b => b.EndTime).ToList();
        if (bases.Count == 0) return;
        var cutoff = clock.GetUtcNow() - TimeSpan.FromDays(instance.TransactionLogRetentionDays);
        // The newest base older than the cutoff still serves recovery to the cutoff itself.
        var oldestNeeded = bases.LastOrDefault(b => b.EndTime < cutoff) ?? bases[0];
        var label = Path.Combine(Directory(instance.Name, oldestNeeded.Id), "base", "backup_label");
        if (!File.Exists(label)) return;
        var start = File.ReadLines(label).FirstOrDefault(l => l.StartsWith("START WAL LOCATION", StringComparison.Ordinal));
        var file = start?.Split("(file ", StringSplitOptions.None).ElementAtOrDefault(1)?.TrimEnd(')');
        if (file is null) return;
        foreach (var segment in System.IO.Directory.EnumerateFiles(archive))
        {
            var name = Path.GetFileName(segment);
            if (name.Length == 24 && string.CompareOrdinal(name[8..], file[8..]) < 0)
            {
                File.Delete(segment);
            }
        }
    }

    private static async Task CopyTreeAsync(string from, string to, CancellationToken cancellationToken)
    {
        // cp -a keeps the owner (the clusters' account) and modes; the server insists on 0700.
        await new ExternalProcess { FileName = "cp", Arguments = ["-a", from, to] }.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private string Directory(string instance, long id) =>
        Path.Combine(instances.BackupsDirectory(instance), id.ToString(CultureInfo.InvariantCulture));

    private void Save(BackupRecord backup) =>
        AtomicFile.WriteJson(Path.Combine(Directory(backup.Instance, backup.Id), "backup.json"), backup.ToJson());

    private static string LastLogLine(PostgresCluster cluster)
    {
        try
        {
            return File.ReadLines(cluster.Layout.LogFile).LastOrDefault(l => l.Contains("FATAL", StringComparison.Ordinal))
                ?? File.ReadLines(cluster.Layout.LogFile).LastOrDefault() ?? "(empty server log)";
        }
        catch (IOException)
        {
            return "(no server log)";
        }
    }
}
