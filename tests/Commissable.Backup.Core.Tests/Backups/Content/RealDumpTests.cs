using System.Text.Json;
using Commissable.Backup.Core.Backups;
using static Commissable.Backup.Core.Tests.Backups.Content.Dumps;

namespace Commissable.Backup.Core.Tests.Backups.Content;

/// <summary>
/// The reader on real pg_dump 15.18 output (this test project starts no PostgreSQL, so the dump is
/// a captured resource: Samples/sample-schema.sql is the schema and data it was made from).
/// </summary>
public sealed class RealDumpTests
{
    [Fact]
    public async Task A_real_dump_reads_into_every_part_of_the_content()
    {
        var dump = Sample();
        var content = await ReadAsync(dump);

        Assert.StartsWith("15.18", content.PgDumpVersion, StringComparison.Ordinal);
        Assert.StartsWith("15.18", content.ServerVersion, StringComparison.Ordinal);
        Assert.Equal(
            new[]
            {
                "audit.log", "public.\"Contact\"", "public.\"Tenant\"", "public._prisma_migrations", "public.empty_table",
                "public.event", "public.event_2025", "public.event_2025_a", "public.event_2025_rest", "public.event_2026",
                "public.event_empty", "public.invoice", "public.no_columns",
            },
            content.Tables.Keys);

        var contactRows = RowsOf(dump, "public.\"Contact\"");
        var contact = content.Tables["public.\"Contact\""];
        Assert.Equal(4, contact.Rows);
        Assert.Equal(Digest(contactRows), contact.Digest);
        Assert.Equal(["t 3 ü", "t_1", "t_2"], contact.Tenants!.Keys);
        Assert.Equal(new TenantContent(2, Digest(contactRows[0], contactRows[1])), contact.Tenants["t_1"]);
        Assert.Equal(["id", "\"tenantId\"", "email", "notes", "avatar", "status", "\"createdAt\"", "amount", "score"], contact.Columns);

        var leaves = new[] { "public.event_2025_a", "public.event_2025_rest", "public.event_2026", "public.event_empty" };
        var event_ = content.Tables["public.event"];
        Assert.True(event_.Partitioned);
        Assert.Equal(4, event_.Rows);
        Assert.Equal(Digest([.. leaves.SelectMany(l => RowsOf(dump, l))]), event_.Digest);
        Assert.Equal(new TenantContent(2, Digest([.. RowsOf(dump, "public.event_2025_rest")])), event_.Tenants!["t_2"]);
        Assert.Equal("public.event_2025", content.Tables["public.event_2025_rest"].PartitionOf);
        Assert.Equal(3, content.Tables["public.event_2025"].Rows);

        Assert.Equal(2, content.Tables["public.no_columns"].Rows);
        Assert.Equal(0, content.Tables["public.empty_table"].Rows);
        Assert.Null(content.Tables["public.\"Tenant\""].Tenants);
        Assert.Equal(3, content.Tables["public.invoice"].Tenants!.Count);
        Assert.Equal(1, content.Tables["public.invoice"].Tenants!["\\N"].Rows);
        Assert.Equal(21, content.TotalRows);

        Assert.Equal(new RecordedSequence(100, false), content.Sequences["public.invoice_no_seq"]);
        Assert.Equal(new RecordedSequence(4, true), content.Sequences["public.\"Contact_id_seq\""]);
        Assert.Equal(new RecordedSequence(4, true), content.Sequences["public.event_id_seq"]);
        Assert.Equal(new RecordedSequence(1, true), content.Sequences["audit.log_id_seq"]);
        Assert.Equal(new MigrationState("20250201000000_contacts", 2, 1, 1), content.Migrations);
        Assert.Equal(["citext in public", "uuid-ossp in public"], content.Extensions);
        Assert.Equal(new Dictionary<string, bool> { ["public.contact_stale"] = false, ["public.contact_summary"] = true }, content.MaterializedViews);
        Assert.Equal(
            new[] { "COLUMN public.\"Contact\".notes", "EXTENSION \"uuid-ossp\"", "EXTENSION citext", "FUNCTION public.dots()", "TABLE public.\"Contact\"" },
            content.Comments.Keys);

        Assert.Equal(57, content.SchemaObjects.Count);
        Assert.Contains(content.SchemaObjects, l => l.StartsWith("CREATE INDEX \"Contact_tenantId_email_idx\" ON public.\"Contact\" USING btree", StringComparison.Ordinal));
        Assert.Contains(content.SchemaObjects, l => l.StartsWith("CREATE FUNCTION public.dots() RETURNS text LANGUAGE sql AS $$ SELECT ' \\. ;'::text $$;", StringComparison.Ordinal));
        Assert.Contains(content.SchemaObjects, l => l.StartsWith("CREATE TRIGGER contact_touch BEFORE INSERT ON public.\"Contact\"", StringComparison.Ordinal));
        Assert.DoesNotContain(content.SchemaObjects, l => l.Contains("OWNER TO", StringComparison.Ordinal) || l.StartsWith("COMMENT", StringComparison.Ordinal) || l.StartsWith("SET ", StringComparison.Ordinal));
        Assert.Equal(content.SchemaObjects.Order(StringComparer.Ordinal), content.SchemaObjects);
    }

    [Fact]
    public async Task Plain_pg_dump_and_pg_restore_of_the_custom_archive_give_the_same_content()
    {
        var plain = await ReadAsync(Sample("pg_dump-15.sql"));
        var restored = await ReadAsync(RestoredSample());

        Assert.Equal(JsonSerializer.Serialize(plain), JsonSerializer.Serialize(restored));
    }

    [Fact]
    public async Task A_real_dump_streamed_in_one_byte_reads_gives_the_same_content()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(Sample());
        var whole = await ReadAsync(bytes);
        var trickled = await Commissable.Backup.Core.Backups.Content.DumpContentReader.ReadAsync(
            new OneByteStream(bytes), new Commissable.Backup.Core.Backups.Content.DumpReadOptions());

        Assert.Equal(JsonSerializer.Serialize(whole), JsonSerializer.Serialize(trickled));
    }

    /// <summary>The rows of one table's COPY block, as printed.</summary>
    private static string[] RowsOf(string dump, string table)
    {
        var lines = dump.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith($"COPY {table} (", StringComparison.Ordinal));
        Assert.True(start >= 0, $"no COPY of {table}");
        var end = Array.IndexOf(lines, "\\.", start);
        return lines[(start + 1)..end];
    }

    private sealed class OneByteStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
    }
}
