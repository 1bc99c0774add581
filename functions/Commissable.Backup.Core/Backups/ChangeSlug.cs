using System.Text.RegularExpressions;

namespace Commissable.Backup.Core.Backups;

/// <summary>
/// The <c>&lt;change&gt;</c> part of a backup name: <c>[a-z0-9][a-z0-9-]{0,62}</c>. It becomes part
/// of an object path, so anything else is refused, never cleaned up into a path.
/// </summary>
public static partial class ChangeSlug
{
    public const string Pattern = "[a-z0-9][a-z0-9-]{0,62}";

    public static bool IsValid(string? value) => value is not null && Regex().IsMatch(value);

    /// <summary>Null when valid, else a message that says what is wrong and what is accepted.</summary>
    public static string? Problem(string? value, string field = "change") => value switch
    {
        null or "" => $"'{field}' is required: a slug of 1 to 63 characters, lowercase letters, digits and '-', starting with a letter or digit (for example add-deposit-index).",
        { Length: > 63 } => $"'{field}' is {value.Length} characters long; at most 63 are accepted.",
        _ when !Regex().IsMatch(value) => $"'{field}' may contain only lowercase letters, digits and '-', and must start with a letter or digit (got '{Printable(value)}').",
        _ => null,
    };

    private static string Printable(string value) =>
        new(value.Take(63).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex(@"\A" + Pattern + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex Regex();
}
