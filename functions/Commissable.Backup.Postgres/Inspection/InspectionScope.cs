namespace Commissable.Backup.Postgres.Inspection;

/// <summary>Which schemas an inspection looks at.</summary>
public enum InspectionScope
{
    /// <summary>Only <c>public</c>, where Prisma puts everything by default.</summary>
    PublicSchema,

    /// <summary>Every schema except <c>pg_catalog</c>, <c>information_schema</c> and the other <c>pg_*</c> ones.</summary>
    AllUserSchemas,
}
