namespace Commissable.LocalCloud.Storage;

/// <summary>
/// Maps <c>gs://bucket/object</c> to <c>&lt;state&gt;/buckets/bucket/object</c>. A URI that is not
/// gs://, names an invalid bucket, or whose object path escapes its bucket is refused.
/// </summary>
public sealed class BucketPaths(string stateDirectory)
{
    public string Root { get; } = Path.Combine(stateDirectory, "buckets");

    public string BucketDirectory(string bucket) => Path.Combine(Root, bucket);

    /// <summary>The local file (or directory) for a gs:// URI; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public string Resolve(string? uri)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw new ArgumentException("The URI is empty; expected gs://<bucket>/<object>.");
        }
        if (!uri.StartsWith("gs://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"The URI '{uri}' is not a Cloud Storage URI; expected gs://<bucket>/<object>.");
        }
        var rest = uri["gs://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            throw new ArgumentException($"The URI '{uri}' names no object; expected gs://<bucket>/<object>.");
        }
        var bucket = rest[..slash];
        var name = rest[(slash + 1)..];
        if (!IsValidBucket(bucket))
        {
            throw new ArgumentException($"'{bucket}' is not a valid bucket name (3-63 characters: lowercase letters, digits, '-', '_' and '.').");
        }
        var segments = name.Split('/');
        if (segments.Any(s => s is "." or "..") || name.Contains('\\', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The object name in '{uri}' contains '.' or '..' segments; it must stay inside bucket '{bucket}'.");
        }
        var bucketDirectory = Path.GetFullPath(BucketDirectory(bucket));
        var full = Path.GetFullPath(Path.Combine(bucketDirectory, name));
        if (!full.StartsWith(bucketDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The object name in '{uri}' escapes bucket '{bucket}'.");
        }
        return full;
    }

    private static bool IsValidBucket(string bucket) =>
        bucket.Length is >= 3 and <= 63
        && bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.')
        && char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1]);
}
