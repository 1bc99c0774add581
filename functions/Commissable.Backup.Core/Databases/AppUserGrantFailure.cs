namespace Commissable.Backup.Core.Databases;

/// <summary>Why <see cref="IAppUserGrants.GrantAsync"/> could not grant.</summary>
public enum AppUserGrantFailure
{
    /// <summary>The user is not a role of the cluster.</summary>
    UserNotFound,

    /// <summary>
    /// The login that grants may not: it does not own the objects (or is not a member of their
    /// owner), or may not act for the role whose default privileges are set.
    /// </summary>
    NotPermitted,
}
