namespace Commissable.Backup.Core.Export;

/// <summary>How pre-deploy exports are named, guarded and waited for.</summary>
public sealed record PreDeployOptions
{
    /// <summary>The environment in backup names, for example <c>prod</c>.</summary>
    public required string Environment { get; init; }
    /// <summary>Where backups live in the bucket (default <c>backups</c>).</summary>
    public string Prefix { get; init; } = "backups";
    /// <summary>The newest automated backup must be younger than this (default 26 h).</summary>
    public TimeSpan MaxBackupAge { get; init; } = TimeSpan.FromHours(26);
    /// <summary>How long an export waits for another operation on the instance before it reports busy.</summary>
    public TimeSpan BusyWait { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>How often a running export renews its lease and refreshes its ticket, to show it is alive (default 30 s).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// A lease or running ticket not renewed for longer than this is taken as dead (its process
    /// crashed) and may be taken over (default 5 min). Must be more than twice <see cref="HeartbeatInterval"/>.
    /// </summary>
    // Ten beats: a live export has to miss nine renewals in a row (store errors, a paused or
    // throttled instance) before anyone takes it for dead, while a crash holds the instance's
    // deploys for minutes, not hours. It also dwarfs any skew between this host's clock and the
    // store's, which stamps the lease's Updated. Being no longer than BusyWait, a caller that
    // waits on a crashed holder takes the lease over within its wait instead of answering busy.
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>How often waiting callers look at the ticket.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>
    /// The column that marks a multi-tenant table, unquoted (default <c>tenantId</c>): the content
    /// manifest keeps rows and a digest per tenant of every table that has it.
    /// </summary>
    public string TenantColumn { get; init; } = "tenantId";
    /// <summary>
    /// The whole export's deadline (lease wait, Cloud SQL export, check, content manifest, manifest; default
    /// 2 h). Past it, or when the host shuts down, the export ends failed with the reason and
    /// releases its lease.
    /// </summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Refuses values the exporter cannot work with, saying which and why.</summary>
    /// <exception cref="ArgumentException">A span is not positive, or <see cref="StaleAfter"/> is not more than twice <see cref="HeartbeatInterval"/>.</exception>
    internal void Validate(string parameterName)
    {
        if (HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"PreDeployOptions.HeartbeatInterval must be positive; got {HeartbeatInterval}.", parameterName);
        }
        if (StaleAfter <= 2 * HeartbeatInterval)
        {
            throw new ArgumentException(
                $"PreDeployOptions.StaleAfter ({StaleAfter}) must be more than twice HeartbeatInterval ({HeartbeatInterval}): otherwise one late renewal makes a live export look dead and another takes its lease.",
                parameterName);
        }
        foreach (var (name, value) in new[] { ("Deadline", Deadline) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"PreDeployOptions.{name} must be positive; got {value}.", parameterName);
            }
        }
    }
}
