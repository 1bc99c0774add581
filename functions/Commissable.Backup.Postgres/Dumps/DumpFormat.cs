namespace Commissable.Backup.Postgres.Dumps;

/// <summary>The dump formats a backup object can have (the manifest's <c>Format</c>).</summary>
internal enum DumpFormat
{
    Sql,
    SqlGzip,
    Custom,
    Directory,
}

internal static class DumpFormats
{
    public static DumpFormat Parse(string format) => format switch
    {
        "SQL" => DumpFormat.Sql,
        "SQL_GZIP" => DumpFormat.SqlGzip,
        "CUSTOM" => DumpFormat.Custom,
        "DIRECTORY" => DumpFormat.Directory,
        _ => throw new ArgumentException($"'{format}' is not a dump format; a backup object's text is read from SQL, SQL_GZIP, CUSTOM or DIRECTORY (a BASE_BACKUP has none).", nameof(format)),
    };

    public static string Name(DumpFormat format) => format switch
    {
        DumpFormat.Sql => "SQL",
        DumpFormat.SqlGzip => "SQL_GZIP",
        DumpFormat.Custom => "CUSTOM",
        _ => "DIRECTORY",
    };
}
