using Commissable.Backup.Core.Naming;

namespace Commissable.Functions.Grants;

/// <summary>What a workflow POSTs to <c>grant-app-user</c>: the login to grant to, on which database of which instance.</summary>
internal sealed record GrantAppUserRequest
{
    /// <summary>The Cloud SQL instance (never a production one).</summary>
    public string? Instance { get; init; }

    /// <summary>The database the application uses.</summary>
    public string? Database { get; init; }

    /// <summary>The application's login, created beforehand through the Cloud SQL users API.</summary>
    public string? User { get; init; }

    /// <summary>
    /// Also make <see cref="User"/> the owner of every object of the database's own schemas, so
    /// migrations (<c>ALTER TABLE</c>, <c>CREATE INDEX</c>, <c>REFRESH MATERIALIZED VIEW</c>) run
    /// as the app user as they do in production. Absent or false: the objects keep their owner.
    /// </summary>
    public bool? AppUserOwns { get; init; }

    /// <summary>Every problem with the request, each saying what is accepted; empty when valid.</summary>
    /// <param name="granter">The login the function grants with; it cannot grant to itself.</param>
    public IReadOnlyList<string> Problems(string granter)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Instance))
        {
            problems.Add("'instance' is required: the Cloud SQL instance holding the database.");
        }
        else if (CloudNames.InstanceProblem(Instance) is { } instance)
        {
            problems.Add(instance);
        }
        foreach (var (field, value, what) in new[] { ("database", Database, "the database the application uses"), ("user", User, "the application's login") })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                problems.Add($"'{field}' is required: {what}.");
            }
            else if (!CloudNames.IsDatabase(value))
            {
                // The grant takes both by the database-name rule, which refuses Google's user names with '.' or '@' (IAM users) too.
                problems.Add($"'{field}' must be a PostgreSQL name: a letter or '_', then letters, digits, '_', '$' or '-', at most 63 characters (got '{CloudNames.Printable(value)}').");
            }
        }
        if (User is { } user && CloudNames.IsDatabase(user))
        {
            if (ReservedRoles.IsReserved(user))
            {
                problems.Add($"'user' must be the application's own login, not the reserved role '{user}' (postgres, cloudsql*, pg_*).");
            }
            else if (string.Equals(user, granter, StringComparison.Ordinal))
            {
                problems.Add($"'user' must be the application's own login, not '{user}', the login this function grants with.");
            }
        }
        return problems;
    }
}
