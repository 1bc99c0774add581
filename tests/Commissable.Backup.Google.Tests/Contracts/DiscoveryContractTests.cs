namespace Commissable.Backup.Google.Tests.Contracts;

/// <summary>The checker that every replayed request passes through must actually reject things.</summary>
public sealed class DiscoveryContractTests
{
    private const string R = "sql/v1beta4/projects/p";
    private static readonly DiscoveryContract Contract = DiscoveryContract.SqlAdminV1Beta4;

    [Fact]
    public void The_discovery_document_is_found_beside_the_clone_and_has_the_sqladmin_methods()
    {
        Assert.Contains(Contract.Methods, m => m.Id == "sql.instances.export");
        Assert.True(Contract.Methods.Count > 50);
    }

    [Fact]
    public void A_valid_export_request_passes_and_names_its_method()
    {
        var result = Contract.Check("POST", $"{R}/instances/prod/export",
            """{"exportContext":{"uri":"gs://b/x.sql.gz","databases":["db"],"fileType":"SQL","sqlExportOptions":{"threads":2}}}""");

        Assert.True(result.Ok, string.Join("; ", result.Violations));
        Assert.Equal("sql.instances.export", result.MethodId);
    }

    [Theory]
    [InlineData("GET", "sql/v1beta4/projects/p/nonsense", "no method")]
    [InlineData("PATCH", "sql/v1beta4/projects/p/operations/op-1", "not to PATCH")]
    [InlineData("GET", "sql/v1beta4/projects/p/instances?pageSize=10", "'pageSize' is not defined")]
    [InlineData("GET", "sql/v1beta4/projects/p/instances/prod/databases?pageToken=x", "'pageToken' is not defined")]
    [InlineData("GET", "sql/v1beta4/projects/p/instances?maxResults=ten", "not a valid integer")]
    [InlineData("GET", "sql/v1beta4/projects/p/instances?alt=xml", "not one of the enum values")]
    public void A_request_outside_the_document_is_rejected(string method, string uri, string expected)
    {
        var result = Contract.Check(method, uri, null);

        Assert.False(result.Ok);
        Assert.Contains(result.Violations, v => v.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"exportContext":{"uri":"gs://b/x","compression":"gzip"}}""", "exportContext.compression: not a field")]
    [InlineData("""{"exportContext":{"sqlExportOptions":{"postgresExportOptions":{"dropFirst":true}}}}""", "postgresExportOptions.dropFirst: not a field")]
    [InlineData("""{"exportContext":{"databases":"db"}}""", "expected a JSON array")]
    [InlineData("""{"exportContext":{"fileType":"PARQUET"}}""", "not one of the enum values")]
    [InlineData("""{"exportContext":{"offload":"yes"}}""", "expected a JSON boolean")]
    [InlineData("""{"export_context":{}}""", "export_context: not a field")]
    public void A_body_field_the_request_schema_does_not_define_is_rejected(string body, string expected)
    {
        var result = Contract.Check("POST", $"{R}/instances/prod/export", body);

        Assert.Contains(result.Violations, v => v.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void An_int64_field_sent_as_a_JSON_number_is_rejected()
    {
        var result = Contract.Check("POST", $"{R}/instances/prod/restoreBackup", """{"restoreBackupContext":{"backupRunId":123}}""");

        Assert.Contains(result.Violations, v => v.Contains("backupRunId: expected a JSON string (int64)", StringComparison.Ordinal));
    }

    [Fact]
    public void Map_values_are_checked_against_additionalProperties()
    {
        var ok = Contract.Check("PATCH", $"{R}/instances/prod", """{"settings":{"userLabels":{"env":"prod"}}}""");
        var bad = Contract.Check("PATCH", $"{R}/instances/prod", """{"settings":{"userLabels":{"env":1}}}""");

        Assert.True(ok.Ok, string.Join("; ", ok.Violations));
        Assert.Contains(bad.Violations, v => v.Contains("userLabels[env]: expected a JSON string", StringComparison.Ordinal));
    }

    [Fact]
    public void A_body_on_a_method_without_a_request_and_a_missing_body_are_both_rejected()
    {
        Assert.Contains(Contract.Check("DELETE", $"{R}/instances/prod", "{}").Violations, v => v.Contains("takes no request body", StringComparison.Ordinal));
        Assert.Contains(Contract.Check("POST", $"{R}/instances/prod/export", null).Violations, v => v.Contains("but none was sent", StringComparison.Ordinal));
    }

    [Fact]
    public void Reserved_expansion_paths_match_their_flat_path()
    {
        var result = Contract.Check("GET", $"{R}/backups/b-1", null);

        Assert.True(result.Ok, string.Join("; ", result.Violations));
        Assert.Equal("sql.backups.getBackup", result.MethodId);
    }
}
