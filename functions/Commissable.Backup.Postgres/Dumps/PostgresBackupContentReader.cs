using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Storage;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Processes;
using Commissable.Backup.Postgres.Verification;

namespace Commissable.Backup.Postgres.Dumps;

/// <summary>
/// <see cref="IBackupContentReader"/> with PostgreSQL's client programs: a backup object's text
/// from <see cref="BackupObjectText"/>, a database's from <see cref="DatabaseText"/> (pg_dump, with
/// the largest tables' rows read beside it over COPY in the same snapshot), both read by
/// <see cref="DumpContentReader"/>. Each read streams once through a program and this process, so
/// memory stays flat in the backup's size.
/// </summary>
/// <param name="login">How the functions log in to an instance's databases (for <see cref="ReadDatabaseAsync"/>).</param>
/// <param name="store">The bucket the backups are in.</param>
/// <param name="tools">Where pg_dump and pg_restore are; their major should be the instances' (see <see cref="PostgresBinaries.LocateClient"/>).</param>
public sealed class PostgresBackupContentReader(DatabaseLoginOptions login, IBackupStore store, PostgresBinaries tools) : IBackupContentReader
{
    private readonly DatabaseLoginOptions _login = login ?? throw new ArgumentNullException(nameof(login));
    private readonly IBackupStore _store = store ?? throw new ArgumentNullException(nameof(store));
    private readonly PostgresBinaries _tools = tools ?? throw new ArgumentNullException(nameof(tools));

    public async Task<BackupContent> ReadBackupAsync(string objectName, string? format, DumpReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var text = await BackupObjectText.OpenAsync(_store, objectName, format, _tools, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(text, options, cancellationToken).ConfigureAwait(false);
    }

    public async Task<BackupContent> ReadDatabaseAsync(DatabaseInstance instance, string database, DumpReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var text = await DatabaseText.OpenAsync(_login, instance, database, new DatabaseDumpOptions { TimeZone = options.TimeZone }, _tools, DatabaseTextOptions.Default, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(text, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The content manifest of a dump file on this machine (<see cref="BackupObjectText.OpenFileAsync"/>).</summary>
    public static async Task<BackupContent> ReadFileAsync(string path, DumpReadOptions options, PostgresBinaries tools, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var text = await BackupObjectText.OpenFileAsync(path, tools, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(text, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The content manifest of a database of any server as it is now, read as <see cref="ReadDatabaseAsync"/> reads one.</summary>
    /// <param name="description">Names the database in messages (never with a password).</param>
    public static async Task<BackupContent> ReadDatabaseAsync(DatabaseEndpoint endpoint, string database, string description, DumpReadOptions options, PostgresBinaries tools,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var text = await DatabaseText.OpenAsync(endpoint, database, description, new DatabaseDumpOptions { TimeZone = options.TimeZone }, tools, DatabaseTextOptions.Default, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(text, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the manifest, then the text to its very end: only the read that reaches the end knows
    /// the program succeeded, so a manifest is never returned from text that was not whole.
    /// </summary>
    private static async Task<BackupContent> ReadAsync(Stream text, DumpReadOptions options, CancellationToken cancellationToken)
    {
        await using (text.ConfigureAwait(false))
        {
            var content = await DumpContentReader.ReadAsync(text, options, cancellationToken).ConfigureAwait(false);
            if (await text.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new InvalidDataException("The dump's text went on after the reader had finished with it.");
            }
            return content;
        }
    }
}
