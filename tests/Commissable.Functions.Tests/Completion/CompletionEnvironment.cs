using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Commissable.Functions.Tests.Completion;

/// <summary>
/// The functions against a local cloud with one instance <c>prod</c> (backups and PITR on), and
/// the real local backup store; without the demo database, which these tests never read.
/// </summary>
public sealed class CompletionEnvironment : LocalFunctionsEnvironment
{
    public IBackupStore Store => Services.GetRequiredService<IBackupStore>();
    public BackupCatalog Catalog => Services.GetRequiredService<BackupCatalog>();

    protected override Task PrepareAsync() => Cloud.CreateInstanceAsync("prod");
}
