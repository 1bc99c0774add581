using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>The client programs the functions read dumps with are found where they are said to be, and only there.</summary>
public sealed class PostgresBinariesTests
{
    [Fact]
    public void The_client_programs_are_found_with_their_major_version()
    {
        var server = PostgresBinaries.Locate();

        var client = PostgresBinaries.LocateClient(server.BinDirectory);

        Assert.Equal(server.BinDirectory, client.BinDirectory);
        Assert.Equal(server.MajorVersion, client.MajorVersion);
        Assert.True(File.Exists(client.Path("pg_dump")));
        Assert.Equal(server.MajorVersion, PostgresBinaries.LocateClient().MajorVersion);
    }

    [Fact]
    public void A_named_directory_without_them_is_an_error_not_another_version()
    {
        var empty = Directory.CreateTempSubdirectory("no-pg-").FullName;
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => PostgresBinaries.LocateClient(empty));

            Assert.Contains($"'{empty}' does not hold pg_dump and pg_restore", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void Pg_config_names_the_server_directory_and_a_missing_or_failing_one_is_no_answer_not_an_error()
    {
        // postgresql-common, which the server packages bring, installs pg_config.
        var found = PostgresBinaries.TryPgConfig();
        Assert.True(found is not null && File.Exists(Path.Combine(found, "pg_ctl")), $"pg_config --bindir gave '{found}'");
        Assert.Null(PostgresBinaries.TryPgConfig("no-such-pg_config"));
        Assert.Null(PostgresBinaries.TryPgConfig("false"));
    }
}
