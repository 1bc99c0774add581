using System.Text;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Backups.Masking;
using Commissable.Backup.Core.Tests.Backups.Content;

namespace Commissable.Backup.Core.Tests.Backups.Masking;

/// <summary>The masking filter over real pg_dump 15 text (Samples/pg_dump-15.sql) and hand-written dumps.</summary>
public sealed class DumpMaskerTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("sixteen-byte-key-and-more");

    private static MaskingRules Rules(params (string Column, MaskRule Rule)[] rules) =>
        new(rules.Select(r => KeyValuePair.Create(ColumnName.TryParse(r.Column, out var name) ? name : throw new ArgumentException(r.Column), r.Rule)));

    private static readonly (string, MaskRule)[] SampleRules =
    [
        ("Contact.email", MaskRule.Pseudonym(MaskKind.Email)),
        ("Contact.notes", MaskRule.Pseudonym(MaskKind.Text)),
        ("Tenant.name", MaskRule.Keep),
    ];

    private static async Task<(string Text, MaskingReport Report)> MaskAsync(string dump, MaskingRules rules)
    {
        using var pseudonyms = new Pseudonyms(Key);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(dump));
        var masker = await DumpMasker.OpenAsync(input, rules, pseudonyms);
        using var output = new MemoryStream();
        var report = await masker.WriteAsync(output);
        return (Encoding.UTF8.GetString(output.ToArray()), report);
    }

    private static List<string> Rows(string text, string copyStart)
    {
        var lines = text.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith(copyStart, StringComparison.Ordinal));
        Assert.True(start >= 0, $"no {copyStart} in the text");
        return [.. lines.Skip(start + 1).TakeWhile(l => l != "\\.")];
    }

    [Fact]
    public async Task Columns_whose_names_look_personal_are_refused_before_the_rows_each_named()
    {
        using var pseudonyms = new Pseudonyms(Key);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(Dumps.Sample()));
        var refused = await Assert.ThrowsAsync<MaskingRefusedException>(() => DumpMasker.OpenAsync(input, Rules(), pseudonyms));
        // citext email, free-text notes, Tenant.name; not the generated "emailLower", nor migration_name.
        Assert.Equal(["Contact.email", "Contact.notes", "Tenant.name"], refused.Problems.Select(p => p.Column));
        Assert.Contains("its name looks personal (\"email\": e-mail)", refused.Problems[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Masked_rows_keep_their_shape_null_stays_null_and_the_text_is_still_a_complete_dump()
    {
        var (text, report) = await MaskAsync(Dumps.Sample(), Rules(SampleRules));
        var contacts = Rows(text, "COPY public.\"Contact\" ").Select(r => r.Split('\t')).ToList();
        Assert.Equal(4, contacts.Count);
        Assert.All(contacts, c => Assert.Matches("^u-[0-9a-f]{16}@example\\.invalid$", c[2]));
        Assert.Equal(4, contacts.Select(c => c[2]).Distinct().Count());
        Assert.Matches("^masked-[0-9a-f]{16}$", contacts[0][3]);
        // Fields without a rule are copied byte for byte (bytea, escapes, NaN).
        Assert.Equal("\\\\xdeadbeef", contacts[0][4]);
        Assert.Equal("NaN", contacts[2][8]);
        Assert.Equal(["t_1\tOne", "t_2\tTwo", "t 3 ü\tThree\\ttab"], Rows(text, "COPY public.\"Tenant\" "));
        Assert.DoesNotContain("a@x.io", text, StringComparison.Ordinal);
        Assert.DoesNotContain("OWNER TO", text, StringComparison.Ordinal);
        Assert.True(report.StatementsLeftOut > 10);
        Assert.Equal(8, report.MaskedValues);
        Assert.Equal(new Dictionary<string, string> { ["Contact.email"] = "email", ["Contact.notes"] = "text", ["Tenant.name"] = "keep" }, report.Rules);
        // Still a whole pg_dump text, with the same rows per table.
        var masked = await Dumps.ReadAsync(text);
        var original = await Dumps.ReadAsync(Dumps.Sample());
        Assert.Equal(original.Tables.Select(t => (t.Key, t.Value.Rows)), masked.Tables.Select(t => (t.Key, t.Value.Rows)));
        Assert.Equal(original.Tables["public.\"Tenant\""].Digest, masked.Tables["public.\"Tenant\""].Digest);
        Assert.NotEqual(original.Tables["public.\"Contact\""].Digest, masked.Tables["public.\"Contact\""].Digest);
    }

    [Fact]
    public async Task The_null_rule_nulls_every_value()
    {
        var (text, _) = await MaskAsync(Dumps.Sample(), Rules(
            ("Contact.email", MaskRule.SetNull), ("Contact.notes", MaskRule.Pseudonym(MaskKind.Text)), ("Tenant.name", MaskRule.Keep)));
        var contacts = Rows(text, "COPY public.\"Contact\" ").Select(r => r.Split('\t')).ToList();
        Assert.Equal(4, contacts.Count);
        Assert.All(contacts, c => Assert.Equal("\\N", c[2]));
        Assert.All(contacts, c => Assert.StartsWith("masked-", c[3], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rule_on_a_partitioned_table_masks_every_partition()
    {
        var (text, _) = await MaskAsync(Dumps.Sample(), Rules([.. SampleRules, ("event.payload", MaskRule.Fixed("{\"masked\": true}"))]));
        foreach (var partition in (string[])["event_2025_a", "event_2025_rest", "event_2026"])
        {
            var payloads = Rows(text, $"COPY public.{partition} ").Select(r => r.Split('\t')[3]).ToList();
            Assert.NotEmpty(payloads);
            Assert.All(payloads, p => Assert.True(p is "{\"masked\": true}" or "\\N", p));
            Assert.Contains("{\"masked\": true}", payloads);
        }
    }

    [Theory]
    [InlineData("Contact.status", "email", "email needs a text or json column, not a public.\"Status\" column")]
    [InlineData("Tenant.name", "null", "null: the column is NOT NULL")]
    [InlineData("Contact.emailLower", "text", "is a generated column")]
    [InlineData("Contact.middleName", "name", "the dump's table Contact has no column middleName")]
    [InlineData("Invoice.total", "keep", "the dump has no table Invoice")]
    [InlineData("audit.log.msg", "phone", null)]
    public async Task A_rule_the_dump_cannot_take_is_refused_naming_the_column(string column, string kind, string? problem)
    {
        var rule = kind switch { "null" => MaskRule.SetNull, "keep" => MaskRule.Keep, "email" => MaskRule.Pseudonym(MaskKind.Email), "name" => MaskRule.Pseudonym(MaskKind.Name), "phone" => MaskRule.Pseudonym(MaskKind.Phone), _ => MaskRule.Pseudonym(MaskKind.Text) };
        var rules = SampleRules.Where(r => r.Item1 != column).Append((column, rule)).ToArray();
        using var pseudonyms = new Pseudonyms(Key);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(Dumps.Sample()));
        if (problem is null)
        {
            await DumpMasker.OpenAsync(input, Rules(rules), pseudonyms);
            return;
        }
        var refused = await Assert.ThrowsAsync<MaskingRefusedException>(() => DumpMasker.OpenAsync(input, Rules(rules), pseudonyms));
        var found = Assert.Single(refused.Problems);
        Assert.Equal(column, found.Column);
        Assert.Contains(problem, found.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pseudonyms_and_fixed_values_fit_the_column_and_a_fixed_value_too_long_is_refused()
    {
        var body = """
            CREATE TABLE public.person (
                id integer NOT NULL,
                email character varying(30),
                name character varying(10),
                code character(4),
                doc jsonb
            );

            COPY public.person (id, email, name, code, doc) FROM stdin;
            1	Ana@Example.com	Ana Smith	ABCD	{"phone": "+1 555 123 4567"}
            2	 ana@example.COM 	\N	\N	\N
            \.
            """;
        var rules = Rules(("person.email", MaskRule.Pseudonym(MaskKind.Email)), ("person.name", MaskRule.Pseudonym(MaskKind.Name)),
            ("person.code", MaskRule.Fixed("a\tb")), ("person.doc", MaskRule.Pseudonym(MaskKind.Phone)));
        var (text, _) = await MaskAsync(Dumps.Of(body), rules);
        var rows = Rows(text, "COPY public.person ").Select(r => r.Split('\t')).ToList();
        Assert.True(rows[0][1].Length <= 30);
        Assert.Matches("^u-[0-9a-f]{12}@example\\.invalid$", rows[0][1]);
        // Trimmed and lower-cased before hashing: one address, one pseudonym.
        Assert.Equal(rows[0][1], rows[1][1]);
        Assert.Matches("^[0-9a-f]{10}$", rows[0][2]);
        Assert.Equal("a\\tb", rows[0][3]);
        Assert.Matches("^\"\\+999 [0-9]{3} [0-9]{3} [0-9]{4}\"$", rows[0][4]);
        Assert.Equal(["\\N", "\\N", "\\N"], rows[1][2..]);

        using var pseudonyms = new Pseudonyms(Key);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(Dumps.Of(body)));
        var refused = await Assert.ThrowsAsync<MaskingRefusedException>(() => DumpMasker.OpenAsync(input,
            Rules(("person.email", MaskRule.Fixed("someone.much.too.long@example.invalid")), ("person.name", MaskRule.Keep)), pseudonyms));
        Assert.Contains("fixed: the value is 37 characters long; the column (character varying(30)) holds 30", Assert.Single(refused.Problems).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Values_that_look_personal_stop_the_output_at_their_row_and_every_such_column_is_named()
    {
        var body = """
            CREATE TABLE public.lead (
                id integer NOT NULL,
                handle text,
                ref text,
                extra jsonb,
                kind text
            );

            COPY public.lead (id, handle, ref, extra, kind) FROM stdin;
            1	first	2024-01-15	{"a": 1}	web
            2	second	10.1.20.3	{"a": 2}	web
            3	someone@example.org	x	{"a": 3}	web
            4	fourth	(555) 123-4567	{"call": "+44 20 7946 0018"}	web
            \.
            """;
        using var pseudonyms = new Pseudonyms(Key);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(Dumps.Of(body)));
        var masker = await DumpMasker.OpenAsync(input, Rules(("lead.kind", MaskRule.Keep)), pseudonyms);
        using var output = new MemoryStream();
        var refused = await Assert.ThrowsAsync<MaskingRefusedException>(() => masker.WriteAsync(output));
        Assert.Equal(["lead.handle", "lead.ref", "lead.extra"], refused.Problems.Select(p => p.Column));
        Assert.Contains("it holds e-mail addresses", refused.Problems[0].Reason, StringComparison.Ordinal);
        Assert.Contains("it holds phone numbers", refused.Problems[1].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("someone@example.org", refused.Message, StringComparison.Ordinal);
        var written = Encoding.UTF8.GetString(output.ToArray());
        Assert.Contains("2\tsecond", written, StringComparison.Ordinal);
        Assert.DoesNotContain("someone", written, StringComparison.Ordinal);
        Assert.DoesNotContain("fourth", written, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_as_insert_statements_are_refused()
    {
        using var pseudonyms = new Pseudonyms(Key);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(Dumps.Of("CREATE TABLE public.t (email text);\n\nINSERT INTO public.t VALUES ('a@b.example');\n")));
        var refused = await Assert.ThrowsAsync<MaskingRefusedException>(() => DumpMasker.OpenAsync(input, Rules(("t.email", MaskRule.Pseudonym(MaskKind.Email))), pseudonyms));
        Assert.Contains("INSERT statements", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Large_objects_are_left_out()
    {
        var body = """
            SELECT pg_catalog.lo_create('16403');

            ALTER LARGE OBJECT 16403 OWNER TO postgres;

            BEGIN;

            SELECT pg_catalog.lo_open('16403', 131072);
            SELECT pg_catalog.lowrite(0, '\x6c61726765');
            SELECT pg_catalog.lo_close(0);

            COMMIT;
            """;
        var (text, report) = await MaskAsync(Dumps.Of(body), Rules());
        Assert.Equal(1, report.LargeObjectsLeftOut);
        Assert.DoesNotContain("lo_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("LARGE OBJECT", text, StringComparison.Ordinal);
        await Dumps.ReadAsync(text);
    }
}
