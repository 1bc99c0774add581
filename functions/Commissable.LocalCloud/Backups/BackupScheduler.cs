using System.Globalization;
using Commissable.LocalCloud.Api;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;

namespace Commissable.LocalCloud.Backups;

/// <summary>
/// Takes each instance's automated backup once a day, in the window that opens at
/// <c>backupConfiguration.startTime</c> (UTC), as Cloud SQL does, and releases archived WAL past the
/// log retention. Only windows that open after backups were switched on count, so a new instance
/// is not backed up the moment it is created.
/// </summary>
internal sealed class BackupScheduler(
    LocalCloudOptions options, InstanceManager instances, OperationManager operations, BackupEngine backups,
    BackupRunEndpoints backupRuns, TimeProvider clock, ILogger<BackupScheduler> logger) : BackgroundService
{
    /// <summary>How long after the window opens a backup may still start (Cloud SQL's windows are 4 hours).</summary>
    private static readonly TimeSpan WindowLength = TimeSpan.FromHours(4);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SchedulerInterval, clock);
        do
        {
            Tick();
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    internal void Tick()
    {
        var now = clock.GetUtcNow();
        foreach (var instance in instances.All().Where(i => i.State == "RUNNABLE"))
        {
            if (instance.PitrEnabled && !operations.IsBusy(instance.Project, instance.Name))
            {
                backups.PruneWalArchive(instance);
            }
            if (!instance.BackupsEnabled || instance.BackupsEnabledAt is not { } enabledAt) continue;
            var window = WindowStart(instance.BackupStartTime, now);
            if (window < enabledAt || now - window > WindowLength) continue;
            if (backups.List(instance).Any(b => b.Type == "AUTOMATED" && b.WindowStartTime == window)) continue;
            try
            {
                backupRuns.StartBackup(instance.Project, instance, "AUTOMATED", null, $"http://127.0.0.1:{options.Port}/", window);
                logger.LogInformation("automated backup of {Instance} started for the window opening {Window}", instance.Name, window);
            }
            catch (ApiException)
            {
                // Busy: the next tick tries again while the window is open.
            }
        }
    }

    /// <summary>The most recent opening of the daily window at <paramref name="startTime"/> (HH:MM UTC) not after <paramref name="now"/>.</summary>
    internal static DateTimeOffset WindowStart(string startTime, DateTimeOffset now)
    {
        var time = TimeOnly.ParseExact(startTime, "HH:mm", CultureInfo.InvariantCulture);
        var today = new DateTimeOffset(DateOnly.FromDateTime(now.UtcDateTime).ToDateTime(time), TimeSpan.Zero);
        return today <= now ? today : today.AddDays(-1);
    }
}
