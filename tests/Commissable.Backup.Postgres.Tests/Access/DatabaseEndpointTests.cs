using Commissable.Backup.Postgres.Access;

namespace Commissable.Backup.Postgres.Tests.Access;

/// <summary>An operator's URL read into a server and a login, with the password never shown.</summary>
public sealed class DatabaseEndpointTests
{
    [Fact]
    public void A_url_gives_its_server_login_and_database_and_never_shows_the_password()
    {
        var endpoint = DatabaseEndpoint.FromUrl("postgresql://crm%40admin:p%3Ass%2Fw0rd@10.1.2.3:6543/crm_prod?sslmode=require&schema=public", out var database);

        Assert.Equal("10.1.2.3", endpoint.Host);
        Assert.Equal(6543, endpoint.Port);
        Assert.Equal("crm@admin", endpoint.User);
        Assert.Equal("require", endpoint.SslMode);
        Assert.Equal("crm_prod", database);
        Assert.True(endpoint.HasPassword);
        Assert.Equal("crm@admin@10.1.2.3:6543", endpoint.ToString());
        Assert.DoesNotContain("p:ss", endpoint.Conninfo("crm_prod"), StringComparison.Ordinal);
        Assert.Contains("sslmode='require'", endpoint.Conninfo("crm_prod"), StringComparison.Ordinal);
        Assert.Contains("Password=p:ss/w0rd", endpoint.ConnectionString("crm_prod"), StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_ipv6_and_socket_directories_are_read()
    {
        var plain = DatabaseEndpoint.FromUrl("postgres://app@db.internal", out var none);
        Assert.Equal(5432, plain.Port);
        Assert.Null(none);
        Assert.False(plain.HasPassword);

        var six = DatabaseEndpoint.FromUrl("postgresql://app:x@[::1]:5433/db", out _);
        Assert.Equal("::1", six.Host);
        Assert.Equal("app@[::1]:5433", six.ToString());

        var socket = DatabaseEndpoint.FromUrl("postgresql://app:x@localhost/db?host=%2Fcloudsql%2Fp%3Ar%3Ai", out _);
        Assert.Equal("/cloudsql/p:r:i", socket.Host);
    }

    [Theory]
    [InlineData("mysql://u:secret@h/db", "postgresql://")]
    [InlineData("postgresql://h/db", "no user")]
    [InlineData("postgresql://u:secret@h:99999/db", "port")]
    [InlineData("postgresql://u:secret@h:5432/db?sslmode=maybe", "sslmode")]
    [InlineData("postgresql://u:secret@h/db?options=-c%20x", "parameter 'options'")]
    [InlineData("postgresql://u:secret@h/a/b", "database")]
    [InlineData("postgresql://u:secret@/db", "no host")]
    [InlineData("postgresql://u:secret@h/db?host=relative", "socket directory")]
    public void A_bad_url_says_what_is_wrong_without_repeating_it(string url, string expected)
    {
        var problem = Assert.Throws<FormatException>(() => DatabaseEndpoint.FromUrl(url, out _));

        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    // A password with an unencoded '@' and then '?': split at the '?' first, the rest of the
    // password was read as the query and named as an unknown parameter.
    [InlineData("postgresql://app:Tr0ub@dor?3xyz@db:5432/crm")]
    [InlineData("postgresql://app:Tr0ub@dor?3x=yz@db:5432/crm")]
    // With a '/' as well, the login ends before it, and the rest of the password is a path and a query.
    [InlineData("postgresql://app:Tr0ub@dor/9qz?3xyz@db:5432/crm")]
    [InlineData("postgresql://app:Tr0ub@dor/9qz?3x=yz@db:5432/crm")]
    [InlineData("postgresql://app:Tr0ub@dor/9qz?3x=%zz@db:5432/crm")]
    public void A_password_with_an_unencoded_at_sign_and_question_mark_is_refused_without_repeating_any_of_it(string url)
    {
        var problem = Assert.Throws<FormatException>(() => DatabaseEndpoint.FromUrl(url, out _));

        foreach (var part in new[] { "Tr0ub", "dor", "9qz", "3x", "yz" })
        {
            Assert.DoesNotContain(part, problem.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_at_sign_in_the_query_or_the_password_is_read_where_it_is()
    {
        var query = DatabaseEndpoint.FromUrl("postgresql://app:pw@db.internal/crm?application_name=me@laptop&sslmode=require", out var database);
        Assert.Equal("db.internal", query.Host);
        Assert.Equal("crm", database);
        Assert.Equal("require", query.SslMode);

        var socket = DatabaseEndpoint.FromUrl("postgresql://app:p@ss@?host=/cloudsql/p:r:i", out var none);
        Assert.Equal("/cloudsql/p:r:i", socket.Host);
        Assert.Equal("app", socket.User);
        Assert.Contains("Password=p@ss", socket.ConnectionString("crm"), StringComparison.Ordinal);
        Assert.Null(none);
    }

    [Fact]
    public void The_password_file_is_private_and_escapes_what_libpq_reads_specially()
    {
        var directory = Directory.CreateTempSubdirectory("endpoint-test-").FullName;
        try
        {
            var endpoint = DatabaseEndpoint.FromUrl("postgresql://u:a%5Cb%3Ac@h/db", out _);
            var path = Path.Combine(directory, "pgpass");

            endpoint.WritePasswordFile(path);

            Assert.Equal("*:*:*:*:a\\\\b\\:c\n", File.ReadAllText(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Throws<IOException>(() => endpoint.WritePasswordFile(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
