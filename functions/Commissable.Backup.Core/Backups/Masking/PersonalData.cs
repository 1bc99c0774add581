using System.Text;
using System.Text.RegularExpressions;

namespace Commissable.Backup.Core.Backups.Masking;

/// <summary>
/// What makes a text-like column look personal: its name (<see cref="ByName"/>) or its values
/// (<see cref="LooksLikeEmail"/>, <see cref="LooksLikePhone"/>). A column that looks personal must
/// have a rule, <c>keep</c> included, before a masked copy is written.
/// </summary>
public static partial class PersonalData
{
    /// <summary>
    /// The words of a column name that make it look personal (the name is split into words at
    /// capitals, digits, <c>_</c>, <c>-</c> and spaces, lower-cased), with what they stand for.
    /// </summary>
    public static IReadOnlyDictionary<string, string> NameWords { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["email"] = "e-mail", ["emails"] = "e-mail", ["mail"] = "e-mail",
        ["name"] = "name", ["names"] = "name", ["firstname"] = "name", ["lastname"] = "name", ["surname"] = "name", ["fullname"] = "name",
        ["forename"] = "name", ["givenname"] = "name", ["nickname"] = "name", ["username"] = "name",
        ["phone"] = "phone", ["phones"] = "phone", ["mobile"] = "phone", ["cell"] = "phone", ["fax"] = "phone", ["tel"] = "phone", ["telephone"] = "phone", ["msisdn"] = "phone",
        ["address"] = "address", ["addr"] = "address", ["street"] = "address", ["city"] = "address", ["town"] = "address", ["zip"] = "address", ["zipcode"] = "address",
        ["postal"] = "address", ["postcode"] = "address",
        ["note"] = "free text", ["notes"] = "free text", ["comment"] = "free text", ["comments"] = "free text", ["description"] = "free text",
        ["remark"] = "free text", ["remarks"] = "free text", ["memo"] = "free text", ["body"] = "free text", ["bio"] = "free text",
        ["birth"] = "birth date", ["birthday"] = "birth date", ["dob"] = "birth date", ["ssn"] = "national id", ["passport"] = "national id",
        ["iban"] = "bank account", ["password"] = "secret", ["passwd"] = "secret",
    };

    /// <summary>Words before "name" that make it a thing's name, not a person's (<c>fileName</c>, <c>migration_name</c>, <c>hostname</c> is one word and not listed).</summary>
    public static IReadOnlySet<string> ThingQualifiers { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "file", "migration", "host", "domain", "table", "column", "schema", "type", "class", "event", "function", "method", "bucket", "object",
        "key", "index", "constraint", "queue", "topic", "service", "app", "product", "category", "template", "role", "permission", "plan", "tag",
    };

    /// <summary>Why <paramref name="column"/>'s name looks personal (the word and what it stands for), or null.</summary>
    public static string? ByName(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var words = Words(column);
        for (var i = 0; i < words.Count; i++)
        {
            if (!NameWords.TryGetValue(words[i], out var what))
            {
                continue;
            }
            if (what == "name" && words[i] is "name" or "names" && i > 0 && ThingQualifiers.Contains(words[i - 1]))
            {
                continue;
            }
            return $"its name looks personal (\"{words[i]}\": {what})";
        }
        return null;
    }

    /// <summary>The words of a column name: split at capitals (<c>firstName</c>), digits, <c>_</c>, <c>-</c>, <c>.</c> and spaces, lower-cased.</summary>
    public static IReadOnlyList<string> Words(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var words = new List<string>();
        var word = new StringBuilder();
        void End()
        {
            if (word.Length > 0) words.Add(word.ToString().ToLowerInvariant());
            word.Clear();
        }
        for (var i = 0; i < column.Length; i++)
        {
            var c = column[i];
            if (!char.IsLetter(c))
            {
                End();
                continue;
            }
            // A capital starts a word, unless it continues a run of capitals (URLValue: URL, Value).
            if (char.IsUpper(c) && word.Length > 0 && (!char.IsUpper(column[i - 1]) || (i + 1 < column.Length && char.IsLower(column[i + 1]))))
            {
                End();
            }
            word.Append(c);
        }
        End();
        return words;
    }

    /// <summary>True when <paramref name="value"/> holds an e-mail address anywhere in it.</summary>
    public static bool LooksLikeEmail(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Contains('@', StringComparison.Ordinal) && EmailPattern().IsMatch(value);
    }

    /// <summary>
    /// True when <paramref name="value"/> is a phone number (the whole value: international
    /// <c>+CC …</c> with 8 to 15 digits, or a national <c>(555) 123-4567</c> shape in three groups)
    /// or holds an international one (<c>+</c> and at least 8 digits in groups) anywhere in it.
    /// </summary>
    public static bool LooksLikePhone(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var digits = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c)) digits++;
        }
        if (digits < 7) return false;
        var trimmed = value.Trim();
        if (digits <= 15 && (NationalPhone().IsMatch(trimmed) || (InternationalPhone().IsMatch(trimmed) && digits >= 8)))
        {
            return true;
        }
        foreach (Match match in EmbeddedPhone().Matches(value))
        {
            if (match.Value.Count(char.IsAsciiDigit) is >= 8 and <= 15) return true;
        }
        return false;
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"\A\+[0-9][0-9 ().\-]{6,24}\z", RegexOptions.CultureInvariant)]
    private static partial Regex InternationalPhone();

    [GeneratedRegex(@"\A\(?[0-9]{2,4}\)?[ .\-][0-9]{3,4}[ .\-][0-9]{3,4}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NationalPhone();

    [GeneratedRegex(@"(?<![0-9A-Za-z])\+[0-9]{1,3}(?:[ .\-]?\(?[0-9]{2,4}\)?){2,5}(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex EmbeddedPhone();
}
