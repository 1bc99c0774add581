using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.CloudSql;
using Commissable.Functions.Verify;

namespace Commissable.Functions.Tests.Verify;

/// <summary>The safety rail's rules, constructed directly.</summary>
public sealed class VerificationTargetGuardTests
{
    private static readonly BackupManifest Manifest = new()
    {
        Uri = "gs://b/backups/prod/prod/backup_20260101_0000_prod_scheduled.sql.gz",
        Kind = "scheduled-export",
        Environment = "prod",
        SourceInstance = "prod",
        StartTime = DateTimeOffset.UnixEpoch,
        EndTime = DateTimeOffset.UnixEpoch,
    };

    private static DatabaseInstance Labelled(params (string Key, string Value)[] labels) =>
        new() { Name = "scratch", Settings = new Settings { UserLabels = labels.ToDictionary(l => l.Key, l => l.Value) } };

    [Theory]
    [InlineData("env", "prod")]
    [InlineData("env", "Production")]
    [InlineData("environment", "production")]
    [InlineData("production", "true")]
    [InlineData("Production", "TRUE")]
    public void An_instance_labelled_as_production_is_refused_naming_the_label(string key, string value)
    {
        var failure = Assert.Single(VerificationTargetGuard.LabelFailures(Labelled((key, value), ("team", "crm")), "scratch"));
        Assert.Equal(VerificationTargetGuard.NotLabelledProduction, failure.Name);
        Assert.Contains($"{key}={value}", failure.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("env", "staging")]
    [InlineData("environment", "dev")]
    [InlineData("production", "false")]
    [InlineData("owner", "prod")]
    public void An_instance_with_other_labels_is_accepted(string key, string value)
    {
        Assert.Empty(VerificationTargetGuard.LabelFailures(Labelled((key, value)), "scratch"));
        Assert.Empty(VerificationTargetGuard.LabelFailures(new DatabaseInstance { Name = "scratch" }, "scratch"));
    }

    [Fact]
    public void The_source_instance_and_listed_production_instances_are_refused_by_name()
    {
        var production = new HashSet<string>(StringComparer.Ordinal) { "prod", "prod-replica" };
        Assert.Equal([VerificationTargetGuard.NotSource, VerificationTargetGuard.NotListedProduction],
            VerificationTargetGuard.NameFailures("prod", Manifest, production).Select(f => f.Name));
        Assert.Equal([VerificationTargetGuard.NotListedProduction],
            VerificationTargetGuard.NameFailures("prod-replica", Manifest, production).Select(f => f.Name));
        Assert.Empty(VerificationTargetGuard.NameFailures("verify-target", Manifest, production));
    }
}
