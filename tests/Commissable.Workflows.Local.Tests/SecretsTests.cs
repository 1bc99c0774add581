using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.FileStore;
using Commissable.Workflows.Local.Secrets;

namespace Commissable.Workflows.Local.Tests;

/// <summary>The local secret store keeps versions owner-only and whole; the connector answers like Secret Manager.</summary>
public sealed class SecretsTests : IDisposable
{
    private const string Access = "googleapis.secretmanager.v1.projects.secrets.versions.accessString";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"secrets-{Guid.NewGuid():N}"[..16]);

    private LocalSecretStore Store() => new(_directory);

    [Fact]
    public void Versions_are_numbered_from_one_and_owner_only()
    {
        var store = Store();
        store.Create("p", "db-url");
        Assert.Equal(1, store.AddVersion("p", "db-url", "one"u8)!.Version);
        Assert.Equal(2, store.AddVersion("p", "db-url", "two"u8)!.Version);

        Assert.Equal("projects/p/secrets/db-url/versions/2", store.Find("p", "db-url", "latest")!.Name);
        Assert.Equal("one", Encoding.UTF8.GetString(store.Read(store.Find("p", "db-url", "1")!)));
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(owner, File.GetUnixFileMode(Path.Combine(_directory, "p", "db-url", "2")));
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_directory, "p", "db-url")));
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
    }

    [Fact]
    public void A_crashed_write_leaves_no_version_and_concurrent_writers_get_distinct_numbers()
    {
        var store = Store();
        store.Create("p", "s");
        // What a writer that died before linking leaves: a temp file, never a version.
        var leftover = Path.Combine(_directory, "p", "s", ".tmp-dead");
        File.WriteAllText(leftover, "half");
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddHours(-2));
        Assert.Empty(store.Versions("p", "s"));
        Assert.Null(store.Find("p", "s", "latest"));

        var numbers = Enumerable.Range(0, 16).AsParallel().Select(i => store.AddVersion("p", "s", Encoding.UTF8.GetBytes($"v{i}"))!.Version).ToList();
        Assert.Equal(Enumerable.Range(1, 16), numbers.Order());
        Assert.False(File.Exists(leftover));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_directory, "p", "s"), ".tmp-*"));
    }

    [Fact]
    public void A_name_that_is_a_path_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Store().Create("p", "../../etc"));
    }

    [Fact]
    public async Task The_connector_adds_and_reads_versions_like_the_api()
    {
        var store = Store();
        store.Create("proj", "direct-url");
        var connector = new SecretManagerConnector(store, "proj");

        var added = await connector.CallAsync("googleapis.secretmanager.v1.projects.secrets.addVersion", new JsonObject
        {
            ["parent"] = "projects/proj/secrets/direct-url",
            ["body"] = new JsonObject { ["payload"] = new JsonObject { ["data"] = Convert.ToBase64String("postgresql://new"u8.ToArray()) } },
        });
        Assert.Equal("projects/proj/secrets/direct-url/versions/1", (string?)added!["name"]);
        Assert.Equal("ENABLED", (string?)added["state"]);

        Assert.Equal("postgresql://new", (string?)await connector.CallAsync(Access, new JsonObject { ["secret_id"] = "direct-url" }));
        Assert.Equal("postgresql://new", (string?)await connector.CallAsync(Access, new JsonObject { ["secret_id"] = "direct-url", ["version"] = "1", ["project_id"] = "proj" }));
        var raw = await connector.CallAsync("googleapis.secretmanager.v1.projects.secrets.versions.access", new JsonObject { ["name"] = "projects/proj/secrets/direct-url/versions/latest" });
        Assert.Equal("projects/proj/secrets/direct-url/versions/1", (string?)raw!["name"]);
        Assert.Equal("postgresql://new", Encoding.UTF8.GetString(Convert.FromBase64String((string)raw["payload"]!["data"]!)));
    }

    [Fact]
    public async Task A_missing_secret_or_version_is_a_404_HttpError()
    {
        var store = Store();
        var connector = new SecretManagerConnector(store, "proj");
        var missing = await connector.RaisesAsync("HttpError", Access, new JsonObject { ["secret_id"] = "nope" });
        Assert.Equal(404, (int)missing["code"]!);
        Assert.Equal("NOT_FOUND", (string?)missing["body"]!["error"]!["status"]);

        var add = await connector.RaisesAsync("HttpError", "googleapis.secretmanager.v1.projects.secrets.addVersion", new JsonObject
        {
            ["parent"] = "projects/proj/secrets/nope",
            ["body"] = new JsonObject { ["payload"] = new JsonObject { ["data"] = "eA==" } },
        });
        Assert.Equal(404, (int)add["code"]!);

        store.Create("proj", "s");
        store.AddVersion("proj", "s", "x"u8);
        var noVersion = await connector.RaisesAsync("HttpError", Access, new JsonObject { ["secret_id"] = "s", ["version"] = "7" });
        Assert.Equal(404, (int)noVersion["code"]!);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
