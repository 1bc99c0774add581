namespace Commissable.Backup.Google.Auth;

/// <summary>
/// A static bearer token read from a file, like gcloud's <c>--access-token-file</c>. The local
/// cloud writes its token to <c>&lt;state&gt;/token</c>. The file is read on every request, so a
/// rewritten token is picked up without a restart.
/// </summary>
public sealed class FileTokenSource : IAccessTokenSource
{
    /// <summary>Reads the token from <paramref name="path"/> (surrounding whitespace is ignored).</summary>
    /// <param name="path">The token file; it need not exist yet when the source is constructed.</param>
    public FileTokenSource(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The absolute path of the token file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public async ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken = default)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(Path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidOperationException(
                $"The access token file '{Path}' does not exist. Start the local cloud (it writes " +
                "<state>/token) or point the token file setting at an existing file.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InvalidOperationException($"The access token file '{Path}' cannot be read: access denied.", e);
        }

        var token = text.Trim();
        if (token.Length == 0)
        {
            throw new InvalidOperationException($"The access token file '{Path}' is empty.");
        }

        // A bearer token is one line of visible ASCII; anything else would corrupt the header.
        if (token.Any(c => c is < '!' or > '~'))
        {
            throw new InvalidOperationException(
                $"The access token file '{Path}' must hold a single token without spaces or line breaks.");
        }

        return token;
    }
}
