using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;

namespace Commissable.Backup.Core.Tests.Backups.Content;

/// <summary>Dump texts for the reader's tests: a hand-written body between pg_dump's real header and trailer.</summary>
internal static class Dumps
{
    public const string Header = """
        --
        -- PostgreSQL database dump
        --

        \restrict abc123

        -- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
        -- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

        SET statement_timeout = 0;
        SET client_encoding = 'UTF8';
        SET standard_conforming_strings = on;
        SELECT pg_catalog.set_config('search_path', '', false);

        """;

    public const string Trailer = """

        --
        -- PostgreSQL database dump complete
        --

        \unrestrict abc123

        """;

    /// <summary>A whole dump around <paramref name="body"/> (LF line ends, as pg_dump writes them).</summary>
    public static string Of(string body) => Header + "\n" + body.ReplaceLineEndings("\n") + "\n" + Trailer;

    /// <summary>A COPY block as pg_dump prints it; write each row with <c>\t</c> between fields.</summary>
    public static string Copy(string table, string columns, params string[] rows) =>
        $"COPY {table} ({columns}) FROM stdin;\n" + string.Concat(rows.Select(r => r + "\n")) + "\\.\n";

    public static Task<BackupContent> ReadAsync(string text, DumpReadOptions? options = null) =>
        ReadAsync(Encoding.UTF8.GetBytes(text), options);

    public static Task<BackupContent> ReadAsync(byte[] bytes, DumpReadOptions? options = null) =>
        DumpContentReader.ReadAsync(new MemoryStream(bytes), options ?? new DumpReadOptions());

    public static Task<BackupContent> ReadBodyAsync(string body, DumpReadOptions? options = null) => ReadAsync(Of(body), options);

    /// <summary>The digest by its definition: the sum mod 2^128 of each row's XxHash128, as 32 hex digits.</summary>
    public static string Digest(params string[] rows)
    {
        UInt128 sum = 0;
        foreach (var row in rows) sum = unchecked(sum + XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(row)));
        return sum.ToString("x32", CultureInfo.InvariantCulture);
    }

    /// <summary>A real dump made by pg_dump 15.18 (see Samples/sample-schema.sql).</summary>
    public static string Sample(string name = "pg_dump-15.sql")
    {
        using var stream = typeof(Dumps).Assembly.GetManifestResourceStream("Samples." + name)
            ?? throw new InvalidOperationException($"no embedded sample {name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// What <c>pg_restore -f -</c> prints for a custom archive of the same database: the plain
    /// dump's text with another <c>\restrict</c> key (the one difference, checked by hand with
    /// pg_restore 15.18; the Postgres tests run pg_restore itself on every format).
    /// </summary>
    public static string RestoredSample()
    {
        var dump = Sample();
        var key = Regex.Match(dump, @"^\\restrict (\S+)$", RegexOptions.Multiline).Groups[1].Value;
        Assert.NotEmpty(key);
        return dump.Replace(key, "YyqAiYv0CKgRjzMwuSn8S9P2A7INlKFG7Nu7DaFDdFPzVs8ZSPngInhOwPDZzM0", StringComparison.Ordinal);
    }

    /// <summary>Replaces the one occurrence of <paramref name="find"/>: a damage as pg_dump prints it.</summary>
    public static string Edit(this string dump, string find, string replace)
    {
        var at = dump.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"not in the dump: {find}");
        Assert.True(dump.IndexOf(find, at + 1, StringComparison.Ordinal) < 0, $"more than once in the dump: {find}");
        return string.Concat(dump.AsSpan(0, at), replace, dump.AsSpan(at + find.Length));
    }
}
