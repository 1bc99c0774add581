using System.CommandLine;
using System.Text.Json;
using Commissable.Backup.Cli.Commands.Executions;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Core.Naming;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.FileStore;
using Commissable.Backup.Google.Storage;
using Google.Apis.Auth.OAuth2;
using Google.Cloud.Storage.V1;

namespace Commissable.Backup.Cli.Commands.Operator;

/// <summary>
/// <c>--local-state</c> and <c>--token-file</c>: where <c>gs://</c> URIs are read and written.
/// Cloud Storage with Application Default Credentials by default; a token file's access token
/// instead; or, for rehearsals, the local cloud's buckets under its state directory.
/// </summary>
internal sealed class BucketOptionSet
{
    public Option<string> LocalState { get; } = CliOptions.Valued("--local-state", "DIR",
        "read and write gs:// URIs in the local cloud's buckets under its state directory DIR instead of Cloud Storage");

    public Option<string> TokenFile { get; } = CliOptions.Valued("--token-file", "F",
        "a file holding an OAuth access token for Cloud Storage (default: Application Default Credentials)");

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(LocalState);
        command.Options.Add(TokenFile);
    }

    /// <summary>The store of <paramref name="bucket"/>, as the options say.</summary>
    public async Task<IBackupStore> OpenAsync(ParseResult result, string bucket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.GetValue(LocalState) is { } state)
        {
            var directory = InputRules.StateDirectory(LocalState.Name, state);
            if (!Directory.Exists(Path.Combine(directory, "buckets")))
            {
                throw new UsageException($"{LocalState.Name} '{directory}' holds no local cloud buckets (run 'commissable-backup local up' or 'drill' with --state {directory} first)");
            }
            return new LocalBackupStore(new BucketPaths(directory), bucket);
        }
        if (result.GetValue(TokenFile) is { } tokenFile)
        {
            var path = InputRules.ExistingFile(TokenFile.Name, tokenFile);
            var token = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
            return new GcsBackupStore(await StorageClient.CreateAsync(GoogleCredential.FromAccessToken(token)).ConfigureAwait(false), bucket);
        }
        return new GcsBackupStore(await StorageClient.CreateAsync().ConfigureAwait(false), bucket);
    }
}

/// <summary>
/// A dump to read on this machine: a file (or a directory-format dump's directory) as given, or a
/// <c>gs://</c> object downloaded into a private temporary directory (0700, its files 0600) that is
/// removed with this. <see cref="Manifest"/> is the manifest beside it: <c>FILE.manifest.json</c>
/// for a file, the catalog's <c>OBJECT.manifest.json</c> for an object; null when there is none.
/// </summary>
internal sealed class DumpSource : IDisposable
{
    private readonly string? _temporary;

    private DumpSource(string path, string shown, BackupManifest? manifest, string? temporary)
    {
        Path = path;
        Shown = shown;
        Manifest = manifest;
        _temporary = temporary;
    }

    /// <summary>The dump on this machine (a file, or a directory-format dump's directory).</summary>
    public string Path { get; }

    /// <summary>What the operator named: the file's full path or the gs:// URI.</summary>
    public string Shown { get; }

    public BackupManifest? Manifest { get; }

    /// <summary>The manifest file beside a dump file: <c>FILE.manifest.json</c>.</summary>
    public static string ManifestPathOf(string file) => file.TrimEnd('/') + BackupObjectName.ManifestSuffix;

    /// <summary>
    /// Resolves <paramref name="fileOrUri"/>; a <c>gs://</c> URI is downloaded now, with
    /// <paramref name="progress"/> told how many bytes so far.
    /// </summary>
    public static async Task<DumpSource> OpenAsync(string argument, string fileOrUri, Func<string, IBackupStore> storeOf,
        Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fileOrUri);
        ArgumentNullException.ThrowIfNull(storeOf);
        if (fileOrUri.StartsWith(GcsUri.Scheme, StringComparison.Ordinal))
        {
            if (!GcsUri.TryParse(fileOrUri, out var uri, out var problem, allowDirectory: true))
            {
                throw new UsageException($"{argument} is not a Cloud Storage URI such as gs://BUCKET/backups/...: {problem}");
            }
            return await DownloadAsync(uri, storeOf(uri.Bucket), progress, cancellationToken).ConfigureAwait(false);
        }

        if (fileOrUri.Length == 0 || fileOrUri.Any(char.IsControl))
        {
            throw new UsageException($"{argument} '{OperatorRules.Printable(fileOrUri)}' is not a file path");
        }
        var full = System.IO.Path.GetFullPath(fileOrUri);
        if (!File.Exists(full) && !Directory.Exists(full))
        {
            throw new UsageException($"{argument} '{OperatorRules.Printable(fileOrUri)}' does not exist (a dump file, a directory-format dump's directory, or a gs:// URI)");
        }
        var manifestPath = ManifestPathOf(full);
        BackupManifest? manifest = null;
        if (File.Exists(manifestPath))
        {
            manifest = await ReadManifestAsync(File.OpenRead(manifestPath), manifestPath, cancellationToken).ConfigureAwait(false);
        }
        return new DumpSource(full, full, manifest, null);
    }

    private static async Task<DumpSource> DownloadAsync(GcsUri uri, IBackupStore store, Action<long>? progress, CancellationToken cancellationToken)
    {
        var temporary = OwnerOnly.CreateTempDirectory("commissable-source-");
        try
        {
            var objects = new List<StoredObject>();
            var single = uri.IsDirectory ? null : await store.GetAsync(uri.ObjectName, cancellationToken).ConfigureAwait(false);
            string local;
            if (single is not null)
            {
                objects.Add(single);
                local = System.IO.Path.Combine(temporary, System.IO.Path.GetFileName(uri.ObjectName));
            }
            else
            {
                // A directory-format export: every object under the prefix, into one directory.
                await foreach (var item in store.ListAsync(uri.ObjectName + "/", cancellationToken).ConfigureAwait(false))
                {
                    objects.Add(item);
                }
                if (objects.Count == 0)
                {
                    throw new UsageException($"there is no object {uri} (nor a directory-format export under it)");
                }
                local = System.IO.Path.Combine(temporary, "dump");
                OwnerOnly.CreateDirectory(local);
            }

            long copied = 0;
            foreach (var item in objects)
            {
                var relative = single is not null ? null : item.Name[(uri.ObjectName.Length + 1)..];
                if (relative is not null && (relative.Length == 0 || relative.Contains('/', StringComparison.Ordinal)))
                {
                    continue;
                }
                var target = relative is null ? local : System.IO.Path.Combine(local, relative);
                await using var input = await store.OpenReadAsync(item.Name, cancellationToken).ConfigureAwait(false);
                await using var output = OwnerOnly.CreateFile(target, options: FileOptions.Asynchronous);
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    copied += read;
                    progress?.Invoke(copied);
                }
            }

            BackupManifest? manifest = null;
            var manifestName = uri.ObjectName + BackupObjectName.ManifestSuffix;
            if (await store.GetAsync(manifestName, cancellationToken).ConfigureAwait(false) is not null)
            {
                manifest = await ReadManifestAsync(await store.OpenReadAsync(manifestName, cancellationToken).ConfigureAwait(false), $"gs://{store.Bucket}/{manifestName}", cancellationToken).ConfigureAwait(false);
            }
            return new DumpSource(local, uri.ToString(), manifest, temporary);
        }
        catch
        {
            Directory.Delete(temporary, recursive: true);
            throw;
        }
    }

    private static async Task<BackupManifest> ReadManifestAsync(Stream stream, string shown, CancellationToken cancellationToken)
    {
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                return await JsonSerializer.DeserializeAsync<BackupManifest>(stream, CatalogJson.Options, cancellationToken).ConfigureAwait(false)
                    ?? throw new UsageException($"the manifest {shown} is empty");
            }
            catch (JsonException error)
            {
                throw new UsageException($"the manifest {shown} is not a backup manifest: {error.Message.Split('\n')[0]}");
            }
        }
    }

    public void Dispose()
    {
        if (_temporary is not null && Directory.Exists(_temporary))
        {
            Directory.Delete(_temporary, recursive: true);
        }
    }
}
