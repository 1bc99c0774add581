using System.Diagnostics.CodeAnalysis;

namespace Commissable.Backup.Core.Naming;

/// <summary>
/// A Cloud Storage URI, <c>gs://bucket/object</c>, parsed once by one rule: the bucket is a bucket
/// name (<see cref="CloudNames.IsBucket"/>), the object name is not empty and has no empty, '.' or
/// '..' segment, no backslash and no control character, and the whole URI is at most 1024
/// characters. So an object name is never a relative path, wherever it is used as one.
/// </summary>
public sealed record GcsUri
{
    public const string Scheme = "gs://";
    public const int MaxLength = 1024;

    private GcsUri(string bucket, string objectName, bool isDirectory) => (Bucket, ObjectName, IsDirectory) = (bucket, objectName, isDirectory);

    public string Bucket { get; }

    /// <summary>The object name, without a trailing '/' (see <see cref="IsDirectory"/>).</summary>
    public string ObjectName { get; }

    /// <summary>The URI ended with '/': a prefix, such as the directory of a parallel export.</summary>
    public bool IsDirectory { get; }

    /// <summary>Parses <paramref name="text"/>; a trailing '/' is accepted only when <paramref name="allowDirectory"/>.</summary>
    /// <exception cref="FormatException">The text is not such a URI; the message says why.</exception>
    public static GcsUri Parse(string? text, bool allowDirectory = false) =>
        TryParse(text, out var uri, out var problem, allowDirectory) ? uri : throw new FormatException(problem);

    /// <summary>Parses <paramref name="text"/>, or says in <paramref name="problem"/> what is wrong with it.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out GcsUri? uri, [NotNullWhen(false)] out string? problem, bool allowDirectory = false)
    {
        uri = null;
        problem = Problem(text, allowDirectory, out var bucket, out var objectName, out var isDirectory);
        if (problem is null)
        {
            uri = new GcsUri(bucket, objectName, isDirectory);
        }
        return problem is null;
    }

    /// <summary>The URI of <paramref name="objectName"/> in <paramref name="bucket"/>, checked.</summary>
    /// <exception cref="FormatException">The bucket or the object name breaks the rule.</exception>
    public static GcsUri Of(string bucket, string objectName) => Parse(Scheme + bucket + "/" + objectName);

    public override string ToString() => Scheme + Bucket + "/" + ObjectName + (IsDirectory ? "/" : "");

    private static string? Problem(string? text, bool allowDirectory, out string bucket, out string objectName, out bool isDirectory)
    {
        bucket = objectName = "";
        isDirectory = false;
        if (string.IsNullOrEmpty(text))
        {
            return "it is empty; expected gs://<bucket>/<object>";
        }
        if (text.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }
        if (text.Any(char.IsControl))
        {
            return $"'{CloudNames.Printable(text)}' holds a control character";
        }
        if (!text.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return $"'{CloudNames.Printable(text)}' does not start with gs://";
        }
        var slash = text.IndexOf('/', Scheme.Length);
        bucket = slash < 0 ? text[Scheme.Length..] : text[Scheme.Length..slash];
        if (!CloudNames.IsBucket(bucket))
        {
            return $"'{CloudNames.Printable(bucket)}' is not a bucket name (3 to 63 lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit)";
        }
        objectName = slash < 0 ? "" : text[(slash + 1)..];
        if (allowDirectory && objectName.EndsWith('/'))
        {
            objectName = objectName[..^1];
            isDirectory = true;
        }
        if (objectName.Length == 0)
        {
            return $"'{CloudNames.Printable(text)}' names no object; expected gs://{bucket}/<object>";
        }
        if (objectName.Split('/').Any(segment => segment is "" or "." or "..") || objectName.Contains('\\', StringComparison.Ordinal))
        {
            return $"the object name of '{CloudNames.Printable(text)}' has an empty, '.' or '..' segment or a backslash";
        }
        return null;
    }
}
