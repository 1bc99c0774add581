using Commissable.Backup.Core.Backups;

namespace Commissable.Backup.Core.Tests;

public sealed class BackupObjectNameTests
{
    [Fact]
    public void A_pre_deploy_export_is_named_as_the_strategy_says_and_reads_back()
    {
        var name = BackupObjectName.PreDeploy("backups", "prod", "crm-prod", new DateTimeOffset(2026, 11, 25, 3, 30, 42, TimeSpan.Zero), "add-deposit-index");
        Assert.Equal("backups/prod/crm-prod/backup_20261125_0330_prod_before_add-deposit-index.sql.gz", name.Name);
        Assert.Equal(name.Name + ".manifest.json", name.ManifestName);
        Assert.Equal("backup_20261125_0330_prod_before_add-deposit-index.sql.gz", name.FileName);
        Assert.True(BackupObjectName.TryParse(name.Name, "backups", out var parsed));
        Assert.Equal(name, parsed);
        Assert.Equal("add-deposit-index", parsed!.Change);
    }

    [Theory]
    [InlineData("backups/prod/crm-prod/backup_20261125_0330_prod_before_x.sql.gz.manifest.json")]
    [InlineData("backups/prod/crm-prod/notes.txt")]
    [InlineData("other/prod/crm-prod/backup_20261125_0330_prod_before_x.sql.gz")]
    [InlineData("backups/prod/crm-prod/backup_20261125_0330_staging_before_x.sql.gz")]
    [InlineData("backups/prod/crm-prod/backup_20261332_0330_prod_before_x.sql.gz")]
    [InlineData("backups/prod/crm-prod/backup_20261125_0330_prod_before_Bad.sql.gz")]
    public void Anything_not_named_as_a_backup_is_not_one(string name)
    {
        Assert.False(BackupObjectName.TryParse(name, "backups", out _));
    }

    [Theory]
    [InlineData("add-index", true)]
    [InlineData("0-fix", true)]
    [InlineData("", false)]
    [InlineData("-leading", false)]
    [InlineData("has/slash", false)]
    [InlineData("..", false)]
    [InlineData("has space", false)]
    [InlineData("UPPER", false)]
    public void A_change_slug_is_lowercase_letters_digits_and_dashes(string slug, bool valid)
    {
        Assert.Equal(valid, ChangeSlug.IsValid(slug));
        Assert.Equal(valid, ChangeSlug.Problem(slug) is null);
    }

    [Fact]
    public void A_change_of_200_characters_is_refused_with_its_length()
    {
        Assert.Contains("200 characters", ChangeSlug.Problem(new string('a', 200)), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => BackupObjectName.PreDeploy("backups", "prod", "db", DateTimeOffset.UnixEpoch, "../etc"));
    }
}
