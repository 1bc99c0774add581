using Commissable.Backup.Core.Naming;

namespace Commissable.Backup.Core.Tests.Naming;

public sealed class GcsUriTests
{
    [Fact]
    public void A_uri_splits_into_its_bucket_and_object_and_prints_back_the_same()
    {
        var uri = GcsUri.Parse("gs://crm-backups/backups/prod/crm/backup_20261206_0200_prod_scheduled.sql.gz");
        Assert.Equal("crm-backups", uri.Bucket);
        Assert.Equal("backups/prod/crm/backup_20261206_0200_prod_scheduled.sql.gz", uri.ObjectName);
        Assert.Equal("gs://crm-backups/backups/prod/crm/backup_20261206_0200_prod_scheduled.sql.gz", uri.ToString());
    }

    [Fact]
    public void A_trailing_slash_is_a_directory_only_where_one_is_allowed()
    {
        Assert.False(GcsUri.TryParse("gs://b-1/exports/x/", out _, out _));
        var directory = GcsUri.Parse("gs://b-1/exports/x/", allowDirectory: true);
        Assert.True(directory.IsDirectory);
        Assert.Equal("exports/x", directory.ObjectName);
        Assert.Equal("gs://b-1/exports/x/", directory.ToString());
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("s3://b-1/x", "does not start with gs://")]
    [InlineData("gs://B/x", "is not a bucket name")]
    [InlineData("gs://a..b/x", "is not a bucket name")]
    [InlineData("gs://b-1", "names no object")]
    [InlineData("gs://b-1/", "names no object")]
    [InlineData("gs://b-1/a/../../etc/passwd", "'..' segment")]
    [InlineData("gs://b-1/./x", "'.' or '..' segment")]
    [InlineData("gs://b-1/a//b", "empty")]
    [InlineData("gs://b-1/a\\..\\b", "backslash")]
    [InlineData("gs://b-1/x\n", "control character")]
    public void A_uri_that_breaks_the_rule_is_refused_saying_why(string? text, string why)
    {
        Assert.False(GcsUri.TryParse(text, out var uri, out var problem));
        Assert.Null(uri);
        Assert.Contains(why, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_uri_longer_than_1024_characters_is_refused() =>
        Assert.False(GcsUri.TryParse("gs://b-1/" + new string('x', 1020), out _, out _));
}
