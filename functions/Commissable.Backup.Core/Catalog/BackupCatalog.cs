using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Storage;

namespace Commissable.Backup.Core.Catalog;

/// <summary>
/// The catalog is the set of manifests in the backup bucket: it survives the loss of any
/// database. A manifest is written once, create-only, after its dump is complete and checked;
/// verification records and holds are separate immutable objects beside it.
/// </summary>
public sealed class BackupCatalog
{
    private readonly IBackupStore _store;
    private readonly TimeProvider _clock;

    public BackupCatalog(IBackupStore store, string prefix, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        ArgumentNullException.ThrowIfNull(clock);
        _store = store;
        _clock = clock;
        Prefix = prefix.Trim('/');
    }

    public string Prefix { get; }
    public string Bucket => _store.Bucket;

    /// <summary>
    /// Records a backup. Idempotent: when the manifest already exists (a retry, or the twin of an
    /// event), nothing is written and the existing manifest is returned with <c>Created = false</c>.
    /// </summary>
    public async Task<(BackupManifest Manifest, bool Created)> RecordAsync(BackupObjectName name, BackupManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(manifest);
        try
        {
            await WriteJsonAsync(name.ManifestName, manifest, cancellationToken).ConfigureAwait(false);
            return (manifest, true);
        }
        catch (StorePreconditionFailedException)
        {
            var existing = await GetAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The manifest {name.ManifestName} exists but cannot be read.");
            return (existing, false);
        }
    }

    /// <summary>The manifest of a backup, or null when the backup is not (or not yet) complete.</summary>
    public async Task<BackupManifest?> GetAsync(BackupObjectName name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return await ReadJsonAsync<BackupManifest>(name.ManifestName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds an immutable verification record beside the backup's manifest.</summary>
    public async Task AddVerificationAsync(BackupObjectName name, VerificationRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(record);
        var objectName = string.Create(CultureInfo.InvariantCulture, $"{name.VerificationsPrefix}{record.StartTime.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{record.Id}.json");
        await WriteJsonAsync(objectName, record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Places a hold: the retention sweeper never deletes a held backup.</summary>
    public async Task<Hold> PlaceHoldAsync(BackupObjectName name, string reason, string placedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var hold = new Hold(Guid.NewGuid().ToString("N")[..12], reason, placedBy, _clock.GetUtcNow());
        await WriteJsonAsync($"{name.HoldsPrefix}{hold.Id}.json", hold, cancellationToken).ConfigureAwait(false);
        return hold;
    }

    public async Task ReleaseHoldAsync(BackupObjectName name, string holdId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await _store.DeleteAsync($"{name.HoldsPrefix}{holdId}.json", null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Every object under the prefix, grouped per backup name: manifests, verification records,
    /// holds, and the dump objects themselves (a directory-format export is several objects).
    /// Objects named as nothing the catalog knows are returned as <see cref="CatalogListing.Unknown"/>;
    /// objects under <c>PREFIX/.</c> (the product's own records) are skipped.
    /// </summary>
    public async Task<CatalogListing> ScanAsync(string? environment = null, string? instance = null, CancellationToken cancellationToken = default)
    {
        var scope = Prefix + "/" + (environment is null ? "" : environment + "/" + (instance is null ? "" : instance + "/"));
        var groups = new SortedDictionary<string, CatalogGroupBuilder>(StringComparer.Ordinal);
        var unknown = new List<StoredObject>();
        var reserved = Prefix + "/.";
        await foreach (var item in _store.ListAsync(scope, cancellationToken).ConfigureAwait(false))
        {
            // The product's own records (the data-management audit trail, its token ids) live under
            // "PREFIX/.": no environment name starts with a dot, so none is a backup, and none is
            // an unknown object for the retention sweeper to report or ever delete.
            if (item.Name.StartsWith(reserved, StringComparison.Ordinal)) continue;
            var (backupName, role) = Classify(item.Name);
            if (backupName is null)
            {
                unknown.Add(item);
                continue;
            }
            if (!groups.TryGetValue(backupName.Name, out var group))
            {
                groups[backupName.Name] = group = new CatalogGroupBuilder(backupName);
            }
            group.Add(role, item);
        }
        var entries = new List<CatalogEntry>();
        foreach (var group in groups.Values)
        {
            entries.Add(await group.BuildAsync(this, cancellationToken).ConfigureAwait(false));
        }
        return new CatalogListing(entries, unknown);
    }

    /// <summary>Lists the complete backups (those with a manifest), newest first, with their last verification and holds.</summary>
    public async IAsyncEnumerable<CatalogEntry> ListAsync(string? environment = null, string? instance = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var listing = await ScanAsync(environment, instance, cancellationToken).ConfigureAwait(false);
        foreach (var entry in listing.Entries.Where(e => e.Manifest is not null).OrderByDescending(e => e.Name.Time).ThenByDescending(e => e.Name.Name, StringComparer.Ordinal))
        {
            yield return entry;
        }
    }

    internal (BackupObjectName? Name, ObjectRole Role) Classify(string objectName)
    {
        foreach (var (marker, role) in new[] { (BackupObjectName.ManifestSuffix, ObjectRole.Manifest), (BackupObjectName.VerificationsSuffix, ObjectRole.Verification), (BackupObjectName.HoldsSuffix, ObjectRole.Hold) })
        {
            var at = objectName.IndexOf(marker, StringComparison.Ordinal);
            if (at > 0 && (role != ObjectRole.Manifest || at + marker.Length == objectName.Length)
                && BackupObjectName.TryParse(objectName[..at], Prefix, out var parsed))
            {
                return (parsed, role);
            }
        }
        if (BackupObjectName.TryParse(objectName, Prefix, out var dump))
        {
            return (dump, ObjectRole.Dump);
        }
        // A directory-format export: the backup name is a "directory" holding pg_dump's files.
        var slash = objectName.LastIndexOf('/');
        if (slash > 0 && BackupObjectName.TryParse(objectName[..slash], Prefix, out var directory) && directory!.Extension.Length == 0)
        {
            return (directory, ObjectRole.Dump);
        }
        return (null, ObjectRole.Dump);
    }

    internal async Task<T?> ReadJsonAsync<T>(string objectName, CancellationToken cancellationToken) where T : class
    {
        try
        {
            await using var stream = await _store.OpenReadAsync(objectName, cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<T>(stream, CatalogJson.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (StoredObjectNotFoundException)
        {
            return null;
        }
    }

    private async Task WriteJsonAsync<T>(string objectName, T value, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, CatalogJson.Options);
        using var content = new MemoryStream(bytes, writable: false);
        await _store.WriteAsync(objectName, content, "application/json", ifGenerationMatch: 0, cancellationToken).ConfigureAwait(false);
    }

    private sealed class CatalogGroupBuilder(BackupObjectName name)
    {
        private readonly List<StoredObject> _dump = [];
        private readonly List<StoredObject> _verifications = [];
        private readonly List<StoredObject> _holds = [];
        private StoredObject? _manifest;

        public void Add(ObjectRole role, StoredObject item)
        {
            switch (role)
            {
                case ObjectRole.Manifest: _manifest = item; break;
                case ObjectRole.Verification: _verifications.Add(item); break;
                case ObjectRole.Hold: _holds.Add(item); break;
                default: _dump.Add(item); break;
            }
        }

        public async Task<CatalogEntry> BuildAsync(BackupCatalog catalog, CancellationToken cancellationToken)
        {
            var manifest = _manifest is null ? null : await catalog.ReadJsonAsync<BackupManifest>(_manifest.Name, cancellationToken).ConfigureAwait(false);
            // Verification object names start with their UTC start time, so the last by name is the newest.
            var last = _verifications.Count == 0 ? null
                : await catalog.ReadJsonAsync<VerificationRecord>(_verifications.MaxBy(v => v.Name, StringComparer.Ordinal)!.Name, cancellationToken).ConfigureAwait(false);
            var holds = new List<Hold>();
            foreach (var hold in _holds)
            {
                if (await catalog.ReadJsonAsync<Hold>(hold.Name, cancellationToken).ConfigureAwait(false) is { } read) holds.Add(read);
            }
            return new CatalogEntry(name, manifest, _manifest, _dump, last, _verifications.Count, holds, [.. _verifications, .. _holds]);
        }
    }
}

internal enum ObjectRole
{
    Dump,
    Manifest,
    Verification,
    Hold,
}

/// <summary>A hold keeps a backup from the retention sweeper until released.</summary>
public sealed record Hold(string Id, string Reason, string PlacedBy, DateTimeOffset PlacedAt);

/// <summary>One backup name and everything stored for it.</summary>
public sealed record CatalogEntry(
    BackupObjectName Name,
    BackupManifest? Manifest,
    StoredObject? ManifestObject,
    IReadOnlyList<StoredObject> DumpObjects,
    VerificationRecord? LastVerification,
    int VerificationCount,
    IReadOnlyList<Hold> Holds,
    IReadOnlyList<StoredObject> SideObjects)
{
    /// <summary>Complete: the manifest exists. A backup run's manifest stands alone (no dump object).</summary>
    public bool IsComplete => Manifest is not null;
    public long DumpBytes => DumpObjects.Sum(o => o.Size);
}

/// <summary>A scan of the bucket: backups by name, and objects the catalog does not recognise.</summary>
public sealed record CatalogListing(IReadOnlyList<CatalogEntry> Entries, IReadOnlyList<StoredObject> Unknown);

/// <summary>JSON of catalog objects: camelCase, enums as strings, nulls omitted.</summary>
public static class CatalogJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
