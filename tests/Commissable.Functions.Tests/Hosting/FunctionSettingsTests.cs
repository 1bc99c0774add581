using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;

namespace Commissable.Functions.Tests.Hosting;

public sealed class FunctionSettingsTests
{
    [Fact]
    public void The_required_variables_alone_give_the_documented_defaults()
    {
        var settings = FunctionSettings.Load(new DictionaryEnvironment(FunctionTestHost.BaseEnvironment()));

        Assert.Equal("test-project", settings.ProjectId);
        Assert.Equal("commissable-test-backups", settings.BackupBucket);
        Assert.Equal("backups", settings.BackupPrefix);
        Assert.Equal("test", settings.EnvironmentName);
        Assert.Equal(new Uri("https://sqladmin.googleapis.com/"), settings.CloudSqlApiEndpoint);
        Assert.Null(settings.CloudSqlTokenFile);
        Assert.Equal(["commissable-prod"], settings.ProductionInstances);
        Assert.Null(settings.VerifyInstance);
        Assert.Equal(TimeSpan.FromHours(26), settings.MaxBackupAge);
        Assert.Equal(TimeSpan.FromMinutes(30), settings.ExportWait);
        Assert.False(settings.RetentionAllowRelaxedOverrides);
        Assert.Equal("tenantId", settings.TenantColumn);
    }

    [Fact]
    public void Every_variable_is_read()
    {
        var environment = FunctionTestHost.BaseEnvironment();
        environment["BACKUP_PREFIX"] = "db/backups";
        environment["CLOUDSQL_API_ENDPOINT"] = "http://127.0.0.1:8123";
        environment["CLOUDSQL_TOKEN_FILE"] = "/var/lib/localcloud/token";
        environment["PRODUCTION_INSTANCES"] = " commissable-prod, commissable-prod-replica,, ";
        environment["VERIFY_INSTANCE"] = "commissable-verify";
        environment["MAX_BACKUP_AGE_HOURS"] = "30";
        environment["EXPORT_WAIT_SECONDS"] = "600";
        environment["RETENTION_ALLOW_RELAXED_OVERRIDES"] = "true";
        environment["TENANT_COLUMN"] = "org_id";

        var settings = FunctionSettings.Load(new DictionaryEnvironment(environment));

        Assert.Equal("db/backups", settings.BackupPrefix);
        Assert.Equal(new Uri("http://127.0.0.1:8123/"), settings.CloudSqlApiEndpoint);
        Assert.Equal("/var/lib/localcloud/token", settings.CloudSqlTokenFile);
        Assert.Equal(new HashSet<string> { "commissable-prod", "commissable-prod-replica" }, settings.ProductionInstances);
        Assert.Equal("commissable-verify", settings.VerifyInstance);
        Assert.Equal(TimeSpan.FromHours(30), settings.MaxBackupAge);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.ExportWait);
        Assert.True(settings.RetentionAllowRelaxedOverrides);
        Assert.Equal("org_id", settings.TenantColumn);
    }

    [Theory]
    [InlineData("GOOGLE_CLOUD_PROJECT")]
    [InlineData("BACKUP_BUCKET")]
    [InlineData("ENVIRONMENT_NAME")]
    [InlineData("PRODUCTION_INSTANCES")]
    public void A_missing_required_variable_fails_naming_it(string variable)
    {
        var environment = FunctionTestHost.BaseEnvironment();
        environment[variable] = "  ";

        var e = Assert.Throws<FunctionStartupException>(() => FunctionSettings.Load(new DictionaryEnvironment(environment)));

        Assert.Contains($"{variable} is not set: ", e.Message, StringComparison.Ordinal);
        Assert.Equal([variable], e.Variables);
    }

    [Theory]
    [InlineData("GOOGLE_CLOUD_PROJECT", "My Project", "GOOGLE_CLOUD_PROJECT must be a project id")]
    [InlineData("BACKUP_BUCKET", "gs://commissable-backups", "BACKUP_BUCKET must be a bare bucket name without gs://")]
    [InlineData("BACKUP_BUCKET", "Backups!", "BACKUP_BUCKET must be a bucket name")]
    [InlineData("BACKUP_PREFIX", "/backups/", "BACKUP_PREFIX must be a folder path")]
    [InlineData("BACKUP_PREFIX", "backups/../other", "BACKUP_PREFIX must be a folder path")]
    [InlineData("ENVIRONMENT_NAME", "prod_eu", "ENVIRONMENT_NAME must match [a-z0-9][a-z0-9-]{0,29}")]
    // 31 characters: backups named with it could never be listed, so the gate would answer without a manifest.
    [InlineData("ENVIRONMENT_NAME", "production-europe-west1-primary", "which hold at most 30 characters of it")]
    [InlineData("CLOUDSQL_API_ENDPOINT", "127.0.0.1:8123", "CLOUDSQL_API_ENDPOINT must be an absolute http or https URL")]
    [InlineData("CLOUDSQL_API_ENDPOINT", "ftp://host/", "CLOUDSQL_API_ENDPOINT must be an absolute http or https URL")]
    [InlineData("CLOUDSQL_API_ENDPOINT", "http://sql.example.com/", "CLOUDSQL_API_ENDPOINT must be https, or plain http on a loopback address only")]
    [InlineData("CLOUDSQL_API_ENDPOINT", "http://10.0.0.7:8123/", "CLOUDSQL_API_ENDPOINT must be https, or plain http on a loopback address only")]
    [InlineData("PRODUCTION_INSTANCES", "commissable-prod,Prod_DB", "'Prod_DB' is not one")]
    [InlineData("VERIFY_INSTANCE", "commissable-prod", "VERIFY_INSTANCE 'commissable-prod' is listed in PRODUCTION_INSTANCES")]
    [InlineData("VERIFY_INSTANCE", "-bad", "VERIFY_INSTANCE must be a Cloud SQL instance id")]
    [InlineData("VERIFY_INSTANCE", "verify\nprod", "VERIFY_INSTANCE must be a Cloud SQL instance id")]
    [InlineData("VERIFY_INSTANCE", "verify-", "VERIFY_INSTANCE must be a Cloud SQL instance id")]
    [InlineData("PRODUCTION_INSTANCES", "commissable-prod,prod\nx", "is not one")]
    [InlineData("GOOGLE_CLOUD_PROJECT", "test-project\nother", "GOOGLE_CLOUD_PROJECT must be a project id")]
    [InlineData("BACKUP_BUCKET", "crm-backups\n.evil", "BACKUP_BUCKET must be a bucket name")]
    [InlineData("BACKUP_BUCKET", "crm..backups", "BACKUP_BUCKET must be a bucket name")]
    [InlineData("MAX_BACKUP_AGE_HOURS", "0", "MAX_BACKUP_AGE_HOURS must be a whole number of hours from 1 to 8760; got '0'")]
    [InlineData("MAX_BACKUP_AGE_HOURS", "26h", "MAX_BACKUP_AGE_HOURS must be a whole number of hours")]
    [InlineData("EXPORT_WAIT_SECONDS", "-5", "EXPORT_WAIT_SECONDS must be a whole number of seconds from 1 to 3600")]
    [InlineData("RETENTION_ALLOW_RELAXED_OVERRIDES", "sometimes", "RETENTION_ALLOW_RELAXED_OVERRIDES must be true or false; got 'sometimes'")]
    [InlineData("EXPORT_WAIT_SECONDS", "7200", "EXPORT_WAIT_SECONDS must be a whole number of seconds from 1 to 3600")]
    [InlineData("TENANT_COLUMN", "tenant id", "TENANT_COLUMN must be a column name as in the catalog")]
    [InlineData("TENANT_COLUMN", "\"tenantId\"", "TENANT_COLUMN must be a column name as in the catalog")]
    [InlineData("TENANT_COLUMN", "tenantId;drop", "TENANT_COLUMN must be a column name as in the catalog")]
    [InlineData("TENANT_COLUMN", "tenant\nId", "TENANT_COLUMN must be a column name as in the catalog")]
    [InlineData("TENANT_COLUMN", "1tenant", "TENANT_COLUMN must be a column name as in the catalog")]
    [InlineData("TENANT_COLUMN", "t_23456789012345678901234567890123456789012345678901234567890123", "TENANT_COLUMN must be a column name as in the catalog")]
    public void An_invalid_variable_fails_naming_it_and_what_is_accepted(string variable, string value, string expected)
    {
        var environment = FunctionTestHost.BaseEnvironment();
        environment[variable] = value;

        var e = Assert.Throws<FunctionStartupException>(() => FunctionSettings.Load(new DictionaryEnvironment(environment)));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal([variable], e.Variables);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var e = Assert.Throws<FunctionStartupException>(() => FunctionSettings.Load(new DictionaryEnvironment(new Dictionary<string, string?>
        {
            ["MAX_BACKUP_AGE_HOURS"] = "x",
        })));

        Assert.Equal(["GOOGLE_CLOUD_PROJECT", "BACKUP_BUCKET", "ENVIRONMENT_NAME", "PRODUCTION_INSTANCES", "MAX_BACKUP_AGE_HOURS"], e.Variables);
    }

    [Theory]
    [InlineData("https://sql-proxy.example.com/")]
    [InlineData("https://sqladmin.googleapis.com.example.com/")]
    [InlineData("http://127.0.0.1:8123/")]
    public void An_endpoint_that_is_not_Google_needs_a_token_file_never_the_service_identity(string endpoint)
    {
        var environment = FunctionTestHost.BaseEnvironment();
        environment["CLOUDSQL_API_ENDPOINT"] = endpoint;
        environment.Remove("CLOUDSQL_TOKEN_FILE");

        var e = Assert.Throws<FunctionStartupException>(() => FunctionSettings.Load(new DictionaryEnvironment(environment)));

        Assert.Equal(["CLOUDSQL_TOKEN_FILE"], e.Variables);
        Assert.Contains("Application Default Credentials go to Google only", e.Message, StringComparison.Ordinal);

        environment["CLOUDSQL_TOKEN_FILE"] = "/var/lib/localcloud/token";
        Assert.Equal(new Uri(endpoint), FunctionSettings.Load(new DictionaryEnvironment(environment)).CloudSqlApiEndpoint);
    }

    [Theory]
    [InlineData("https://sqladmin.googleapis.com/")]
    [InlineData("https://europe-west1-sqladmin.googleapis.com/")]
    public void Google_s_API_takes_Application_Default_Credentials(string endpoint)
    {
        var environment = FunctionTestHost.BaseEnvironment();
        environment["CLOUDSQL_API_ENDPOINT"] = endpoint;
        environment.Remove("CLOUDSQL_TOKEN_FILE");

        var settings = FunctionSettings.Load(new DictionaryEnvironment(environment));

        Assert.Equal(new Uri(endpoint), settings.CloudSqlApiEndpoint);
        Assert.Null(settings.CloudSqlTokenFile);
    }

    [Fact]
    public void Credentials_in_a_variable_are_never_quoted_back()
    {
        var environment = FunctionTestHost.BaseEnvironment();
        environment["CLOUDSQL_API_ENDPOINT"] = "https://admin:hunter2@sql.example.com/";
        environment["BACKUP_BUCKET"] = "postgres://u:pgsecret@db/crm";

        var e = Assert.Throws<FunctionStartupException>(() => FunctionSettings.Load(new DictionaryEnvironment(environment)));

        Assert.Contains("CLOUDSQL_API_ENDPOINT must not contain credentials", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pgsecret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_host_refuses_to_start_with_invalid_settings()
    {
        var environment = FunctionTestHost.Target(FunctionTestHost.HttpName);
        environment.Remove("BACKUP_BUCKET");

        var e = Assert.Throws<FunctionStartupException>(() => FunctionTestHost.CreateBuilder(environment, new TestLogSink()));

        Assert.StartsWith("Start-up configuration is invalid: BACKUP_BUCKET is not set: ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("false")]
    [InlineData("0")]
    public void LOCAL_STATE_DIR_without_LOCAL_MODE_true_stops_the_start_naming_both(string? localMode)
    {
        var environment = FunctionTestHost.BaseEnvironment();
        environment["LOCAL_STATE_DIR"] = "/var/tmp/localcloud";
        environment["LOCAL_MODE"] = localMode;

        var e = Assert.Throws<FunctionStartupException>(() => FunctionSettings.Load(new DictionaryEnvironment(environment)));

        Assert.Contains("LOCAL_STATE_DIR is set but LOCAL_MODE is not true", e.Message, StringComparison.Ordinal);
        Assert.Contains("unset LOCAL_STATE_DIR, or set LOCAL_MODE=true", e.Message, StringComparison.Ordinal);
        Assert.Equal(["LOCAL_STATE_DIR", "LOCAL_MODE"], e.Variables);
    }

    [Fact]
    public void LOCAL_STATE_DIR_is_honoured_in_local_mode_only()
    {
        var environment = FunctionTestHost.Local();
        Assert.Null(FunctionSettings.Load(new DictionaryEnvironment(environment)).LocalStateDirectory);

        environment["LOCAL_STATE_DIR"] = " /var/tmp/localcloud ";

        Assert.Equal("/var/tmp/localcloud", FunctionSettings.Load(new DictionaryEnvironment(environment)).LocalStateDirectory);
    }

    [Fact]
    public void A_Cloud_Run_host_with_LOCAL_STATE_DIR_refuses_to_start()
    {
        var environment = FunctionTestHost.Target(FunctionTestHost.HttpName);
        environment["LOCAL_STATE_DIR"] = "/var/tmp/localcloud";

        var e = Assert.Throws<FunctionStartupException>(() => FunctionTestHost.CreateBuilder(environment, new TestLogSink()));

        Assert.Contains("LOCAL_STATE_DIR is set but LOCAL_MODE is not true", e.Message, StringComparison.Ordinal);
        Assert.Equal(["LOCAL_STATE_DIR", "LOCAL_MODE"], e.Variables);
    }

    [Fact]
    public async Task Functions_receive_the_settings_and_the_environment_accessor_by_injection()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var settings = host.App.Services.GetService(typeof(FunctionSettings)) as FunctionSettings;
        var environment = host.App.Services.GetService(typeof(IFunctionEnvironment)) as IFunctionEnvironment;

        Assert.Equal("test", settings?.EnvironmentName);
        Assert.Equal("demo-http", environment?.GetVariable("FUNCTION_TARGET"));
    }
}
