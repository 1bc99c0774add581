using System.Net;
using System.Net.Sockets;
using Commissable.Backup.Postgres.Clusters;
using Npgsql;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>
/// A real PostgreSQL cluster for the tests of this assembly, started on 127.0.0.1 with a free
/// port in a temporary directory (as the unprivileged account when the tests run as root), and
/// removed afterwards. Each test takes its own database from <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class TestPostgres : IAsyncLifetime
{
    private const string SuperUser = "test_admin";
    private readonly string _password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"cpg-{Guid.NewGuid():N}"[..16]);
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
            ListenAddress = "127.0.0.1",
            Port = FreePort(),
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<TestPostgres>
{
    public const string Name = "postgres";
}
