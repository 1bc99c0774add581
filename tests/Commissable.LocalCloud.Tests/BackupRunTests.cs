using Commissable.LocalCloud.Backups;
using Npgsql;

namespace Commissable.LocalCloud.Tests;

/// <summary>Backup runs are real base backups: listed with their times, restorable, kept by count.</summary>
public sealed class BackupRunTests(LocalCloudFixture cloud) : IClassFixture<LocalCloudFixture>
{
    [Fact]
    public async Task Automated_backups_taken_on_request_are_listed_and_only_the_retained_count_is_kept()
    {
        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances"), $$$"""
            {"name":"kept","databaseVersion":"{{{cloud.Binaries.DatabaseVersion}}}","rootPassword":"root-pw",
             "settings":{"tier":"db-custom-1-3840","backupConfiguration":{"enabled":true,"startTime":"02:00","backupRetentionSettings":{"retentionUnit":"COUNT","retainedBackups":2} } } }
            """);
        for (var i = 0; i < 3; i++)
        {
            await cloud.RunAsync(HttpMethod.Post, $"localcloud/v1/projects/{cloud.Project}/instances/kept/automatedBackup");
        }
        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/kept/backupRuns"), """{"description":"before the change"}""");

        var (_, list) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/kept/backupRuns"));
        var runs = list["items"]!.AsArray();
        Assert.Equal(2, runs.Count(r => (string?)r!["type"] == "AUTOMATED"));
        var onDemand = Assert.Single(runs, r => (string?)r!["type"] == "ON_DEMAND")!;
        Assert.Equal("before the change", (string?)onDemand["description"]);
        foreach (var run in runs)
        {
            Assert.Equal("SUCCESSFUL", (string?)run!["status"]);
            Assert.True(DateTimeOffset.Parse((string)run["startTime"]!) <= DateTimeOffset.Parse((string)run["endTime"]!));
            Assert.NotNull((string?)run["windowStartTime"]);
            Assert.Matches("^[0-9]+$", (string?)run["id"]);
        }
        // Newest first, as Cloud SQL lists them.
        Assert.Equal(runs.Select(r => (string)r!["enqueuedTime"]!).OrderByDescending(t => t, StringComparer.Ordinal), runs.Select(r => (string)r!["enqueuedTime"]!));
    }

    [Fact]
    public async Task Restoring_a_backup_run_overwrites_the_instance_with_the_data_of_the_backup()
    {
        await cloud.CreateInstanceAsync("restore-me", pitr: false);
        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/restore-me/databases"), """{"name":"app"}""");
        var app = await cloud.ConnectionStringAsync("restore-me", "app");
        await Sql.ExecuteAsync(app, "CREATE TABLE \"Invoice\" (id int); INSERT INTO \"Invoice\" SELECT generate_series(1, 10);");
        var backup = await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/restore-me/backupRuns"), "{}");
        var id = (string)backup["backupContext"]!["backupId"]!;
        await Sql.ExecuteAsync(app, "DELETE FROM \"Invoice\"; CREATE TABLE after_backup (id int);");

        await cloud.RunAsync(HttpMethod.Post, cloud.Api("instances/restore-me/restoreBackup"),
            new System.Text.Json.Nodes.JsonObject
            {
                ["restoreBackupContext"] = new System.Text.Json.Nodes.JsonObject { ["backupRunId"] = id, ["instanceId"] = "restore-me" },
            }.ToJsonString());

        await using var connection = new NpgsqlConnection(app);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM \"Invoice\"", connection);
        Assert.Equal(10L, (long)(await count.ExecuteScalarAsync())!);
        await using var gone = new NpgsqlCommand("SELECT to_regclass('after_backup') IS NULL", connection);
        Assert.True((bool)(await gone.ExecuteScalarAsync())!);
    }

    [Theory]
    [InlineData("02:00", "2026-11-25T01:59:00Z", "2026-11-24T02:00:00Z")]
    [InlineData("02:00", "2026-11-25T02:00:00Z", "2026-11-25T02:00:00Z")]
    [InlineData("23:30", "2026-11-25T10:00:00Z", "2026-11-24T23:30:00Z")]
    public void The_daily_window_that_applies_is_the_last_one_opened(string startTime, string now, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected), BackupScheduler.WindowStart(startTime, DateTimeOffset.Parse(now)));
    }
}
