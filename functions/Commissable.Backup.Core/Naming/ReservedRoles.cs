namespace Commissable.Backup.Core.Naming;

/// <summary>
/// The roles no application login, grant target or import user may be: PostgreSQL's own
/// (<c>pg_*</c>, <c>public</c>) and Cloud SQL's administrative ones (<c>postgres</c>, <c>cloudsql*</c>
/// such as <c>cloudsqladmin</c> and <c>cloudsqlsuperuser</c>). Compared without regard to case, so
/// a quoted <c>"PG_read_all_data"</c> or <c>CloudSQLAdmin</c> is refused too.
/// </summary>
public static class ReservedRoles
{
    public static bool IsReserved(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.StartsWith("pg_", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("cloudsql", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "postgres", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "public", StringComparison.OrdinalIgnoreCase);
    }
}
