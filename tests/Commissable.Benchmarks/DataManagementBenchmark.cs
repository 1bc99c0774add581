using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Files;
using Commissable.Backup.FileStore;
using Commissable.Backup.Postgres.Demo;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// What the acting-user token check and the audit write cost: <c>GET /data-management/backups</c>
/// against <c>GET /catalog</c> on the same catalog of real backups (pre-deploy exports of the tiny
/// demo database through the published host), in one run, on one host. Each data-management call
/// carries a freshly minted ES256 token (a new <c>jti</c>, as the CRM must; minted outside the
/// timed part), so each call also records its <c>jti</c> and writes its audit record.
/// </summary>
/// <remarks>
/// Fairness: one host, one HTTP client (kept-alive connection) and the same <c>?limit=</c> for
/// both; both warmed up first; then the calls alternate, so drift on the machine touches both
/// alike. Both must answer 200 with all the backups, or the benchmark fails. For where the
/// difference goes, a third series times, between the same calls, the two create-only writes a
/// data-management call makes to the local store (its <c>jti</c>, about 120 bytes, and its audit
/// record, about 450) as this process's own <see cref="LocalBackupStore"/> writes of the same
/// sizes to the same bucket, outside the catalog's prefix.
/// </remarks>
internal sealed class DataManagementBenchmark(int backups, string work, bool keep)
{
    public const int DefaultBackups = 50;
    private const int Calls = 200;
    private const int WarmUp = 20;
    private const double TargetMs = 5;
    private const string Issuer = "https://crm.bench.example";
    private const string Audience = "https://data-management.bench.example";
    private const string KeyId = "bench-key-1";

    public async Task<int> RunAsync()
    {
        if (backups is < 1 or > 1000) throw new ArgumentOutOfRangeException(nameof(backups), backups, "--backups must be from 1 to 1000 (the largest ?limit= both functions accept)");
        CreateWorkDirectory(work);
        BenchCloud? cloud = null;
        Process? host = null;
        using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            cloud = await BenchCloud.StartAsync(work, "127.0.197");
            Say("creating the instance and loading the tiny demo database ...");
            await cloud.CreateInstanceAsync("prod", pitr: true);
            await cloud.CreateDatabaseAsync("prod", "crm");
            await DemoDatabase.CreateAsync(BenchCloud.Connection(await cloud.AddressAsync("prod"), "crm"), DemoDatabaseOptions.Tiny, new Progress<string>(Say));
            await cloud.AutomatedBackupAsync("prod");
            var passwordFile = cloud.WritePasswordFile();
            var jwksFile = await WriteJwksAsync(signer);
            var published = await cloud.PublishHostAsync();

            var port = FreePort();
            host = cloud.StartHost(published, port, passwordFile, Path.Combine(work, "functions.log"), new Dictionary<string, string>
            {
                ["DATA_MANAGEMENT_ISSUER"] = Issuer,
                ["DATA_MANAGEMENT_AUDIENCE"] = Audience,
                ["DATA_MANAGEMENT_JWKS_FILE"] = jwksFile,
            });
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(10) };
            await BenchCloud.FirstResponseAsync(http, Stopwatch.StartNew());
            Say($"functions host (ReadyToRun, as the image) listening, pid {host.Id}");

            Say(Invariant($"filling the catalog: {backups} pre-deploy exports of prod/crm through the host ..."));
            var fill = Stopwatch.StartNew();
            for (var i = 1; i <= backups; i++)
            {
                await ProofBenchmark.PreDeployExportAsync(http, new JsonObject { ["instance"] = "prod", ["database"] = "crm", ["change"] = Invariant($"dm-bench-{i:D4}") });
            }
            Say(Invariant($"{backups} exports in {fill.Elapsed.TotalSeconds:F0} s"));

            var catalogPath = Invariant($"catalog?limit={backups}");
            var dataManagementPath = Invariant($"data-management/backups?limit={backups}");
            var credentials = new SigningCredentials(new ECDsaSecurityKey(signer) { KeyId = KeyId }, SecurityAlgorithms.EcdsaSha256);
            var handler = new JsonWebTokenHandler();

            var catalogMs = new List<double>(Calls);
            var dataManagementMs = new List<double>(Calls);
            var writesMs = new List<double>(Calls);
            var store = new LocalBackupStore(new BucketPaths(cloud.State), BenchCloud.Bucket);
            var loadAtStart = LoadAverage();
            for (var i = 0; i < WarmUp + Calls; i++)
            {
                var counted = i >= WarmUp;
                // Alternating which goes first, so neither always follows the other.
                foreach (var dataManagementTurn in i % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    if (dataManagementTurn)
                    {
                        var token = Mint(handler, credentials);
                        var ms = await TimedGetAsync(http, dataManagementPath, token, backups);
                        if (counted) dataManagementMs.Add(ms);
                    }
                    else
                    {
                        var ms = await TimedGetAsync(http, catalogPath, null, backups);
                        if (counted) catalogMs.Add(ms);
                    }
                }
                var writes = await TimedWritePairAsync(store, i);
                if (counted) writesMs.Add(writes);
            }
            var loadAtEnd = LoadAverage();

            var catalogMedian = Median(catalogMs);
            var dataManagementMedian = Median(dataManagementMs);
            var difference = dataManagementMedian - catalogMedian;
            var met = difference < TargetMs;
            Console.WriteLine();
            Console.WriteLine($"Command: dotnet run -c Release --project tests/Commissable.Benchmarks -- {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}");
            Console.WriteLine(Invariant($"Catalog: {backups} pre-deploy exports (tiny demo database); both answered 200 with all {backups} on every call. {WarmUp} warm-up calls each (not counted), then {Calls} each, alternating."));
            Console.WriteLine(Invariant($"Load average (1 min, 2 cores): {loadAtStart:F2} at the start of the calls, {loadAtEnd:F2} at the end."));
            Console.WriteLine();
            Console.WriteLine("| measure | GET /data-management/backups | GET /catalog | difference of medians | ratio of medians | target |");
            Console.WriteLine("|---|---|---|---|---|---|");
            Console.WriteLine(Invariant($"| latency over {Calls} calls each, median / p90 | {dataManagementMedian:F2} ms / {Percentile(dataManagementMs, 0.9):F2} ms | {catalogMedian:F2} ms / {Percentile(catalogMs, 0.9):F2} ms | {difference:F2} ms | {dataManagementMedian / catalogMedian:F3} | < {TargetMs:F0} ms: {(met ? "met" : "NOT met")} |"));
            Console.WriteLine();
            Console.WriteLine(Invariant($"The two create-only writes of a data-management call (jti + audit record sizes, each fsynced to the local store), timed between the same calls: median {Median(writesMs):F2} ms / p90 {Percentile(writesMs, 0.9):F2} ms the pair ({Calls} pairs). A GET waits for the audit write only: its jti is written while the listing runs."));
            return met ? 0 : 3;
        }
        finally
        {
            await StopProcessAsync(host);
            host?.Dispose();
            if (cloud is not null) await cloud.DisposeAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    /// <summary>The public half of <paramref name="signer"/> as a JWKS file (0600), as the host's <c>DATA_MANAGEMENT_JWKS_FILE</c>.</summary>
    private async Task<string> WriteJwksAsync(ECDsa signer)
    {
        var q = signer.ExportParameters(includePrivateParameters: false).Q;
        var jwks = new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "EC", ["crv"] = "P-256", ["kid"] = KeyId, ["use"] = "sig", ["alg"] = "ES256",
                ["x"] = Base64UrlEncoder.Encode(q.X), ["y"] = Base64UrlEncoder.Encode(q.Y),
            }),
        };
        var path = Path.Combine(work, "jwks.json");
        await using (var file = OwnerOnly.CreateFile(path, options: FileOptions.Asynchronous))
        await using (var writer = new StreamWriter(file))
        {
            await writer.WriteAsync(jwks.ToJsonString());
        }
        return path;
    }

    /// <summary>A token as the CRM backend mints one per request: two minutes, admin.backup, a new jti.</summary>
    private static string Mint(JsonWebTokenHandler handler, SigningCredentials credentials)
    {
        var now = DateTime.UtcNow;
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(2),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = "bench-user",
                ["email"] = "bench@example.com",
                ["permissions"] = new[] { "admin.backup" },
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = credentials,
        });
    }

    /// <summary>One GET, timed from send to the whole body read; fails unless 200 with <paramref name="expected"/> backups.</summary>
    private static async Task<double> TimedGetAsync(HttpClient http, string path, string? token, int expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.Add("X-Acting-User-Token", token);
        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var ms = clock.Elapsed.TotalMilliseconds;
        if (response.StatusCode != System.Net.HttpStatusCode.OK) throw new InvalidOperationException($"GET /{path} answered {(int)response.StatusCode}: {text}");
        var body = JsonNode.Parse(text)!;
        var listed = body["backups"]?.AsArray().Count;
        if (listed != expected || (int?)body["count"] != expected || (bool?)body["truncated"] != false)
        {
            throw new InvalidOperationException(Invariant($"GET /{path} listed {listed?.ToString(CultureInfo.InvariantCulture) ?? "no"} backups (count {body["count"]?.ToJsonString()}, truncated {body["truncated"]?.ToJsonString()}); the catalog holds {expected}"));
        }
        return ms;
    }

    /// <summary>Two create-only writes of the sizes data-management writes per call (its jti, then its audit record); the pair's time in ms.</summary>
    private static async Task<double> TimedWritePairAsync(LocalBackupStore store, int index)
    {
        var jti = Encoding.UTF8.GetBytes(new string('j', 120));
        var audit = Encoding.UTF8.GetBytes(new string('a', 450));
        var clock = Stopwatch.StartNew();
        foreach (var (kind, bytes) in new[] { ("jti", jti), ("audit", audit) })
        {
            using var content = new MemoryStream(bytes, writable: false);
            await store.WriteAsync(Invariant($"bench-writes/{kind}/{index:D4}-{Guid.NewGuid():N}.json"), content, "application/json", ifGenerationMatch: 0);
        }
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) throw new InvalidOperationException("no calls were measured");
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>The nearest-rank percentile.</summary>
    private static double Percentile(List<double> values, double fraction)
    {
        if (values.Count == 0) throw new InvalidOperationException("no calls were measured");
        var sorted = values.Order().ToList();
        return sorted[Math.Max(0, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
    }
}
