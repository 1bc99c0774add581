using Commissable.Functions.Events;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.Completion;

/// <summary>Composition of the completion functions; needs the catalog, the store and the Cloud SQL client already registered.</summary>
public static class CompletionRegistration
{
    /// <summary>Registers <c>on-backup-completed</c> and <c>on-backup-audited</c>, their two readers and the recorder they share.</summary>
    public static IServiceCollection AddBackupCompletionFunctions(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<BackupCompletionRecorder>();
        services.AddSingleton<ExportedObjects>();
        services.AddSingleton<BackupRunNaming>();
        services.AddSingleton<StorageEventRecorder>();
        services.AddSingleton<AuditEntryRecorder>();
        services.AddCloudEventFunction<OnBackupCompletedFunction, StorageObjectData>(FunctionNames.OnBackupCompleted);
        services.AddCloudEventFunction<OnBackupAuditedFunction, LogEntryData>(CompletionNames.OnBackupAudited);
        return services;
    }
}
