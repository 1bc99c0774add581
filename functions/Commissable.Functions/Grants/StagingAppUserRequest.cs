using Commissable.Backup.Core.Naming;
using Commissable.Functions.Secrets;

namespace Commissable.Functions.Grants;

/// <summary>What clone-prod-to-staging POSTs to <c>staging-app-user</c>: the login to create on a staging instance, and the secret holding its password.</summary>
internal sealed record StagingAppUserRequest
{
    /// <summary>The Cloud SQL instance (never a production one).</summary>
    public string? Instance { get; init; }

    /// <summary>The application's login.</summary>
    public string? User { get; init; }

    /// <summary>The Secret Manager secret id (in the functions' project) holding its password.</summary>
    public string? PasswordSecret { get; init; }

    /// <summary>Every problem with the request, each saying what is accepted; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (SecretRules.InstanceProblem(Instance, "instance") is { } instance)
        {
            problems.Add(instance);
        }
        if (string.IsNullOrWhiteSpace(User))
        {
            problems.Add("'user' is required: the application's login.");
        }
        else if (!CloudNames.IsDatabase(User))
        {
            problems.Add($"'user' must be a PostgreSQL name: a letter or '_', then letters, digits, '_', '$' or '-', at most 63 characters (got '{CloudNames.Printable(User)}').");
        }
        else if (ReservedRoles.IsReserved(User))
        {
            problems.Add($"'user' must be the application's own login, not the reserved role '{User}' (postgres, cloudsql*, pg_*).");
        }
        if (SecretRules.SecretProblem(PasswordSecret, "passwordSecret") is { } secret)
        {
            problems.Add(secret);
        }
        return problems;
    }
}
