using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;

namespace Commissable.Functions.Tests.Export;

/// <summary>The export's liveness and wait limits from <c>EXPORT_*</c> variables, checked at start-up.</summary>
public sealed class ExportSettingsTests
{
    private static readonly FunctionSettings Settings = new()
    {
        ProjectId = "demo-project",
        BackupBucket = "crm-backups",
        EnvironmentName = "prod",
        ProductionInstances = new HashSet<string> { "prod" },
    };

    [Fact]
    public void Unset_variables_give_the_documented_defaults()
    {
        var options = BackupFunctions.ExportOptions(Settings, new DictionaryEnvironment(new Dictionary<string, string?>()));
        Assert.Equal(TimeSpan.FromSeconds(30), options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMinutes(5), options.StaleAfter);
        Assert.Equal("tenantId", options.TenantColumn);
        Assert.Equal(TimeSpan.FromHours(2), options.Deadline);
    }

    [Theory]
    [InlineData("EXPORT_STALE_AFTER_SECONDS", "60", "EXPORT_STALE_AFTER_SECONDS (60) must be more than twice EXPORT_HEARTBEAT_SECONDS (30)")]
    [InlineData("EXPORT_STALE_AFTER_SECONDS", "2", "EXPORT_STALE_AFTER_SECONDS must be a whole number of seconds from 3")]
    [InlineData("EXPORT_HEARTBEAT_SECONDS", "0", "EXPORT_HEARTBEAT_SECONDS must be a whole number of seconds from 1")]
    [InlineData("EXPORT_DEADLINE_MINUTES", "100000", "EXPORT_DEADLINE_MINUTES must be a whole number of minutes from 1 to 1440")]
    public void A_bad_value_stops_the_start_naming_its_variable(string variable, string value, string message)
    {
        var environment = new DictionaryEnvironment(new Dictionary<string, string?> { [variable] = value });
        var error = Assert.Throws<FunctionStartupException>(() => BackupFunctions.ExportOptions(Settings, environment));
        Assert.Contains(variable, error.Variables);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
