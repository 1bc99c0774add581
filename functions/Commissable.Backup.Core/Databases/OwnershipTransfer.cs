namespace Commissable.Backup.Core.Databases;

/// <summary>
/// What making the application's login the owner of a database's objects did: how many objects of
/// each kind changed owner, whether the granting login had to make itself a member of the owner
/// first, and the statements run (every identifier quoted).
/// </summary>
/// <param name="Owner">The new owner (the application's login).</param>
/// <param name="Objects">Per kind (<c>schema</c>, <c>table</c>, <c>partition</c>, <c>view</c>, <c>materialized view</c>, <c>sequence</c>, <c>foreign table</c>, <c>routine</c>, <c>type</c>), how many changed owner; kinds with none are left out.</param>
/// <param name="MembershipGranted">True when the granting login was not a member of <paramref name="Owner"/> and granted itself the membership (kept, so it can still read and manage what the owner now owns).</param>
/// <param name="Statements">The statements run, in order.</param>
public sealed record OwnershipTransfer(string Owner, IReadOnlyDictionary<string, int> Objects, bool MembershipGranted, IReadOnlyList<string> Statements)
{
    /// <summary>How many objects changed owner.</summary>
    public int Total => Objects.Values.Sum();

    /// <summary>"3 schemas, 12 tables, ..." or "nothing (already owned)": what an operator reads.</summary>
    public string Summary() => Objects.Count == 0
        ? $"nothing to change: '{Owner}' already owns every object"
        : string.Join(", ", Objects.Select(o => $"{o.Value} {o.Key}{(o.Value == 1 ? "" : "s")}"));
}

/// <summary>What <see cref="IAppUserGrants.GrantAsync"/> applied: the privileges, and the ownership transfer when one was asked for.</summary>
/// <param name="Privileges">The grant statements applied (calling again changes nothing).</param>
/// <param name="Ownership">The ownership transfer; null when the caller did not ask for one.</param>
public sealed record AppUserAccess(IReadOnlyList<string> Privileges, OwnershipTransfer? Ownership);
