using System.Text;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Processes;
using Microsoft.Extensions.Logging;

namespace Commissable.LocalCloud.Tests;

/// <summary>What the local cloud does with its state directory: private buckets, and a clear refusal when the clusters cannot reach it.</summary>
public sealed class StateDirectoryTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"lcs-{Guid.NewGuid():N}"[..12]);

    public StateDirectoryTests()
    {
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Bucket_objects_are_0600_in_0700_directories_and_older_readable_ones_are_tightened_at_start()
    {
        var state = Path.Combine(_root, "state");
        var old = Path.Combine(state, "buckets", "old-bucket", "backups", "old.sql.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(old)!);
        await File.WriteAllTextAsync(old, "old");
        File.SetUnixFileMode(old, (UnixFileMode)0b110_100_100);

        await using var app = LocalCloudHost.Build(Options(state), logging: l => l.ClearProviders());
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(old));
        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(state, "buckets")));
        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(state, "buckets", "old-bucket")));

        var store = new LocalBackupStore(new BucketPaths(state), "new-bucket");
        await store.WriteAsync("prod/2024/backup.sql.gz", new MemoryStream(Encoding.UTF8.GetBytes("data")), "application/gzip", ifGenerationMatch: 0);
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(Path.Combine(state, "buckets", "new-bucket", "prod", "2024", "backup.sql.gz")));
        foreach (var directory in new[] { "new-bucket", "new-bucket/prod", "new-bucket/prod/2024" })
        {
            Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(state, "buckets", directory)));
        }
        Assert.All(Directory.EnumerateFileSystemEntries(Path.Combine(state, "buckets", ".store"), "*", SearchOption.AllDirectories),
            entry => Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(entry) & (UnixFileMode)0b000_111_111));
    }

    [RootFact]
    public void A_state_directory_below_one_the_clusters_account_cannot_enter_is_refused_naming_that_directory()
    {
        var closed = Path.Combine(_root, "closed");
        Directory.CreateDirectory(closed);
        File.SetUnixFileMode(closed, Private);

        var error = Assert.Throws<InvalidOperationException>(() => LocalCloudHost.Build(Options(Path.Combine(closed, "state")), logging: l => l.ClearProviders()));
        Assert.Contains($"cannot enter {closed} (mode 700)", error.Message, StringComparison.Ordinal);
        Assert.Contains($"chmod o+x {closed}", error.Message, StringComparison.Ordinal);
        Assert.Equal(Private, File.GetUnixFileMode(closed));
    }

    [Fact]
    public async Task A_private_state_directory_such_as_mktemp_gives_is_made_passable_but_not_listable()
    {
        var state = Path.Combine(_root, "mktemp");
        Directory.CreateDirectory(state);
        File.SetUnixFileMode(state, Private);

        await using var app = LocalCloudHost.Build(Options(state), logging: l => l.ClearProviders());
        Assert.Equal((UnixFileMode)0b111_001_001, File.GetUnixFileMode(state));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t")]
    [InlineData("lc-short-15char")]
    public void A_token_file_that_is_empty_or_shorter_than_16_characters_is_refused_naming_the_file_not_its_content(string content)
    {
        var state = Path.Combine(_root, "weak-token");
        Directory.CreateDirectory(state);
        var token = LocalCloudHost.TokenFile(state);
        File.WriteAllText(token, content);

        var error = Assert.Throws<InvalidOperationException>(() => LocalCloudHost.Build(Options(state), logging: l => l.ClearProviders()));
        Assert.Contains(token, error.Message, StringComparison.Ordinal);
        Assert.Contains("at least 16 characters", error.Message, StringComparison.Ordinal);
        if (content.Trim().Length > 0) Assert.DoesNotContain(content.Trim(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_file_of_16_characters_or_more_is_the_token()
    {
        var state = Path.Combine(_root, "own-token");
        Directory.CreateDirectory(state);
        await File.WriteAllTextAsync(LocalCloudHost.TokenFile(state), "lc-sixteen-chars\n");

        await using var app = LocalCloudHost.Build(Options(state), logging: l => l.ClearProviders());
        Assert.Equal("lc-sixteen-chars\n", await File.ReadAllTextAsync(LocalCloudHost.TokenFile(state)));

        // It is the one token the API takes.
        using var client = new HttpClient { BaseAddress = await LocalCloudHost.StartAsync(app) };
        async Task<System.Net.HttpStatusCode> ListAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "sql/v1beta4/projects/test-project/instances");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(System.Net.HttpStatusCode.OK, await ListAsync("lc-sixteen-chars"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await ListAsync("lc-sixteen-chart"));
    }

    private static LocalCloudOptions Options(string state) => new()
    {
        Port = 0,
        StateDirectory = state,
        Binaries = PostgresBinaries.Locate(),
    };
}
