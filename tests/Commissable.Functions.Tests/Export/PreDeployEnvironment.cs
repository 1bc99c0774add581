namespace Commissable.Functions.Tests.Export;

/// <summary>
/// The functions against a local cloud: an instance <c>prod</c> with backups and PITR on, the
/// Tiny demo database in <c>crm</c>, and today's automated backup.
/// </summary>
public sealed class PreDeployEnvironment : LocalFunctionsEnvironment
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?> { ["EXPORT_WAIT_SECONDS"] = "300" };

    protected override Task PrepareAsync() => CreateSourceAsync("prod");
}
