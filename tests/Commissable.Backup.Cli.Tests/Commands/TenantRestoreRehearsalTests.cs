using System.Globalization;
using System.Text.Json.Nodes;
using Commissable.Backup.Cli.Local;
using Xunit.Abstractions;

namespace Commissable.Backup.Cli.Tests.Commands;

/// <summary>
/// workflows/tenant-restore.yaml run by <c>workflows run</c> on one drill's local cloud (its demo
/// database in prod): bad input and restore points that cannot be used are refused with the
/// workflow's own message before anything is created.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed partial class TenantRestoreRehearsalTests(RehearsalStack stack, ITestOutputHelper output) : IClassFixture<RehearsalStack>
{
    private static string Now(int secondsAgo) =>
        DateTime.UtcNow.AddSeconds(-secondsAgo).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("""{"sourceInstance":"prod","tenantId":"t","pointInTime":"NOW","mode":"everything"}""", "mode 'everything' is not missing-only")]
    [InlineData("""{"sourceInstance":"prod","tenantId":"t"}""", "give exactly one of pointInTime (RFC 3339, inside the recovery window), backup (the gs:// URI of a backup) or backupRunId")]
    [InlineData("""{"sourceInstance":"prod","tenantId":"","pointInTime":"NOW"}""", "tenantId is required")]
    [InlineData("""{"sourceInstance":"prod","tenantId":"t","pointInTime":"NOW","tenant":"t"}""", "unknown field 'tenant'")]
    [InlineData("""{"sourceInstance":"nope","tenantId":"t","pointInTime":"NOW"}""", "sourceInstance 'nope' does not exist in project drill-project")]
    [InlineData("""{"sourceInstance":"prod","tenantId":"t","pointInTime":"2001-01-01T00:00:00Z"}""", "pointInTime 2001-01-01T00:00:00Z is outside the recovery window of prod")]
    [InlineData("""{"sourceInstance":"prod","tenantId":"t","pointInTime":"2999-01-01T00:00:00Z"}""", "pointInTime 2999-01-01T00:00:00Z is in the future")]
    [InlineData("""{"sourceInstance":"prod","tenantId":"t","backupRunId":"424242"}""", "backup run 424242 of instance prod does not exist")]
    [InlineData("""{"sourceInstance":"prod","tenantId":"t","backup":"gs://drill-backups/backups/prod/prod/backup_20000101_0000_prod_missing.sql.gz"}""", "the backup gs://drill-backups/backups/prod/prod/backup_20000101_0000_prod_missing.sql.gz does not exist; nothing was created")]
    public async Task Bad_input_ends_with_the_workflows_own_error_before_anything_is_created(string json, string message)
    {
        var arguments = JsonNode.Parse(json.Replace("NOW", Now(5), StringComparison.Ordinal))!.AsObject();
        var instances = await stack.InstanceNamesAsync();
        var scratchDatabases = await stack.DatabaseNamesAsync(LocalStack.VerifyInstance);

        var run = await stack.RunAsync("tenant-restore.yaml", arguments, approve: true);

        Assert.Equal(1, run.Exit);
        Assert.Contains(message, run.Output, StringComparison.Ordinal);
        Assert.Equal(instances, await stack.InstanceNamesAsync());
        Assert.Equal(scratchDatabases, await stack.DatabaseNamesAsync(LocalStack.VerifyInstance));
        output.WriteLine(run.Output.Split('\n').Last(l => l.Length > 0));
    }
}
