using Npgsql;

namespace Commissable.Backup.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(TestPostgres postgres)
{
    [Fact]
    public async Task A_started_cluster_accepts_the_superuser_password_over_tcp()
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version_num')::int / 10000", connection);
        Assert.Equal(postgres.Binaries.MajorVersion, (int)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_because_the_cluster_never_trusts()
    {
        var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString()) { Password = "wrong" };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal("28P01", error.SqlState);
    }
}
