using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Clusters;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud.Api;
using Commissable.LocalCloud.State;
using Npgsql;

namespace Commissable.LocalCloud.Instances;

/// <summary>
/// The instances: their records on disk, their clusters, and the admin connection the local
/// cloud uses to act inside them (as the internal superuser <c>cloudsqladmin</c>, like Cloud SQL's
/// own agent; the <c>postgres</c> user is a member of <c>cloudsqlsuperuser</c>, not a superuser).
/// </summary>
internal sealed class InstanceManager
{
    public const string AdminUser = "cloudsqladmin";
    public const string SuperuserRole = "cloudsqlsuperuser";

    /// <summary>0755: directories the clusters' account must pass through.</summary>
    public const UnixFileMode TraversableMode = (UnixFileMode)0b111_101_101;

    private readonly LocalCloudOptions _options;
    private readonly ILogger<InstanceManager> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, InstanceRecord> _records = new(StringComparer.Ordinal);

    public InstanceManager(LocalCloudOptions options, ILogger<InstanceManager> logger)
    {
        _options = options;
        _logger = logger;
        Root = Path.Combine(options.StateDirectory, "instances");
        // The clusters' account passes through these; set the mode explicitly, whatever the umask.
        foreach (var directory in new[] { Root, Path.Combine(options.StateDirectory, "cloudsql") })
        {
            Directory.CreateDirectory(directory);
            File.SetUnixFileMode(directory, TraversableMode);
        }
        if (options.StateDirectory.Contains('\'', StringComparison.Ordinal))
        {
            throw new ArgumentException("The state directory must not contain a single quote.");
        }
    }

    public string Root { get; }
    public PostgresBinaries Binaries => _options.Binaries;

    public string InstanceDirectory(string name) => Path.Combine(Root, name);
    public string DataDirectory(string name) => Path.Combine(Root, name, "data");
    public string WalArchive(string name) => Path.Combine(Root, name, "wal");
    public string BackupsDirectory(string name) => Path.Combine(Root, name, "backups");
    private string RecordFile(string name) => Path.Combine(Root, name, "instance.json");
    private string SecretFile(string name) => Path.Combine(Root, name, "admin.secret");

    /// <summary>Loads every instance and starts the clusters of the runnable ones.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (var directory in Directory.EnumerateDirectories(Root))
        {
            var json = AtomicFile.ReadJson(Path.Combine(directory, "instance.json"));
            if (json is null)
            {
                continue;
            }
            var record = InstanceRecord.FromJson(json);
            lock (_lock)
            {
                _records[record.Name] = record;
            }
            if (record.State is "PENDING_CREATE")
            {
                // Its creation was cut off by a crash: the operation already ended with an error.
                await DiscardAsync(record, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (record.State is "RUNNABLE" or "MAINTENANCE")
            {
                try
                {
                    var cluster = Cluster(record);
                    if (!await cluster.IsRunningAsync(cancellationToken).ConfigureAwait(false))
                    {
                        await StartAsync(record, cancellationToken).ConfigureAwait(false);
                    }
                    record.State = "RUNNABLE";
                }
                catch (Exception error) when (error is InvalidOperationException or ExternalProcessException)
                {
                    record.State = "FAILED";
                    _logger.LogError("instance {Instance} did not start: {Error}", record.Name, error.Message);
                }
                Save(record);
            }
        }
    }

    public IReadOnlyList<InstanceRecord> All(string? project = null)
    {
        lock (_lock)
        {
            return _records.Values.Where(r => project is null || r.Project == project).OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        }
    }

    public InstanceRecord? Find(string project, string name)
    {
        lock (_lock)
        {
            return _records.TryGetValue(name, out var record) && record.Project == project ? record : null;
        }
    }

    public InstanceRecord Get(string project, string name) =>
        Find(project, name) ?? throw ApiException.NotFound($"The Cloud SQL instance '{name}' does not exist in project '{project}'.");

    /// <summary>Gets an instance that must be running to serve the request.</summary>
    public InstanceRecord GetRunnable(string project, string name)
    {
        var record = Get(project, name);
        if (record.State != "RUNNABLE")
        {
            throw new ApiException(400, "invalidState", $"The instance '{name}' is {record.State}, not RUNNABLE.");
        }
        return record;
    }

    /// <summary>Registers a new instance in PENDING_CREATE with a free loopback address; 409 if the name is taken.</summary>
    public InstanceRecord Register(string project, string name, JsonObject resource, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_records.ContainsKey(name))
            {
                throw ApiException.Conflict($"The Cloud SQL instance '{name}' already exists.");
            }
            var record = new InstanceRecord
            {
                Name = name,
                Project = project,
                Resource = resource,
                Address = AllocateAddress(),
                State = "PENDING_CREATE",
                CreateTime = now,
            };
            record.BackupsEnabledAt = record.BackupsEnabled ? now : null;
            _records[name] = record;
            Save(record);
            return record;
        }
    }

    public void Save(InstanceRecord record)
    {
        lock (_lock)
        {
            AtomicFile.WriteJson(RecordFile(record.Name), record.ToJson());
        }
    }

    /// <summary>Stops the cluster and removes the instance with everything it holds (its backups too, as on Google).</summary>
    public async Task DiscardAsync(InstanceRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await Cluster(record).StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ExternalProcessException error)
        {
            _logger.LogWarning("could not stop the cluster of {Instance}: {Error}", record.Name, error.Message);
        }
        lock (_lock)
        {
            _records.Remove(record.Name);
        }
        Directory.Delete(InstanceDirectory(record.Name), recursive: true);
        var socket = SocketDirectory(record);
        if (Directory.Exists(socket))
        {
            Directory.Delete(socket, recursive: true);
        }
    }

    public string SocketDirectory(InstanceRecord record) =>
        Path.Combine(_options.StateDirectory, "cloudsql", record.ConnectionName);

    public PostgresCluster Cluster(InstanceRecord record) => new(_options.Binaries, new ClusterLayout
    {
        DataDirectory = DataDirectory(record.Name),
        LogFile = Path.Combine(InstanceDirectory(record.Name), "postgres.log"),
        ListenAddress = record.Address,
        Port = 5432,
        SocketDirectory = SocketDirectory(record),
        RunAs = _options.RunAs,
    });

    /// <summary>The internal superuser's password; it travels with the data (base backups hold the role).</summary>
    public string AdminPassword(string name) => File.ReadAllText(SecretFile(name)).Trim();

    public string AdminPasswordFile(string name) => SecretFile(name);

    public void SetAdminPassword(string name, string password) => AtomicFile.WriteSecret(SecretFile(name), password);

    public static string NewSecret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();

    public string AdminConnectionString(InstanceRecord record, string database = "postgres") =>
        Cluster(record).ConnectionString(AdminUser, AdminPassword(record.Name), database);

    public async Task<NpgsqlConnection> OpenAdminAsync(InstanceRecord record, string database = "postgres", CancellationToken cancellationToken = default)
    {
        var connection = new NpgsqlConnection(AdminConnectionString(record, database));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public async Task ExecuteAsync(InstanceRecord record, string sql, string database = "postgres", CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAdminAsync(record, database, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates and starts a fresh cluster with Cloud SQL's roles.</summary>
    public async Task InitializeAsync(InstanceRecord record, string? rootPassword, CancellationToken cancellationToken)
    {
        var directory = InstanceDirectory(record.Name);
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, TraversableMode);
        var adminPassword = NewSecret();
        SetAdminPassword(record.Name, adminPassword);
        var cluster = Cluster(record);
        await cluster.InitAsync(AdminUser, adminPassword, cancellationToken).ConfigureAwait(false);
        await StartAsync(record, cancellationToken).ConfigureAwait(false);
        var postgresPassword = rootPassword is null ? "" : $" PASSWORD '{Scram.Verifier(rootPassword)}'";
        await ExecuteAsync(record,
            $"""
            CREATE ROLE {SuperuserRole} NOLOGIN CREATEDB CREATEROLE;
            CREATE ROLE postgres LOGIN CREATEDB CREATEROLE IN ROLE {SuperuserRole}{postgresPassword};
            ALTER DATABASE postgres OWNER TO {SuperuserRole};
            """, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the instance's settings (address, WAL archiving when PITR is on) and starts its cluster.</summary>
    public async Task StartAsync(InstanceRecord record, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? recovery = null)
    {
        if (!CanBind(record.Address))
        {
            throw new InvalidOperationException(
                $"Instance '{record.Name}' cannot listen on {record.Address}:5432: another process holds that address and port. Stop it, or delete the instance.");
        }
        await WriteRuntimeConfigAsync(record, cancellationToken, recovery).ConfigureAwait(false);
        await Cluster(record).StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the settings the instance's cluster reads at its next start.</summary>
    public async Task WriteRuntimeConfigAsync(InstanceRecord record, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? recovery = null)
    {
        var cluster = Cluster(record);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["wal_level"] = "replica",
            ["archive_mode"] = record.PitrEnabled ? "on" : "off",
            // Idle instances still close a WAL segment every 5 minutes, bounding data loss (RPO).
            ["archive_timeout"] = "300",
            ["log_line_prefix"] = "%m [%p] %q%u@%d ",
        };
        if (record.PitrEnabled)
        {
            var archive = WalArchive(record.Name);
            Directory.CreateDirectory(archive);
            await cluster.GiveAsync(archive, cancellationToken).ConfigureAwait(false);
            settings["archive_command"] = $"test ! -f '{archive}/%f' && cp '%p' '{archive}/%f'";
        }
        foreach (var (key, value) in recovery ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }
        await cluster.WriteRuntimeConfigAsync(settings, cancellationToken).ConfigureAwait(false);
    }

    public async Task RestartAsync(InstanceRecord record, CancellationToken cancellationToken)
    {
        await Cluster(record).StopAsync(cancellationToken).ConfigureAwait(false);
        await StartAsync(record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops every cluster (graceful shutdown of the local cloud).</summary>
    public async Task StopAllAsync(CancellationToken cancellationToken)
    {
        foreach (var record in All())
        {
            try
            {
                await Cluster(record).StopAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ExternalProcessException error)
            {
                _logger.LogWarning("could not stop the cluster of {Instance}: {Error}", record.Name, error.Message);
            }
        }
    }

    /// <summary>Instance state as the API returns it: the stored resource plus computed fields.</summary>
    public JsonObject ToApi(InstanceRecord record, string baseUrl)
    {
        var json = record.Resource.DeepClone().AsObject();
        json.Remove("rootPassword");
        json["kind"] = "sql#instance";
        json["name"] = record.Name;
        json["project"] = record.Project;
        json["state"] = record.State;
        json["databaseVersion"] = _options.Binaries.DatabaseVersion;
        json["region"] = record.Region;
        json["gceZone"] ??= record.Region + "-a";
        json["backendType"] = "SECOND_GEN";
        json["instanceType"] ??= "CLOUD_SQL_INSTANCE";
        json["connectionName"] = record.ConnectionName;
        json["createTime"] = Operations.OperationManager.Timestamp(record.CreateTime);
        json["selfLink"] = $"{baseUrl}sql/v1beta4/projects/{record.Project}/instances/{record.Name}";
        json["ipAddresses"] = new JsonArray(new JsonObject { ["type"] = "PRIMARY", ["ipAddress"] = record.Address });
        json["serviceAccountEmailAddress"] ??= $"p-{record.Project}@localcloud.iam.gserviceaccount.com";
        var settings = json["settings"] as JsonObject ?? new JsonObject();
        json["settings"] = settings;
        settings["kind"] = "sql#settings";
        settings["settingsVersion"] = record.SettingsVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["tier"] ??= "db-custom-1-3840";
        settings["activationPolicy"] ??= "ALWAYS";
        settings["dataDiskType"] ??= "PD_SSD";
        settings["availabilityType"] ??= "ZONAL";
        var backup = settings["backupConfiguration"] as JsonObject ?? new JsonObject();
        settings["backupConfiguration"] = backup;
        backup["kind"] = "sql#backupConfiguration";
        backup["enabled"] ??= false;
        backup["startTime"] ??= record.BackupStartTime;
        backup["pointInTimeRecoveryEnabled"] ??= false;
        backup["transactionLogRetentionDays"] ??= record.TransactionLogRetentionDays;
        backup["backupRetentionSettings"] ??= new JsonObject { ["retentionUnit"] = "COUNT", ["retainedBackups"] = record.RetainedBackups };
        return json;
    }

    private string AllocateAddress()
    {
        var taken = _records.Values.Select(r => r.Address).ToHashSet(StringComparer.Ordinal);
        for (var host = 2; host < 255; host++)
        {
            var address = $"{_options.AddressPrefix}.{host}";
            if (!taken.Contains(address) && CanBind(address))
            {
                return address;
            }
        }
        throw new ApiException(503, "backendError",
            $"No free loopback address in {_options.AddressPrefix}.2-254 has port 5432 free; delete an instance or choose another --address-prefix.");
    }

    private static bool CanBind(string address)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Parse(address), 5432);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
