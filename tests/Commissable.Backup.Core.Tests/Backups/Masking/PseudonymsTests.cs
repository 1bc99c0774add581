using System.Text;
using Commissable.Backup.Core.Backups.Masking;

namespace Commissable.Backup.Core.Tests.Backups.Masking;

public sealed class PseudonymsTests
{
    private static Pseudonyms Make(string key) => new(Encoding.UTF8.GetBytes(key));

    [Fact]
    public void The_same_value_and_key_give_the_same_pseudonym_another_key_another()
    {
        using var one = Make("0123456789abcdef-one");
        using var again = Make("0123456789abcdef-one");
        using var other = Make("0123456789abcdef-two");
        foreach (var kind in (MaskKind[])[MaskKind.Email, MaskKind.Name, MaskKind.Phone, MaskKind.Text])
        {
            var (value, near) = kind == MaskKind.Phone ? ("+1 555 0100", "+1 555 0101") : ("Ana Smith", "Ana Smyth");
            Assert.Equal(one.Of(kind, value), again.Of(kind, value));
            Assert.NotEqual(one.Of(kind, value), other.Of(kind, value));
            Assert.NotEqual(one.Of(kind, value), one.Of(kind, near));
        }
        Assert.Equal(one.Number("42", 1, 100), again.Number("42", 1, 100));
    }

    [Fact]
    public void Normalisation_makes_one_person_one_pseudonym()
    {
        using var p = Make("0123456789abcdef");
        Assert.Equal(p.Of(MaskKind.Email, "Ana.Smith@Example.com"), p.Of(MaskKind.Email, "  ana.smith@example.COM "));
        Assert.Equal(p.Of(MaskKind.Name, "Ana  Smith"), p.Of(MaskKind.Name, " ana smith"));
        Assert.Equal(p.Of(MaskKind.Phone, "+1 (555) 123-4567"), p.Of(MaskKind.Phone, "+15551234567"));
        // Kinds are hashed apart: a name and an e-mail of the same text do not meet.
        Assert.NotEqual(p.Of(MaskKind.Name, "x")[^8..], p.Of(MaskKind.Text, "x")[^8..]);
    }

    [Fact]
    public void Pseudonyms_have_their_shapes_and_fit_a_length_down_to_their_shortest()
    {
        using var p = Make("0123456789abcdef");
        Assert.Matches("^u-[0-9a-f]{16}@example\\.invalid$", p.Of(MaskKind.Email, "a@b.c"));
        Assert.Matches("^[A-Z][a-z]+ [0-9a-f]{8}$", p.Of(MaskKind.Name, "Ana"));
        Assert.Matches("^\\+999 [0-9]{3} [0-9]{3} [0-9]{4}$", p.Of(MaskKind.Phone, "555"));
        Assert.Matches("^masked-[0-9a-f]{16}$", p.Of(MaskKind.Text, "notes"));
        foreach (var kind in (MaskKind[])[MaskKind.Email, MaskKind.Name, MaskKind.Phone, MaskKind.Text])
        {
            var shortest = Pseudonyms.ShortestLength(kind);
            Assert.True(p.Of(kind, "value", shortest).Length <= shortest);
            Assert.Throws<ArgumentOutOfRangeException>(() => p.Of(kind, "value", shortest - 1));
        }
        for (var i = 0; i < 200; i++)
        {
            var n = p.Number(i.ToString(System.Globalization.CultureInfo.InvariantCulture), -5, 5);
            Assert.InRange(n, -5, 5);
        }
        Assert.InRange(p.Number("x", long.MinValue, long.MaxValue), long.MinValue, long.MaxValue);
    }

    [Fact]
    public void A_key_shorter_than_16_bytes_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Make("fifteen-bytes!!"));
    }

    [Theory]
    [InlineData("email", "e-mail")]
    [InlineData("firstName", "name")]
    [InlineData("last_name", "name")]
    [InlineData("customerName", "name")]
    [InlineData("mobilePhone", "phone")]
    [InlineData("billingAddress", "address")]
    [InlineData("ipAddress", "address")]
    [InlineData("postal_code", "address")]
    [InlineData("notes", "free text")]
    [InlineData("body", "free text")]
    [InlineData("passwordHash", "secret")]
    [InlineData("fileName", null)]
    [InlineData("migration_name", null)]
    [InlineData("hostname", null)]
    [InlineData("subject", null)]
    [InlineData("emailVerifiedAt", "e-mail")]
    public void Column_names_that_look_personal(string column, string? what)
    {
        var reason = PersonalData.ByName(column);
        if (what is null) Assert.Null(reason);
        else Assert.Contains($": {what})", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a.b@c.example", true, false)]
    [InlineData("write to someone@example.org today", true, false)]
    [InlineData("+1-555-123-4567", false, true)]
    [InlineData("(555) 123-4567", false, true)]
    [InlineData("call +44 20 7946 0018 now", false, true)]
    [InlineData("2024-01-15", false, false)]
    [InlineData("10.1.20.3", false, false)]
    [InlineData("DEP-001-000001", false, false)]
    [InlineData("36-month term", false, false)]
    [InlineData("@handle", false, false)]
    public void Values_that_look_personal(string value, bool email, bool phone)
    {
        Assert.Equal(email, PersonalData.LooksLikeEmail(value));
        Assert.Equal(phone, PersonalData.LooksLikePhone(value));
    }
}
