using Commissable.Backup.Google.Auth;
using Google.Apis.Auth.OAuth2;

namespace Commissable.Backup.Google.Tests.Auth;

/// <summary>Token sources, offline: no test here talks to Google.</summary>
public sealed class TokenSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("commissable-token-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_file_token_source_reads_and_trims_the_file()
    {
        var path = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(path, "  local-token-123\n");

        Assert.Equal("local-token-123", await new FileTokenSource(path).GetAccessTokenAsync());
    }

    [Fact]
    public async Task The_file_token_source_picks_up_a_rewritten_token()
    {
        var path = Path.Combine(_dir, "token");
        var source = new FileTokenSource(path);
        await File.WriteAllTextAsync(path, "first");
        Assert.Equal("first", await source.GetAccessTokenAsync());

        await File.WriteAllTextAsync(path, "second");
        Assert.Equal("second", await source.GetAccessTokenAsync());
    }

    [Fact]
    public async Task A_missing_token_file_is_reported_with_its_path_and_what_writes_it()
    {
        var path = Path.Combine(_dir, "state", "token");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await new FileTokenSource(path).GetAccessTokenAsync());

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains("local cloud", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_token_file_is_refused()
    {
        var path = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(path, " \n");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await new FileTokenSource(path).GetAccessTokenAsync());

        Assert.Contains("is empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_file_token_source_needs_a_path()
    {
        Assert.ThrowsAny<ArgumentException>(() => new FileTokenSource(" "));
    }

    [Fact]
    public void The_application_default_token_source_is_constructed_without_locating_credentials()
    {
        // Construction is lazy: with no credentials configured anywhere this must still succeed
        // at once, because nothing is looked up until the first token is requested.
        var source = new ApplicationDefaultTokenSource();

        Assert.NotNull(source);
        Assert.Throws<ArgumentException>(() => new ApplicationDefaultTokenSource(Array.Empty<string>()));
    }

    [Fact]
    public async Task The_application_default_token_source_hands_out_the_token_of_an_explicit_credential()
    {
        // An access-token credential needs no network, so the token path is tested offline.
        var source = new ApplicationDefaultTokenSource(GoogleCredential.FromAccessToken("ya29.offline"));

        Assert.Equal("ya29.offline", await source.GetAccessTokenAsync());
        Assert.Equal("ya29.offline", await source.GetAccessTokenAsync());
    }
}
