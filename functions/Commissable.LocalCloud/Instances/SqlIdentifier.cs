namespace Commissable.LocalCloud.Instances;

/// <summary>A name as a PostgreSQL identifier in SQL the local cloud writes (roles, databases): always double-quoted.</summary>
internal static class SqlIdentifier
{
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
