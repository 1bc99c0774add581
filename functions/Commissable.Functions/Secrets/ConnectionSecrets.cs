using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Secrets;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Secrets;

/// <summary>What <c>secret-check</c> answers: the version read and whether (and how) it names the instance.</summary>
internal sealed record SecretCheck(string Version, InstanceMention Mention);

/// <summary>What <c>secret-repoint</c> answers: the version that names the new instance, and whether this call added it.</summary>
internal sealed record SecretRepoint(string Version, bool Created);

/// <summary>
/// The app's connection secrets (DATABASE_URL, DIRECT_URL) as the disaster recovery checks and
/// swaps them, by <see cref="ConnectionSecret"/>'s rule. The instances are read from the Cloud SQL
/// Admin API by name. A value is held here only as long as the call lasts: it is never logged,
/// answered, put in an exception or written anywhere but a new version of the same secret.
/// </summary>
internal sealed class ConnectionSecrets(ICloudSqlAdmin sql, ISecretManager secrets, ILogger<ConnectionSecrets> logger)
{
    private static readonly EventId Checked = new(80, "secret.checked");
    private static readonly EventId Repointed = new(81, "secret.repointed");
    private static readonly EventId Refused = new(82, "secret.repoint.refused");

    // The lines name the secret through its version's resource name: a field called "Secret" would
    // be redacted as a whole (SensitiveNames), and operators need to know which secret changed.


    /// <summary>Whether the latest version of <paramref name="secret"/> names <paramref name="instanceName"/>.</summary>
    /// <exception cref="FunctionException">404 unknown instance or secret; 412 not readable or not text; 503 unavailable.</exception>
    public async Task<SecretCheck> CheckAsync(string secret, string instanceName, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(instanceName, cancellationToken).ConfigureAwait(false);
        var (version, value) = await LatestAsync(secret, cancellationToken).ConfigureAwait(false);
        var mention = ConnectionSecret.Mentions(value, instance);
        logger.LogInformation(Checked, "secret.checked {Version} {Instance} {NamedBy}", version, instanceName, mention);
        return new SecretCheck(version, mention);
    }

    /// <summary>
    /// Adds a version of <paramref name="secret"/> naming <paramref name="toName"/> where the latest
    /// names <paramref name="fromName"/>; when the latest already names only <paramref name="toName"/>
    /// (a retried call), returns it without adding another. <paramref name="approvedBy"/> is recorded
    /// in the log line with the version.
    /// </summary>
    /// <exception cref="FunctionException">404 unknown instance or secret; 412 the secret names neither; 503 unavailable.</exception>
    public async Task<SecretRepoint> RepointAsync(string secret, string fromName, string toName, string approvedBy, CancellationToken cancellationToken)
    {
        var from = await InstanceAsync(fromName, cancellationToken).ConfigureAwait(false);
        var to = await InstanceAsync(toName, cancellationToken).ConfigureAwait(false);
        var (version, value) = await LatestAsync(secret, cancellationToken).ConfigureAwait(false);
        if (ConnectionSecret.Mentions(value, from) == InstanceMention.None)
        {
            if (ConnectionSecret.Mentions(value, to) != InstanceMention.None)
            {
                logger.LogNotice(Repointed, "secret.repointed {Version} {From} {To} {Created} {ApprovedBy}", version, fromName, toName, false, approvedBy);
                return new SecretRepoint(version, false);
            }
            throw Refuse(version, fromName, toName, "SECRET_NAMES_NEITHER",
                $"secret {secret} names neither the connection name nor the address of {fromName}; it was not changed.");
        }

        var updated = ConnectionSecret.Repoint(value, from, to);
        // Half a swap (the name replaced, the old address left because the new instance has none)
        // would be added as done, and its retry refused: the whole swap or none.
        if (string.Equals(updated, value, StringComparison.Ordinal) || ConnectionSecret.Mentions(updated, from) != InstanceMention.None)
        {
            throw Refuse(version, fromName, toName, "SECRET_NOT_REPOINTABLE",
                $"secret {secret} names {fromName} by its address and {toName} has no address to put instead; it was not changed.");
        }

        string added;
        try
        {
            added = await secrets.AddVersionAsync(secret, SecretValues.Encode(updated), cancellationToken).ConfigureAwait(false);
        }
        catch (SecretManagerApiException error)
        {
            throw SecretValues.Refusal(secrets, error, secret, "roles/secretmanager.secretVersionAdder", "add a version to", NotChanged);
        }
        logger.LogNotice(Repointed, "secret.repointed {Version} {From} {To} {Created} {ApprovedBy}", added, fromName, toName, true, approvedBy);
        return new SecretRepoint(added, true);
    }

    private FunctionException Refuse(string version, string from, string to, string code, string message)
    {
        logger.LogWarning(Refused, "secret.repoint.refused {Version} {From} {To}: {Reason}", version, from, to, message);
        return FunctionException.PreconditionFailed(message, code);
    }

    private const string NotChanged = "it was not changed";

    private Task<(string Version, string Text)> LatestAsync(string secret, CancellationToken cancellationToken) =>
        SecretValues.ReadTextAsync(secrets, secret, NotChanged, cancellationToken);

    private Task<DatabaseInstance> InstanceAsync(string name, CancellationToken cancellationToken) =>
        SecretValues.CloudSqlAsync(sql, name, () => sql.GetInstanceAsync(name, cancellationToken));
}
