using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Export;

namespace Commissable.Backup.Core.Tests;

public sealed class ExportPreconditionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static DatabaseInstance Healthy(bool backups = true, bool pitr = true, string state = "RUNNABLE") => new()
    {
        Name = "prod",
        State = state,
        Settings = new Settings { BackupConfiguration = new BackupConfiguration { Enabled = backups, PointInTimeRecoveryEnabled = pitr } },
    };

    private static BackupRun Run(string status, double hoursAgo, string type = "AUTOMATED") =>
        new() { Id = 1, Status = status, Type = type, EndTime = Now.AddHours(-hoursAgo) };

    [Fact]
    public void A_healthy_instance_with_a_recent_successful_backup_passes()
    {
        Assert.Empty(ExportPreconditions.Check(Healthy(), [Run("SUCCESSFUL", 3)], Now, TimeSpan.FromHours(26)));
    }

    [Theory]
    [InlineData("instance.runnable")]
    [InlineData("backups.enabled")]
    [InlineData("pitr.enabled")]
    public void Each_instance_precondition_switched_off_is_reported_by_its_name(string name)
    {
        var instance = Healthy(backups: name != "backups.enabled", pitr: name != "pitr.enabled", state: name == "instance.runnable" ? "MAINTENANCE" : "RUNNABLE");
        var failure = Assert.Single(ExportPreconditions.Check(instance, [Run("SUCCESSFUL", 1)], Now, TimeSpan.FromHours(26)));
        Assert.Equal(name, failure.Name);
    }

    [Fact]
    public void The_newest_automated_backup_must_be_successful_and_young_enough()
    {
        var old = Assert.Single(ExportPreconditions.Check(Healthy(), [Run("SUCCESSFUL", 30)], Now, TimeSpan.FromHours(26)));
        Assert.Equal("backups.recent", old.Name);
        Assert.Contains("30.0 h old", old.Reason, StringComparison.Ordinal);
        var failed = Assert.Single(ExportPreconditions.Check(Healthy(), [Run("SUCCESSFUL", 5), Run("FAILED", 1)], Now, TimeSpan.FromHours(26)));
        Assert.Contains("FAILED", failed.Reason, StringComparison.Ordinal);
        var onDemandOnly = Assert.Single(ExportPreconditions.Check(Healthy(), [Run("SUCCESSFUL", 1, "ON_DEMAND")], Now, TimeSpan.FromHours(26)));
        Assert.Contains("no automated backup", onDemandOnly.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_failing_precondition_is_reported_not_only_the_first()
    {
        var failures = ExportPreconditions.Check(Healthy(false, false, "SUSPENDED"), [], Now, TimeSpan.FromHours(26));
        Assert.Equal(["instance.runnable", "backups.enabled", "pitr.enabled", "backups.recent"], failures.Select(f => f.Name));
    }
}
