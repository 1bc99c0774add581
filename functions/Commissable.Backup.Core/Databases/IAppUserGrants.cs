using Commissable.Backup.Core.CloudSql;

namespace Commissable.Backup.Core.Databases;

/// <summary>
/// Grants an application's login the privileges it needs on a database, which only SQL can do, in
/// one transaction, proven before it commits: all of them or nothing.
/// </summary>
public interface IAppUserGrants
{
    /// <summary>The login the grants are made with; it must own the objects, or be a member of their owner.</summary>
    string GrantingUser { get; }

    /// <summary>
    /// Grants <paramref name="user"/> its privileges on <paramref name="database"/> of
    /// <paramref name="instance"/> and, with <paramref name="appUserOwns"/>, makes it the owner of
    /// every object of the database's own schemas (so it can alter tables and refresh materialized
    /// views, as migrations do in production), all in one transaction.
    /// </summary>
    /// <param name="defaultPrivilegeOwners">Roles whose future tables and sequences the user gets privileges on.</param>
    /// <param name="appUserOwns">Also transfer the ownership of the objects to <paramref name="user"/>.</param>
    /// <returns>The statements applied and the ownership transfer (calling again changes nothing).</returns>
    /// <exception cref="AppUserGrantException">The user does not exist, or the login may not grant; nothing changed.</exception>
    /// <exception cref="DatabaseUnreachableException">The database could not be reached or logged in to; nothing changed.</exception>
    Task<AppUserAccess> GrantAsync(
        DatabaseInstance instance, string database, string user, IReadOnlyList<string> defaultPrivilegeOwners, bool appUserOwns,
        CancellationToken cancellationToken = default);
}
