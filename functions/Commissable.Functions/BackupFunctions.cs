using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Export;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Google.Auth;
using Commissable.Backup.Google.CloudSql;
using Commissable.Backup.Google.Storage;
using Commissable.Backup.Postgres.Verification;
using Commissable.Functions.Catalog;
using Commissable.Functions.Export;
using Commissable.Functions.Grants;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Retention;
using Commissable.Functions.Verify;
using Commissable.LocalCloud.Storage;
using Google.Cloud.Storage.V1;

namespace Commissable.Functions;

/// <summary>
/// The composition of the backup functions: the clients they share (singletons) and the
/// functions under their stable names. Production and the tests compose the same way.
/// </summary>
public static class BackupFunctions
{
    /// <summary>Directory of the local cloud's state; when set, backups go to its bucket directories instead of Cloud Storage.</summary>
    public const string LocalStateDirectory = "LOCAL_STATE_DIR";
    /// <summary>The database role the functions read source databases with (a member of pg_read_all_data).</summary>
    public const string InspectorUser = "INSPECTOR_DB_USER";
    /// <summary>File holding that role's password (a mounted Secret Manager secret on Cloud Run).</summary>
    public const string InspectorPasswordFile = "INSPECTOR_DB_PASSWORD_FILE";
    /// <summary>Directory of the instances' Unix sockets (<c>/cloudsql</c> on Cloud Run); unset connects to the instance's IP.</summary>
    public const string SocketRoot = "CLOUDSQL_SOCKET_ROOT";

    public static IServiceCollection AddBackupFunctions(this IServiceCollection services, FunctionSettings settings, IFunctionEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        var missing = new[] { InspectorUser, InspectorPasswordFile }.Where(v => string.IsNullOrWhiteSpace(environment.GetVariable(v))).ToList();
        if (missing.Count > 0)
        {
            throw new FunctionStartupException(
                $"{string.Join(" and ", missing)} must be set: the functions read the source database before an export with that role.", missing);
        }
        var localState = environment.GetVariable(LocalStateDirectory);

        services.AddSingleton<ICloudSqlAdmin>(_ => new CloudSqlAdminClientBuilder
        {
            ProjectId = settings.ProjectId,
            BaseUri = settings.CloudSqlApiEndpoint,
            TokenSource = settings.CloudSqlTokenFile is { } tokenFile ? new FileTokenSource(tokenFile) : null,
            // Pipelines and workflows wait on these answers: notice a finished operation promptly.
            PollSettings = CloudSqlPollSettings.Responsive,
        }.Build());
        services.AddSingleton<IBackupStore>(sp => string.IsNullOrWhiteSpace(localState)
            ? new GcsBackupStore(StorageClient.Create(), settings.BackupBucket)
            : new LocalBackupStore(new BucketPaths(localState), settings.BackupBucket, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new BackupCatalog(sp.GetRequiredService<IBackupStore>(), settings.BackupPrefix, sp.GetRequiredService<TimeProvider>()));
        var login = new DatabaseLoginOptions
        {
            User = environment.GetVariable(InspectorUser)!,
            PasswordFile = environment.GetVariable(InspectorPasswordFile)!,
            SocketRoot = environment.GetVariable(SocketRoot) is { Length: > 0 } root ? root : null,
        };
        services.AddSingleton(login);
        services.AddSingleton<IDatabaseInspector>(new PostgresDatabaseInspector(login));
        services.AddSingleton(new PreDeployOptions
        {
            Environment = settings.EnvironmentName,
            Prefix = settings.BackupPrefix,
            MaxBackupAge = settings.MaxBackupAge,
        });
        services.AddSingleton<PreDeployExporter>();
        services.AddHttpFunction<PreDeployExportFunction>(FunctionNames.PreDeployExport);
        services.AddHttpFunction<RetentionSweeperFunction>(FunctionNames.RetentionSweeper);
        services.AddHttpFunction<CatalogFunction>(FunctionNames.Catalog);
        Completion.CompletionRegistration.AddBackupCompletionFunctions(services); // on-backup-completed + on-backup-audited
        // restore-verify reads the scratch database with the inspector's login.
        services.AddSingleton(sp => (PostgresDatabaseInspector)sp.GetRequiredService<IDatabaseInspector>());
        services.AddSingleton<RestoreVerifier>();
        services.AddHttpFunction<RestoreVerifyFunction>(FunctionNames.RestoreVerify);
        // grant-app-user grants with the same login (it must own the imported tables, or be a member of their owner).
        services.AddSingleton<AppUserGranter>();
        services.AddHttpFunction<GrantAppUserFunction>(FunctionNames.GrantAppUser);
        return services;
    }
}
