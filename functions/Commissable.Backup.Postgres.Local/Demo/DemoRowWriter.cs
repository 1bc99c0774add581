using Npgsql;
using NpgsqlTypes;

namespace Commissable.Backup.Postgres.Demo;

/// <summary>
/// Typed writes into one binary COPY. Binary COPY is strict about types (a date is four bytes, a
/// timestamp eight), so every value says its PostgreSQL type here rather than letting it be inferred.
/// </summary>
internal sealed class DemoRowWriter(NpgsqlBinaryImporter importer)
{
    public void StartRow() => importer.StartRow();

    public void Text(string? value)
    {
        if (value is null) importer.WriteNull();
        else importer.Write(value, NpgsqlDbType.Text);
    }

    public void Char(string value) => importer.Write(value, NpgsqlDbType.Char);

    /// <summary>An enum label: the binary form of an enum is its label's text.</summary>
    public void Enum(string label) => importer.Write(label, NpgsqlDbType.Unknown);

    public void Int(int value) => importer.Write(value, NpgsqlDbType.Integer);

    public void Int(int? value)
    {
        if (value is null) importer.WriteNull();
        else importer.Write(value.Value, NpgsqlDbType.Integer);
    }

    public void BigInt(long value) => importer.Write(value, NpgsqlDbType.Bigint);

    public void Bool(bool value) => importer.Write(value, NpgsqlDbType.Boolean);

    public void Numeric(decimal value) => importer.Write(value, NpgsqlDbType.Numeric);

    public void Numeric(decimal? value)
    {
        if (value is null) importer.WriteNull();
        else importer.Write(value.Value, NpgsqlDbType.Numeric);
    }

    /// <summary>A <c>timestamp(3)</c> (without time zone, as Prisma maps DateTime).</summary>
    public void Timestamp(DateTime value) => importer.Write(value, NpgsqlDbType.Timestamp);

    public void Timestamp(DateTime? value)
    {
        if (value is null) importer.WriteNull();
        else importer.Write(value.Value, NpgsqlDbType.Timestamp);
    }

    public void Date(DateOnly value) => importer.Write(value, NpgsqlDbType.Date);

    public void Date(DateOnly? value)
    {
        if (value is null) importer.WriteNull();
        else importer.Write(value.Value, NpgsqlDbType.Date);
    }

    public void Jsonb(string? json)
    {
        if (json is null) importer.WriteNull();
        else importer.Write(json, NpgsqlDbType.Jsonb);
    }
}
