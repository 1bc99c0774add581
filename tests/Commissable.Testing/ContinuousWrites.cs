using Npgsql;

namespace Commissable.Testing;

/// <summary>
/// Production under write load, as the acceptance tests need it: a writer that inserts rows into
/// the demo's <c>"Activity"</c> (the table with the most traffic, which has the tenant column)
/// continuously, one committed transaction per row, its tenants taken in turn, until it is stopped.
/// </summary>
/// <remarks>
/// Tests synchronise on what it has committed (<see cref="WhenCommittedAsync"/>), never on time:
/// every row counted in <see cref="Committed"/> is committed and visible to any snapshot taken after.
/// </remarks>
public sealed class ActivityWriter : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly IReadOnlyList<(string Tenant, string User)> _tenants;
    private readonly string _subject;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<(long Count, TaskCompletionSource Reached)> _waiters = [];
    private Task _loop = Task.CompletedTask;
    private long _committed;
    private Exception? _failure;

    private ActivityWriter(NpgsqlConnection connection, IReadOnlyList<(string, string)> tenants, string subject)
    {
        _connection = connection;
        _tenants = tenants;
        _subject = subject;
    }

    /// <summary>Rows committed so far.</summary>
    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>The tenants the writer inserts for, in turn: any <c>n</c> consecutive rows cover <c>n</c> tenants (up to all of them).</summary>
    public IReadOnlyList<string> Tenants => _tenants.Select(t => t.Tenant).ToList();

    /// <summary>
    /// Starts writing into <c>"Activity"</c> of the demo database at <paramref name="connectionString"/>,
    /// as one user of each tenant, each row's subject <paramref name="subject"/> and its number.
    /// </summary>
    public static async Task<ActivityWriter> StartAsync(string connectionString, string subject)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        var tenants = new List<(string, string)>();
        await using (var users = new NpgsqlCommand("""SELECT DISTINCT ON ("tenantId") "tenantId", "id" FROM "User" ORDER BY "tenantId", "id" """, connection))
        await using (var reader = await users.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tenants.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        if (tenants.Count < 2)
        {
            await connection.DisposeAsync();
            throw new InvalidOperationException($"The database has users of {tenants.Count} tenants; the writer needs several.");
        }
        var writer = new ActivityWriter(connection, tenants, subject);
        writer._loop = Task.Run(writer.WriteAsync);
        return writer;
    }

    private async Task WriteAsync()
    {
        try
        {
            await using var insert = new NpgsqlCommand(
                """INSERT INTO "Activity" ("tenantId", "type", "subject", "userId", "occurredAt") VALUES ($1, 'CALL', $2, $3, now())""", _connection);
            var tenant = insert.Parameters.Add(new NpgsqlParameter<string>());
            var subject = insert.Parameters.Add(new NpgsqlParameter<string>());
            var user = insert.Parameters.Add(new NpgsqlParameter<string>());
            while (!_stop.IsCancellationRequested)
            {
                var n = Committed;
                var (t, u) = _tenants[(int)(n % _tenants.Count)];
                tenant.Value = t;
                subject.Value = $"{_subject}-{n}";
                user.Value = u;
                // Autocommit: when this returns, the row is committed.
                await insert.ExecuteNonQueryAsync(CancellationToken.None);
                Release(Interlocked.Increment(ref _committed));
            }
        }
        catch (Exception error)
        {
            _failure = error;
            Release(long.MaxValue, error);
            throw;
        }
    }

    private void Release(long committed, Exception? error = null)
    {
        lock (_gate)
        {
            foreach (var waiter in _waiters.Where(w => error is not null || w.Count <= committed).ToList())
            {
                _waiters.Remove(waiter);
                if (error is null) waiter.Reached.TrySetResult();
                else waiter.Reached.TrySetException(new InvalidOperationException("The writer failed: " + error.Message, error));
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> rows in all are committed; fails after <paramref name="timeout"/> or when the writer fails.</summary>
    public Task WhenCommittedAsync(long count, TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_failure is { } failure) return Task.FromException(new InvalidOperationException("The writer failed: " + failure.Message, failure));
            if (Committed >= count) return Task.CompletedTask;
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task.WaitAsync(timeout);
        }
    }

    /// <summary>Stops after the row in flight; returns the rows committed in all. Rethrows the writer's failure.</summary>
    public async Task<long> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return Committed;
    }

    /// <summary>Rows of <c>"Activity"</c> per tenant now, in one statement.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> CountByTenantAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "tenantId", count(*) FROM "Activity" GROUP BY 1""", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }
        return counts;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (Exception error) when (error is NpgsqlException or InvalidOperationException)
        {
            // Already reported to StopAsync or a waiter; disposal only ends the loop.
        }
        await _connection.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>
/// An <c>ACCESS EXCLUSIVE</c> lock on one table, held in an open transaction as a running migration
/// holds it. pg_dump takes its snapshot with its first catalog query and only then locks every table
/// it dumps, so a dump started meanwhile has its snapshot and waits: what is committed until
/// <see cref="ReleaseAsync"/> is after the dump's snapshot, and not in the dump.
/// </summary>
public sealed class MigrationLock : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string _table;
    private NpgsqlConnection? _holder;
    private NpgsqlTransaction? _transaction;

    private MigrationLock(string connectionString, string table)
    {
        _connectionString = connectionString;
        _table = table;
    }

    /// <summary>Takes the lock on <c>public."<paramref name="table"/>"</c> of the database at <paramref name="connectionString"/>.</summary>
    public static async Task<MigrationLock> TakeAsync(string connectionString, string table)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        if (table.Contains('"', StringComparison.Ordinal) || table.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{table}' is not a plain table name.", nameof(table));
        }
        var held = new MigrationLock(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString, table);
        held._holder = new NpgsqlConnection(held._connectionString);
        await held._holder.OpenAsync();
        held._transaction = await held._holder.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($"""LOCK TABLE public."{table}" IN ACCESS EXCLUSIVE MODE""", held._holder, held._transaction);
        await command.ExecuteNonQueryAsync();
        return held;
    }

    /// <summary>
    /// Waits, by a bounded poll of <c>pg_locks</c>, until another session waits for this lock;
    /// returns that session's <c>application_name</c> (pg_dump's is <c>pg_dump</c>).
    /// </summary>
    public async Task<string> WaitForWaiterAsync(TimeSpan timeout)
    {
        await using var watcher = new NpgsqlConnection(_connectionString);
        await watcher.OpenAsync();
        // Its own connection, each query its own transaction: pg_stat_activity is read once per transaction.
        await using var query = new NpgsqlCommand(
            """
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE NOT l.granted AND l.locktype = 'relation' AND l.relation = to_regclass($1)
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, watcher);
        query.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"public.\"{_table}\"" });
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await query.ExecuteScalarAsync() is string application)
            {
                return application;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Nothing waited for the lock on \"{_table}\" within {timeout.TotalSeconds:0} s.");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Ends the transaction (as a rolled-back migration would): the waiting dump goes on.</summary>
    public async Task ReleaseAsync()
    {
        if (_transaction is { } transaction)
        {
            _transaction = null;
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        if (_holder is { } holder)
        {
            _holder = null;
            await holder.DisposeAsync();
        }
    }
}
