using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Databases;
using Commissable.Backup.Core.Export;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Core.Tenants;
using Commissable.Backup.FileStore;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Storage;
using Commissable.Backup.Google.Workflows;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Core.Secrets;
using Commissable.Backup.Google.SecretManager;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Tenants;
using Commissable.Backup.Postgres.Verification;
using Commissable.Functions.Catalog;
using Commissable.Functions.DataManagement;
using Commissable.Functions.Export;
using Commissable.Functions.Grants;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Retention;
using Commissable.Functions.Secrets;
using Commissable.Functions.TenantRestore;
using Commissable.Functions.Verify;
using Google.Cloud.Storage.V1;

namespace Commissable.Functions;

/// <summary>
/// The composition of the backup functions: the clients they share (singletons) and the
/// functions under their stable names. Production and the tests compose the same way.
/// </summary>
public static class BackupFunctions
{
    /// <summary>The database role the functions read databases with: restored copies, staging, and production for the recovery evidence (a member of pg_read_all_data).</summary>
    public const string InspectorUser = "INSPECTOR_DB_USER";
    /// <summary>File holding that role's password (a mounted Secret Manager secret on Cloud Run).</summary>
    public const string InspectorPasswordFile = "INSPECTOR_DB_PASSWORD_FILE";
    /// <summary>Directory of the instances' Unix sockets (<c>/cloudsql</c> on Cloud Run); unset connects to the instance's IP.</summary>
    public const string SocketRoot = "CLOUDSQL_SOCKET_ROOT";
    /// <summary>Seconds between a running export's heartbeats (default 30).</summary>
    public const string ExportHeartbeatSeconds = "EXPORT_HEARTBEAT_SECONDS";
    /// <summary>Seconds without a heartbeat after which an export counts as dead and is taken over (default 300; more than twice the heartbeat).</summary>
    public const string ExportStaleAfterSeconds = "EXPORT_STALE_AFTER_SECONDS";
    /// <summary>
    /// Directory of the PostgreSQL client programs (pg_dump, pg_restore) the content manifests are
    /// read with (the image sets it); unset asks <c>pg_config --bindir</c>, then the PATH.
    /// </summary>
    public const string PostgresBinDirectory = "PG_BIN_DIR";
    /// <summary>
    /// The database role tenant-restore reads the staged copy and writes production with: one that
    /// row-level security does not hide rows from (the owner of the app's tables when RLS is not
    /// FORCEd, or a role with BYPASSRLS), with write privileges on production. Unset (with
    /// <see cref="TenantRestorePasswordFile"/>): tenant-restore answers every request 503.
    /// </summary>
    public const string TenantRestoreUser = "TENANT_RESTORE_DB_USER";
    /// <summary>File holding <see cref="TenantRestoreUser"/>'s password (a mounted Secret Manager secret on Cloud Run).</summary>
    public const string TenantRestorePasswordFile = "TENANT_RESTORE_DB_PASSWORD_FILE";
    /// <summary>Minutes the whole export may take before it ends failed and releases its lease (default 120).</summary>
    public const string ExportDeadlineMinutes = "EXPORT_DEADLINE_MINUTES";

    public static IServiceCollection AddBackupFunctions(this IServiceCollection services, FunctionSettings settings, IFunctionEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        var missing = new[] { InspectorUser, InspectorPasswordFile }.Where(v => string.IsNullOrWhiteSpace(environment.GetVariable(v))).ToList();
        if (missing.Count > 0)
        {
            throw new FunctionStartupException(
                $"{string.Join(" and ", missing)} must be set: the functions read the databases they verify with that role.", missing);
        }

        services.AddSingleton<ICloudSqlAdmin>(_ => new CloudSqlAdminClientBuilder
        {
            ProjectId = settings.ProjectId,
            BaseUri = settings.CloudSqlApiEndpoint,
            TokenSource = settings.CloudSqlTokenFile is { } tokenFile ? new FileTokenSource(tokenFile) : null,
            // Pipelines and workflows wait on these answers: notice a finished operation promptly.
            PollSettings = CloudSqlPollSettings.Responsive,
        }.Build());
        // Only in local mode (FunctionSettings refuses LOCAL_STATE_DIR otherwise): the local cloud's bucket directories.
        services.AddSingleton<IBackupStore>(sp => settings.LocalStateDirectory is not { } localState
            ? new GcsBackupStore(StorageClient.Create(), settings.BackupBucket)
            : new LocalBackupStore(new BucketPaths(localState), settings.BackupBucket, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new BackupCatalog(sp.GetRequiredService<IBackupStore>(), settings.BackupPrefix, sp.GetRequiredService<TimeProvider>()));
        var login = new DatabaseLoginOptions
        {
            User = environment.GetVariable(InspectorUser)!,
            PasswordFile = environment.GetVariable(InspectorPasswordFile)!,
            SocketRoot = environment.GetVariable(SocketRoot) is { Length: > 0 } root ? root : null,
        };
        // One login for every database the functions reach: restore-verify reads the database it
        // checks with it (Npgsql and pg_dump), grant-app-user grants with it (so it must own
        // the imported tables, or be a member of their owner).
        // pg_dump and pg_restore: the content manifest of a backup is read from its bytes (pg_restore
        // for directory and custom format), and a restored database is read back with pg_dump.
        services.AddSingleton<IBackupContentReader>(sp => new PostgresBackupContentReader(
            login, sp.GetRequiredService<IBackupStore>(), PostgresBinaries.LocateClient(environment.GetVariable(PostgresBinDirectory) is { Length: > 0 } bin ? bin : null)));
        services.AddSingleton<IRestoredDatabaseChecks>(new PostgresRestoredDatabaseChecks(login));
        services.AddSingleton<IDatabaseCensus>(new PostgresDatabaseCensus(login));
        services.AddSingleton<IAppUserGrants>(new PostgresAppUserGrants(login));
        services.AddSingleton(ExportOptions(settings, environment));
        services.AddSingleton(sp => new PreDeployExporter(
            sp.GetRequiredService<ICloudSqlAdmin>(), sp.GetRequiredService<IBackupStore>(), sp.GetRequiredService<BackupCatalog>(),
            sp.GetRequiredService<IBackupContentReader>(), sp.GetRequiredService<PreDeployOptions>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PreDeployExporter>>(),
            // A shutdown ends every running export failed, with its lease released, rather than leaving them to go stale.
            sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping));
        services.AddHostedService<ExportDrain>();
        services.AddHttpFunction<PreDeployExportFunction>(FunctionNames.PreDeployExport);
        services.AddHttpFunction<RetentionSweeperFunction>(FunctionNames.RetentionSweeper);
        services.AddHttpFunction<CatalogFunction>(FunctionNames.Catalog);
        Completion.CompletionRegistration.AddBackupCompletionFunctions(services); // on-backup-completed + on-backup-audited
        services.AddSingleton<RecoveryEvidenceCollector>();
        services.AddSingleton<RestoreVerifier>();
        services.AddHttpFunction<RestoreVerifyFunction>(FunctionNames.RestoreVerify);
        services.AddSingleton<AppUserGranter>();
        services.AddHttpFunction<GrantAppUserFunction>(FunctionNames.GrantAppUser);
        // Secret values live in these functions, never in a workflow variable (execution call logging
        // would write them to Cloud Logging). In local mode: the local cloud's secrets, which the
        // local workflow runner's Secret Manager connector and `secrets put` use too.
        services.AddSingleton<ISecretManager>(_ => settings.LocalStateDirectory is { } secretsState
            ? new LocalSecretManager(new LocalSecretStore(Path.Combine(secretsState, "secrets")), settings.ProjectId)
            : new SecretManagerClientBuilder { ProjectId = settings.ProjectId }.Build());
        services.AddSingleton<ConnectionSecrets>();
        services.AddHttpFunction<SecretCheckFunction>(FunctionNames.SecretCheck);
        services.AddHttpFunction<SecretRepointFunction>(FunctionNames.SecretRepoint);
        services.AddSingleton<AppUserCreator>();
        services.AddHttpFunction<StagingAppUserFunction>(FunctionNames.StagingAppUser);
        if (TenantRestoreLogin(environment) is { } tenantLogin)
        {
            services.AddSingleton<ITenantRestorer>(new PostgresTenantRestorer(tenantLogin));
        }
        // Registered either way: without the login its runner has no ITenantRestorer and answers 503.
        services.AddSingleton<TenantRestoreRunner>();
        services.AddHttpFunction<TenantRestoreFunction>(FunctionNames.TenantRestore);
        // Unset DATA_MANAGEMENT_* (all three): registered anyway and answers 503, as tenant-restore
        // without its login, so the other functions' hosts and local mode start without them; a
        // host whose FUNCTION_TARGET is data-management refuses to start instead (Read throws).
        var dataManagement = DataManagementOptions.Read(environment);
        // Its jobs (unset: the job actions answer 503) start workflows through the Workflow
        // Executions API: Google's, or local up's in local mode, with the same token as Cloud SQL.
        var jobs = DataManagementJobOptions.Read(environment, settings.ProjectId);
        if (jobs is not null)
        {
            services.AddSingleton<IWorkflowExecutions>(_ => new WorkflowExecutionsClientBuilder
            {
                BaseUri = jobs.ExecutionsEndpoint ?? WorkflowExecutionsClient.DefaultBaseUri,
                TokenSource = settings.CloudSqlTokenFile is { } tokenFile ? new FileTokenSource(tokenFile) : null,
            }.Build());
        }
        services.AddSingleton(sp => new DataManagementAccess(
            dataManagement is null ? null : new ActingUserTokens(dataManagement, sp.GetRequiredService<IBackupStore>(), settings.BackupPrefix, sp.GetRequiredService<TimeProvider>()),
            new DataManagementAudit(sp.GetRequiredService<IBackupStore>(), settings.BackupPrefix, sp.GetRequiredService<ILogger<DataManagementAudit>>()),
            jobs is null ? null : new DataManagementJobs(
                jobs, sp.GetRequiredService<IWorkflowExecutions>(), new DataManagementJobStore(sp.GetRequiredService<IBackupStore>(), settings.BackupPrefix),
                sp.GetRequiredService<BackupCatalog>(), settings.BackupPrefix, sp.GetRequiredService<TimeProvider>())));
        services.AddHttpFunction<DataManagementFunction>(FunctionNames.DataManagement);
        return services;
    }

    /// <summary>
    /// tenant-restore's own login, or null when neither variable is set. Only one of them set is a
    /// start-up error naming the other: a half-configured login would otherwise pass unnoticed
    /// until the first restore, during an incident.
    /// </summary>
    internal static DatabaseLoginOptions? TenantRestoreLogin(IFunctionEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var (user, passwordFile) = (environment.GetVariable(TenantRestoreUser), environment.GetVariable(TenantRestorePasswordFile));
        if (string.IsNullOrWhiteSpace(user) && string.IsNullOrWhiteSpace(passwordFile))
        {
            return null;
        }
        var missing = new[] { (TenantRestoreUser, user), (TenantRestorePasswordFile, passwordFile) }.Where(v => string.IsNullOrWhiteSpace(v.Item2)).Select(v => v.Item1).ToList();
        if (missing.Count > 0)
        {
            throw new FunctionStartupException(
                $"{missing[0]} must be set too: tenant-restore needs both {TenantRestoreUser} and {TenantRestorePasswordFile} (or neither, and it answers 503).", missing);
        }
        return new DatabaseLoginOptions
        {
            User = user!,
            PasswordFile = passwordFile!,
            SocketRoot = environment.GetVariable(SocketRoot) is { Length: > 0 } root ? root : null,
        };
    }

    /// <summary>
    /// The pre-deploy export's options: the naming from the settings, the liveness and wait limits
    /// from <c>EXPORT_*</c> variables (defaults as in <see cref="PreDeployOptions"/>), each checked here
    /// so a bad value stops the start naming its variable.
    /// </summary>
    internal static PreDeployOptions ExportOptions(FunctionSettings settings, IFunctionEnvironment environment)
    {
        var defaults = new PreDeployOptions { Environment = settings.EnvironmentName };
        var reader = new EnvironmentReader(environment);
        var heartbeat = reader.Integer(ExportHeartbeatSeconds, (int)defaults.HeartbeatInterval.TotalSeconds, 1, 600, "a whole number of seconds");
        var staleAfter = reader.Integer(ExportStaleAfterSeconds, (int)defaults.StaleAfter.TotalSeconds, 3, 3600, "a whole number of seconds");
        if (!reader.HasProblems && staleAfter <= 2 * heartbeat)
        {
            reader.Problem(ExportStaleAfterSeconds,
                $"{ExportStaleAfterSeconds} ({staleAfter}) must be more than twice {ExportHeartbeatSeconds} ({heartbeat}): otherwise one late heartbeat makes a live export look dead and another takes it over");
        }
        var deadline = reader.Integer(ExportDeadlineMinutes, (int)defaults.Deadline.TotalMinutes, 1, 1440, "a whole number of minutes");
        reader.ThrowIfInvalid();
        return defaults with
        {
            Prefix = settings.BackupPrefix,
            MaxBackupAge = settings.MaxBackupAge,
            HeartbeatInterval = TimeSpan.FromSeconds(heartbeat),
            StaleAfter = TimeSpan.FromSeconds(staleAfter),
            TenantColumn = settings.TenantColumn,
            Deadline = TimeSpan.FromMinutes(deadline),
        };
    }

    /// <summary>Waits, when the host stops, for the running exports to write their failed tickets and release their leases.</summary>
    private sealed class ExportDrain(PreDeployExporter exporter) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        // ApplicationStopping, which ended the exports, fires before the hosted services stop;
        // the host's shutdown timeout bounds this wait.
        public Task StopAsync(CancellationToken cancellationToken) => exporter.DrainAsync().WaitAsync(cancellationToken);
    }
}
