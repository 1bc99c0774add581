using System.Text.Json.Nodes;
using Commissable.LocalCloud.Api;

namespace Commissable.LocalCloud.Tests;

/// <summary>
/// The body rules of the API's methods, checked on their own, without a host or a cluster: each
/// refusal is a 400 that names the field and what is accepted.
/// </summary>
public sealed class RequestValidationTests
{
    [Theory]
    [InlineData("""{"uri":"gs://b/o.sql","sqlExportOptions":{"threads":17}}""", "'exportContext.sqlExportOptions.threads' must be from 1 to 16 (got 17).")]
    [InlineData("""{"uri":"gs://b/o.sql","databases":["crm","bad name"]}""", "exportContext.databases[1]")]
    [InlineData("""{"uri":"gs://b/o.sql","sqlExportOptions":{"tables":["public.\u0001x"]}}""", "'exportContext.sqlExportOptions.tables[0]' must be a table name")]
    public void An_export_context_the_local_cloud_cannot_honour_is_refused_naming_the_field(string export, string expected)
    {
        var error = Assert.Throws<ApiException>(() => RequestValidation.ValidateExport(JsonNode.Parse(export)!.AsObject()));

        Assert.Equal(400, error.HttpStatus);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"settings":{"backupConfiguration":{"startTime":"24:00"}}}""", "startTime '24:00' must be HH:MM")]
    [InlineData("""{"settings":{"backupConfiguration":{"enabled":false,"pointInTimeRecoveryEnabled":true}}}""", "Point-in-time recovery requires automated backups")]
    [InlineData("""{"settings":{"backupConfiguration":{"transactionLogRetentionDays":36}}}""", "transactionLogRetentionDays must be between 1 and 35")]
    [InlineData("""{"settings":{"backupConfiguration":{"backupRetentionSettings":{"retainedBackups":0}}}}""", "retainedBackups must be between 1 and 365")]
    public void A_backup_configuration_out_of_Google_s_bounds_is_refused(string resource, string expected)
    {
        var error = Assert.Throws<ApiException>(() => RequestValidation.ValidateBackupConfiguration(JsonNode.Parse(resource)!.AsObject()));

        Assert.Equal(400, error.HttpStatus);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_import_user_that_is_a_role_running_the_instance_is_refused_but_postgres_is_an_ordinary_user()
    {
        var reserved = Assert.Throws<ApiException>(() => RequestValidation.ValidateImport(
            JsonNode.Parse("""{"uri":"gs://b/o.sql","database":"crm","importUser":"cloudsqladmin"}""")!.AsObject()));
        Assert.Contains("'importContext.importUser' names 'cloudsqladmin', a role reserved for running the instance", reserved.Message, StringComparison.Ordinal);

        RequestValidation.ValidateImport(JsonNode.Parse("""{"uri":"gs://b/o.sql","database":"crm","importUser":"postgres"}""")!.AsObject());
    }

    [Theory]
    [InlineData("42", 42L)]
    [InlineData("-1", null)]
    [InlineData("1e3", null)]
    [InlineData("x", null)]
    public void A_backup_run_id_is_a_plain_non_negative_integer(string id, long? expected)
    {
        if (expected is { } value)
        {
            Assert.Equal(value, RequestValidation.ParseId(id));
        }
        else
        {
            Assert.Contains("is not a backup run id (an integer)", Assert.Throws<ApiException>(() => RequestValidation.ParseId(id)).Message, StringComparison.Ordinal);
        }
    }
}
