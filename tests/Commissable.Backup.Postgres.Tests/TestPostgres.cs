using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Processes;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// A real PostgreSQL cluster for the tests of this assembly, started on the usual port of a
/// loopback address of its own (<see cref="NextAddress"/>) in a temporary directory (as the unprivileged account when the tests run as root), and
/// removed afterwards. Each test takes its own database from <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class TestPostgres : IAsyncLifetime
{
    private const string SuperUser = "test_admin";
    private readonly string _password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"cpg-{Guid.NewGuid():N}"[..16]);
    private static int _addresses;
    private PostgresCluster? _cluster;

    public PostgresCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");
    public PostgresBinaries Binaries { get; } = PostgresBinaries.Locate();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
        _cluster = new PostgresCluster(Binaries, new ClusterLayout
        {
            DataDirectory = Path.Combine(_root, "data"),
            LogFile = Path.Combine(_root, "postgres.log"),
            ListenAddress = NextAddress(),
            Port = 5432,
            SocketDirectory = Path.Combine(_root, "s"),
            RunAs = PostgresCluster.DefaultRunAs(),
        });
        await _cluster.InitAsync(SuperUser, _password);
        await _cluster.WriteRuntimeConfigAsync(new Dictionary<string, string>
        {
            ["fsync"] = "off",
            ["shared_buffers"] = "64MB",
        });
        await _cluster.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAsync();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public string ConnectionString(string database = "postgres") => Cluster.ConnectionString(SuperUser, _password, database);

    /// <summary>A new directory (0700) for the tests' files, removed with the cluster.</summary>
    public string CreateScratchDirectory(string prefix)
    {
        var path = Path.Combine(_root, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)]);
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>Creates an empty database with a unique name and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..30];
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>
    /// An address of 127.0.0.0/8 no other cluster of this process uses, in a block of this
    /// process's own, beside the blocks the local cloud's fixtures take (third octet 1 to 250): the
    /// server binds it itself on 5432, where a free port picked first and let go could be taken by
    /// any program before the server starts.
    /// </summary>
    private static string NextAddress() =>
        $"127.{20 + (Environment.ProcessId % 200)}.251.{Interlocked.Increment(ref _addresses) % 250 + 1}";
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<TestPostgres>
{
    public const string Name = "postgres";
}
