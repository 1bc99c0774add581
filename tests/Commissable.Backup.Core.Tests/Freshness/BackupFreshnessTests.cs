using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Freshness;

namespace Commissable.Backup.Core.Tests.Freshness;

public sealed class BackupFreshnessTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxAge = TimeSpan.FromHours(26);

    private static BackupRun Run(long id, string status, double hoursAgo, string type = "AUTOMATED") =>
        new() { Id = id, Status = status, Type = type, StartTime = Now.AddHours(-hoursAgo - 0.1), EndTime = Now.AddHours(-hoursAgo) };

    [Fact]
    public void An_automated_run_that_ended_within_the_maximum_age_is_fresh()
    {
        var freshness = BackupFreshnessCheck.Evaluate("prod", [Run(1, "SUCCESSFUL", 30), Run(2, "SUCCESSFUL", 3)], Now, MaxAge);

        Assert.Equal(FreshnessStatus.Fresh, freshness.Status);
        Assert.False(freshness.Overdue);
        Assert.Equal(BackupFreshnessCheck.Fresh, freshness.Code);
        Assert.Equal(2, freshness.NewestSuccessfulRunId);
        Assert.Equal(TimeSpan.FromHours(3), freshness.Age);
    }

    [Fact]
    public void The_newest_successful_run_older_than_the_maximum_age_is_overdue_and_says_by_how_much()
    {
        var freshness = BackupFreshnessCheck.Evaluate("prod", [Run(1, "SUCCESSFUL", 27.5)], Now, MaxAge);

        Assert.True(freshness.Overdue);
        Assert.Equal(BackupFreshnessCheck.TooOld, freshness.Code);
        Assert.Equal(Now.AddHours(-27.5), freshness.NewestSuccessfulEndTime);
        Assert.Contains("27.5 h ago", freshness.Text, StringComparison.Ordinal);
        Assert.Contains("26 h allowed", freshness.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void No_successful_automated_run_is_overdue_even_with_a_recent_on_demand_run()
    {
        var freshness = BackupFreshnessCheck.Evaluate("prod", [Run(1, "SUCCESSFUL", 1, "ON_DEMAND"), Run(2, "FAILED", 2)], Now, MaxAge);

        Assert.True(freshness.Overdue);
        Assert.Equal(BackupFreshnessCheck.NoSuccessfulBackup, freshness.Code);
        Assert.Null(freshness.NewestSuccessfulEndTime);
        Assert.True(freshness.NewestRunFailed);
        Assert.Contains("FAILED", freshness.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_newest_run_is_reported_but_an_earlier_success_within_the_age_keeps_the_instance_fresh()
    {
        var freshness = BackupFreshnessCheck.Evaluate("prod", [Run(1, "SUCCESSFUL", 20), Run(2, "FAILED", 1)], Now, MaxAge);

        Assert.Equal(FreshnessStatus.Fresh, freshness.Status);
        Assert.True(freshness.NewestRunFailed);
        Assert.Equal(1, freshness.NewestSuccessfulRunId);
    }

    [Fact]
    public void No_runs_at_all_is_overdue()
    {
        var freshness = BackupFreshnessCheck.Evaluate("prod", [], Now, MaxAge);

        Assert.Equal(FreshnessStatus.Overdue, freshness.Status);
        Assert.False(freshness.NewestRunFailed);
    }
}
