namespace Commissable.Functions.Hosting;

/// <summary>
/// The stable names of the functions: the values of <c>FUNCTION_TARGET</c>, the paths in local mode
/// (<c>/pre-deploy-export</c>...) and the <c>function</c> log label. Workflows and deploy scripts
/// depend on them: never rename one.
/// </summary>
public static class FunctionNames
{
    /// <summary>HTTP: checks backups and PITR, exports before a deploy, answers pass/fail.</summary>
    public const string PreDeployExport = "pre-deploy-export";

    /// <summary>CloudEvent: records a finished backup in the catalog (storage finalize, audit log).</summary>
    public const string OnBackupCompleted = "on-backup-completed";

    /// <summary>CloudEvent: Cloud Audit Log entries of Cloud SQL exports and backup runs (the twin of <see cref="OnBackupCompleted"/>).</summary>
    public const string OnBackupAudited = "on-backup-audited";

    /// <summary>
    /// HTTP: restores a backup into a scratch database and runs the smoke checks; with
    /// <c>"mode": "live"</c>, runs them read-only on a live database in place.
    /// </summary>
    public const string RestoreVerify = "restore-verify";

    /// <summary>HTTP: grants an existing login the privileges the CRM application needs on a (never production) database.</summary>
    public const string GrantAppUser = "grant-app-user";

    /// <summary>HTTP: restores one tenant's rows from a staged scratch restore into production: plan, apply (approved), record.</summary>
    public const string TenantRestore = "tenant-restore";

    /// <summary>HTTP: applies the retention policy to exports and on-demand backups.</summary>
    public const string RetentionSweeper = "retention-sweeper";

    /// <summary>HTTP GET: lists the backup catalog.</summary>
    public const string Catalog = "catalog";

    /// <summary>HTTP: the CRM backend's requests on behalf of a signed-in user (acting-user token), each audited.</summary>
    public const string DataManagement = "data-management";

    /// <summary>HTTP: whether the latest version of a connection secret names an instance (disaster-recovery, before it creates anything); never the value.</summary>
    public const string SecretCheck = "secret-check";

    /// <summary>HTTP: adds a version of a connection secret naming another instance (disaster-recovery's swap, after the approval); never the value.</summary>
    public const string SecretRepoint = "secret-repoint";

    /// <summary>HTTP: creates the staging app user with the password from a secret, only when missing (clone-prod-to-staging); never the password.</summary>
    public const string StagingAppUser = "staging-app-user";

    /// <summary>Every name above.</summary>
    public static IReadOnlyList<string> All { get; } = [PreDeployExport, OnBackupCompleted, OnBackupAudited, RestoreVerify, GrantAppUser, RetentionSweeper, Catalog, TenantRestore, DataManagement, SecretCheck, SecretRepoint, StagingAppUser];
}
