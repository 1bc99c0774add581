using System.IO.Compression;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Files;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;
using Commissable.LocalCloud.Api;
using Commissable.LocalCloud.Instances;
using Commissable.LocalCloud.Operations;

namespace Commissable.LocalCloud.Transfer;

/// <summary>
/// Export with pg_dump (plain SQL, gzip when the URI ends in .gz, directory format in parallel
/// mode) and import with psql or pg_restore, streaming: no dump is ever held in memory. The export
/// is written aside and renamed into place when complete, so a reader never sees half an object.
/// </summary>
internal sealed class SqlTransfer(InstanceManager instances, BucketPaths buckets)
{
    /// <summary>Checks an export request before its operation starts; returns the local target path.</summary>
    public string ValidateExport(InstanceRecord instance, JsonObject context)
    {
        var fileType = (string?)context["fileType"] ?? "SQL";
        if (fileType != "SQL")
        {
            throw ApiException.BadRequest($"exportContext.fileType '{fileType}' is not supported by the local cloud for PostgreSQL; use SQL.");
        }
        var databases = context["databases"]?.AsArray().Select(d => (string?)d).ToList() ?? [];
        if (databases.Count != 1 || string.IsNullOrEmpty(databases[0]))
        {
            throw ApiException.BadRequest("exportContext.databases must name exactly one database for a PostgreSQL SQL export.");
        }
        return Resolve((string?)context["uri"], "exportContext.uri");
    }

    public async Task ExportAsync(InstanceRecord instance, JsonObject context, string target, OperationScope scope, CancellationToken cancellationToken)
    {
        var database = (string)context["databases"]![0]!;
        await EnsureDatabaseExistsAsync(instance, database, cancellationToken).ConfigureAwait(false);
        if (File.Exists(target) || Directory.Exists(target))
        {
            throw new OperationFailedException("ERROR_RDBMS",
                $"The export failed: the object {(string?)context["uri"]} already exists. Exports never overwrite an object; choose a new name.");
        }
        var options = context["sqlExportOptions"] as JsonObject ?? new JsonObject();
        var parallel = (bool?)options["parallel"] ?? false;
        var arguments = new List<string> { "-d", instances.Cluster(instance).ToolConnection(InstanceManager.AdminUser, database), "--no-password", "--no-owner", "--no-privileges" };
        if ((bool?)options["schemaOnly"] ?? false) arguments.Add("--schema-only");
        foreach (var table in options["tables"]?.AsArray().Select(t => (string?)t).Where(t => !string.IsNullOrEmpty(t)) ?? [])
        {
            arguments.Add("-t");
            arguments.Add(TablePattern(table!));
        }
        var postgres = options["postgresExportOptions"] as JsonObject;
        if ((bool?)postgres?["clean"] ?? false) arguments.Add("--clean");
        if ((bool?)postgres?["ifExists"] ?? false) arguments.Add("--if-exists");

        buckets.CreatePrivateDirectory(Path.GetDirectoryName(target)!);
        var partial = $"{target}.partial-{scope.Name}";
        scope.AddCleanup(partial);
        var environment = new Dictionary<string, string> { ["PGPASSWORD"] = instances.AdminPassword(instance.Name) };
        try
        {
            if (parallel)
            {
                var threads = Math.Max(1, (int?)options["threads"] ?? Environment.ProcessorCount);
                arguments.AddRange(["-F", "d", "-j", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "-f", partial]);
                await Tool("pg_dump", arguments, environment, scope).RunAsync(cancellationToken).ConfigureAwait(false);
                BucketPaths.Restrict(partial);
            }
            else
            {
                await DumpToFileAsync(arguments, environment, partial, target.EndsWith(".gz", StringComparison.Ordinal), scope, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ExternalProcessException error)
        {
            throw new OperationFailedException("ERROR_RDBMS", $"pg_dump failed: {error.ErrorOutput.Trim()}");
        }
        var appeared = new OperationFailedException("ERROR_RDBMS", $"The export failed: the object {(string?)context["uri"]} appeared while exporting.");
        if (Directory.Exists(partial))
        {
            // rename(2) refuses a non-empty directory as target; an empty one cannot hold an object.
            if (File.Exists(target) || Directory.Exists(target)) throw appeared;
            Directory.Move(partial, target);
        }
        else if (CreateOnlyRename.TryPlace(partial, target))
        {
            File.Delete(partial);
        }
        else
        {
            throw appeared;
        }
        scope.RemoveCleanup(partial);
    }

    /// <summary>Checks an import request before its operation starts; returns the local source path.</summary>
    public string ValidateImport(InstanceRecord instance, JsonObject context)
    {
        var fileType = (string?)context["fileType"] ?? "SQL";
        if (fileType != "SQL")
        {
            throw ApiException.BadRequest($"importContext.fileType '{fileType}' is not supported by the local cloud for PostgreSQL; use SQL.");
        }
        if (string.IsNullOrEmpty((string?)context["database"]))
        {
            throw ApiException.BadRequest("importContext.database must name the database to import into.");
        }
        var source = Resolve((string?)context["uri"], "importContext.uri");
        if (!File.Exists(source) && !Directory.Exists(source))
        {
            throw ApiException.BadRequest($"The import source {(string?)context["uri"]} does not exist.", "notFound");
        }
        return source;
    }

    /// <summary>
    /// Imports as the import user itself (see <see cref="ImportLogin"/>): a file can never act as a
    /// superuser. psql runs the file in its restricted mode (no backslash commands: no <c>\!</c>
    /// shell, no <c>\connect</c> elsewhere), as pg_dump's own output asks.
    /// </summary>
    public async Task ImportAsync(InstanceRecord instance, JsonObject context, string source, OperationScope scope, CancellationToken cancellationToken)
    {
        var database = (string)context["database"]!;
        await EnsureDatabaseExistsAsync(instance, database, cancellationToken).ConfigureAwait(false);
        var user = (string?)context["importUser"];
        if (string.IsNullOrEmpty(user)) user = "postgres";
        var options = context["sqlImportOptions"] as JsonObject;
        var threads = Math.Max(1, (int?)options?["threads"] ?? 1);
        var clean = (bool?)options?["postgresImportOptions"]?["clean"] ?? false;
        var ifExists = (bool?)options?["postgresImportOptions"]?["ifExists"] ?? false;
        await using var login = await ImportLogin.CreateAsync(instances, instance, user, cancellationToken).ConfigureAwait(false);
        var environment = new Dictionary<string, string>
        {
            ["PGPASSWORD"] = login.Password,
            // The session starts as the import user, so the objects are the import user's.
            // The server also ends the session soon after psql or pg_restore is gone, mid-statement.
            ["PGOPTIONS"] = $"-c role={QuoteOption(user)} -c client_connection_check_interval=1000",
        };
        var connection = new List<string> { "-d", instances.Cluster(instance).ToolConnection(login.Role, database), "--no-password" };
        try
        {
            await DumpRestore.RestoreAsync(connection, environment, source,
                new DumpRestoreOptions { Jobs = threads, Clean = clean, IfExists = ifExists, Observer = scope }, instances.Binaries, cancellationToken).ConfigureAwait(false);
        }
        catch (ExternalProcessException error)
        {
            throw new OperationFailedException("ERROR_RDBMS", $"The import failed: {error.ErrorOutput.Trim()}");
        }
        catch (InvalidDataException error)
        {
            throw new OperationFailedException("ERROR_RDBMS", $"The import failed: {error.Message}");
        }
    }

    private async Task DumpToFileAsync(List<string> arguments, Dictionary<string, string> environment, string path, bool gzip, OperationScope scope, CancellationToken cancellationToken)
    {
        using var process = Tool("pg_dump", arguments, environment, scope).Start(redirectStdout: true);
        var stderr = ExternalProcess.ReadTailAsync(process.StandardError, cancellationToken);
        try
        {
            await using (var file = OwnerOnly.CreateFile(path, bufferSize: 1 << 20, FileOptions.Asynchronous))
            {
                if (gzip)
                {
                    await using var compressor = new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true);
                    await process.StandardOutput.BaseStream.CopyToAsync(compressor, 1 << 20, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await process.StandardOutput.BaseStream.CopyToAsync(file, 1 << 20, cancellationToken).ConfigureAwait(false);
                }
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ExternalProcess.TryKill(process);
            throw;
        }
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new ExternalProcessException("pg_dump", process.ExitCode, errors);
        }
    }

    private async Task EnsureDatabaseExistsAsync(InstanceRecord instance, string database, CancellationToken cancellationToken)
    {
        await using var connection = await instances.OpenAdminAsync(instance, cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var command = new Npgsql.NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = database });
        if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            throw new OperationFailedException("ERROR_RDBMS", $"The database '{database}' does not exist on instance '{instance.Name}'.");
        }
    }

    private string Resolve(string? uri, string field)
    {
        try
        {
            return buckets.Resolve(uri);
        }
        catch (ArgumentException error)
        {
            throw ApiException.BadRequest($"{field}: {error.Message}");
        }
    }

    private ExternalProcess Tool(string program, List<string> arguments, Dictionary<string, string> environment, OperationScope scope) => new()
    {
        FileName = instances.Binaries.Path(program),
        Arguments = arguments,
        Environment = environment,
        Observer = scope,
    };

    /// <summary>A pg_dump -t pattern matching exactly one table, case kept: <c>"Account"</c> or <c>"sales"."Account"</c>.</summary>
    private static string TablePattern(string table) =>
        string.Join('.', table.Split('.', 2).Select(part => part.StartsWith('"') ? part : $"\"{part.Replace("\"", "\"\"", StringComparison.Ordinal)}\""));

    private static string QuoteOption(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(" ", "\\ ", StringComparison.Ordinal);
}
