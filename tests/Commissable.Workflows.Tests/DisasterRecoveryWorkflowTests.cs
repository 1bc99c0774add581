using System.Globalization;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Workflows.Tests;

/// <summary>
/// workflows/disaster-recovery.yaml on the local runner's interpreter, against a small model of what
/// it calls: that the two secrets are swapped only after a valid approval and carry the approver's
/// name, that a refusal, a silence or an unnamed approval swaps nothing, that a transient failure of
/// secret-repoint between the two swaps is retried, and that a secret that could not be swapped stops
/// the run before anything is created. The functions' own work is tested where they live.
/// </summary>
public sealed class DisasterRecoveryWorkflowTests
{
    private const string Project = "crm-project";
    private const string VerifyUrl = "https://restore-verify.run.app";
    private const string SecretCheckUrl = "https://secret-check.run.app";
    private const string SecretRepointUrl = "https://secret-repoint.run.app";
    private const string AppService = "projects/crm-project/locations/europe-west1/services/crm-app";
    private const string Source = "prod";
    private const string Target = "prod-restored-1";
    private const string DatabaseUrlSecret = "crm-database-url";
    private const string DirectUrlSecret = "crm-direct-url";

    /// <summary>The run's clock: noon, standing still.</summary>
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<WorkflowProgram> Program = new(() =>
        WorkflowProgram.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Workflows(), "disaster-recovery.yaml")), "disaster-recovery.yaml"));

    private readonly Harness _harness = new();
    private readonly RecoveryGoogle _google = new();

    /// <summary>A restore of prod to an hour ago, with a 10-minute approval timeout (two 5-minute rounds).</summary>
    private static JsonObject Argument() => new()
    {
        ["sourceInstance"] = Source,
        ["pointInTime"] = "2026-12-06T11:00:00Z",
        ["newInstance"] = Target,
        ["database"] = "crm",
        ["databaseUrlSecret"] = DatabaseUrlSecret,
        ["directUrlSecret"] = DirectUrlSecret,
        ["approvalTimeoutSeconds"] = 600,
        ["criticalTables"] = new JsonArray("Account"),
    };

    private static JsonObject Approval(string approvedBy, bool approved = true) => new() { ["approved"] = approved, ["approvedBy"] = approvedBy };

    private Task<JsonNode?> RunAsync()
    {
        _harness.Handlers.Add(_google);
        _harness.Environment["GOOGLE_CLOUD_PROJECT_ID"] = Project;
        _harness.Environment["GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID"] = "5F0C2B9A-1D2E-4F00-9C11-0123456789AB";
        _harness.Environment["RESTORE_VERIFY_URL"] = VerifyUrl;
        _harness.Environment["SECRET_CHECK_URL"] = SecretCheckUrl;
        _harness.Environment["SECRET_REPOINT_URL"] = SecretRepointUrl;
        _harness.Environment["APP_SERVICE"] = AppService;
        _harness.Time = new FakeTimeProvider(Now);
        return _harness.Interpreter().RunAsync(Program.Value, Argument(), CancellationToken.None);
    }

    /// <summary>Runs to a failure and answers the raised message.</summary>
    private async Task<string> FailAsync()
    {
        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(RunAsync);
        return failure.Error is JsonValue text && text.TryGetValue<string>(out var message) ? message : failure.Error?.ToJsonString() ?? failure.Message;
    }

    [Fact]
    public async Task An_approval_swaps_the_database_url_then_the_direct_url_secret_in_the_approvers_name_only_after_it_arrived()
    {
        // The first 5-minute round passes without an answer; the second brings the approval.
        _google.Approvals.Enqueue(null);
        _google.Approvals.Enqueue(Approval("Jane Doe"));

        var result = (await RunAsync())!.AsObject();

        var repoints = _google.Posts(SecretRepointUrl);
        Assert.Equal(2, repoints.Count);
        Assert.Equal($$"""{"secret":"{{DatabaseUrlSecret}}","from":"{{Source}}","to":"{{Target}}","approvedBy":"Jane Doe"}""", repoints[0].ToJsonString());
        Assert.Equal($$"""{"secret":"{{DirectUrlSecret}}","from":"{{Source}}","to":"{{Target}}","approvedBy":"Jane Doe"}""", repoints[1].ToJsonString());

        // Nothing is swapped before the approval arrived: the callback's answer, then the two swaps, then the roll.
        var answered = _google.Order.IndexOf("callback answered");
        Assert.True(answered >= 0, string.Join(", ", _google.Order));
        Assert.Equal(["await_callback: timeout", "callback answered"], _google.Order.Where(e => e.StartsWith("await_callback", StringComparison.Ordinal) || e == "callback answered"));
        Assert.All(_google.Order.Select((e, i) => (e, i)).Where(x => x.e.StartsWith("repoint", StringComparison.Ordinal)), x => Assert.True(x.i > answered, string.Join(", ", _google.Order)));
        Assert.Equal(
            ["callback answered", $"repoint {DatabaseUrlSecret}", $"repoint {DirectUrlSecret}", "services.patch", "instances.patch"],
            _google.Order[answered..]);

        Assert.Equal(Target, _google.Secrets[DatabaseUrlSecret]);
        Assert.Equal(Target, _google.Secrets[DirectUrlSecret]);
        Assert.Equal("Jane Doe", (string?)result["approvedBy"]);
        Assert.Equal($"""["{DatabaseUrlSecret}/versions/2","{DirectUrlSecret}/versions/2"]""", result["secretVersions"]!.ToJsonString());
    }

    [Fact]
    public async Task A_refused_approval_swaps_nothing_and_rolls_nothing()
    {
        // approvedBy is well formed, so only the "approved" guard stands between this answer and the swap.
        _google.Approvals.Enqueue(Approval("Jane Doe", approved: false));

        var error = await FailAsync();

        Assert.Contains($"the swap to {Target} was not approved; nothing was swapped and {Source} is unchanged", error, StringComparison.Ordinal);
        Assert.Empty(_google.Posts(SecretRepointUrl));
        Assert.DoesNotContain("services.patch", _google.Order);
        Assert.DoesNotContain("instances.patch", _google.Order);
        Assert.Equal(Source, _google.Secrets[DatabaseUrlSecret]);
        Assert.Equal(Source, _google.Secrets[DirectUrlSecret]);
    }

    [Fact]
    public async Task No_answer_within_the_timeout_swaps_nothing()
    {
        // Approvals left empty: every round of await_callback raises TimeoutError.
        var error = await FailAsync();

        Assert.Contains($"no approval within 600 s: nothing was swapped; {Target} is kept for inspection and {Source} is unchanged", error, StringComparison.Ordinal);
        // 600 s in 5-minute rounds, every one waited out.
        Assert.Equal(2, _google.Order.Count(e => e == "await_callback: timeout"));
        Assert.Empty(_google.Posts(SecretRepointUrl));
        Assert.DoesNotContain("services.patch", _google.Order);
        Assert.Equal(Source, _google.Secrets[DatabaseUrlSecret]);
        Assert.Equal(Source, _google.Secrets[DirectUrlSecret]);
    }

    [Fact]
    public async Task An_approval_naming_only_spaces_swaps_nothing() =>
        await An_approval_that_names_nobody_swaps_nothing("   ");

    [Fact]
    public async Task An_approval_naming_someone_with_a_tab_swaps_nothing() =>
        await An_approval_that_names_nobody_swaps_nothing("Jane\tDoe");

    [Fact]
    public async Task An_approval_naming_257_characters_swaps_nothing() =>
        await An_approval_that_names_nobody_swaps_nothing(new string('j', 257));

    private async Task An_approval_that_names_nobody_swaps_nothing(string approvedBy)
    {
        _google.Approvals.Enqueue(Approval(approvedBy));

        var error = await FailAsync();

        Assert.Contains("an approval must name who approved it (approvedBy: 1 to 256 characters, not only spaces, no control characters); nothing was swapped", error, StringComparison.Ordinal);
        Assert.Empty(_google.Posts(SecretRepointUrl));
        Assert.DoesNotContain("services.patch", _google.Order);
        Assert.Equal(Source, _google.Secrets[DatabaseUrlSecret]);
        Assert.Equal(Source, _google.Secrets[DirectUrlSecret]);
    }

    [Fact]
    public async Task A_503_from_secret_repoint_for_the_direct_url_is_retried_and_both_secrets_end_swapped()
    {
        _google.Approvals.Enqueue(Approval("Jane Doe"));
        _google.RepointFailures[DirectUrlSecret] = new Queue<int>([503]);

        var result = (await RunAsync())!.AsObject();

        Assert.Equal([DatabaseUrlSecret, DirectUrlSecret, DirectUrlSecret], _google.Posts(SecretRepointUrl).Select(p => (string?)p["secret"]));
        Assert.Equal(
            [$"repoint {DatabaseUrlSecret}", $"repoint {DirectUrlSecret}: 503", $"repoint {DirectUrlSecret}", "services.patch"],
            _google.Order.Where(e => e.StartsWith("repoint", StringComparison.Ordinal) || e == "services.patch"));
        // One backoff of http.default_retry, recorded instead of slept.
        Assert.Equal([1.0], _harness.Delays.Select(d => d.TotalSeconds));
        Assert.Equal(Target, _google.Secrets[DatabaseUrlSecret]);
        Assert.Equal(Target, _google.Secrets[DirectUrlSecret]);
        Assert.Equal($"""["{DatabaseUrlSecret}/versions/2","{DirectUrlSecret}/versions/2"]""", result["secretVersions"]!.ToJsonString());
    }

    [Fact]
    public async Task A_direct_url_that_cannot_be_swapped_says_the_database_url_already_was_and_rolls_nothing()
    {
        _google.Approvals.Enqueue(Approval("Jane Doe"));
        // Refused (not transient): no retry helps.
        _google.RepointFailures[DirectUrlSecret] = new Queue<int>([412]);

        var error = await FailAsync();

        Assert.Contains($"{DatabaseUrlSecret} ALREADY names {Target}", error, StringComparison.Ordinal);
        Assert.Contains($"{DirectUrlSecret} still names {Source}", error, StringComparison.Ordinal);
        Assert.Contains("the app was not rolled", error, StringComparison.Ordinal);
        Assert.Equal(Target, _google.Secrets[DatabaseUrlSecret]);
        Assert.Equal(Source, _google.Secrets[DirectUrlSecret]);
        Assert.DoesNotContain("services.patch", _google.Order);
    }

    [Fact]
    public async Task A_secret_that_does_not_name_the_source_stops_the_run_before_anything_is_created()
    {
        // The second of the two checks fails, so both run before the restore.
        _google.Secrets[DirectUrlSecret] = "some-other-instance";

        var error = await FailAsync();

        Assert.Contains($"secret {DirectUrlSecret} names neither the connection name nor the address of {Source}", error, StringComparison.Ordinal);
        Assert.Contains("nothing was created", error, StringComparison.Ordinal);
        Assert.Equal([DatabaseUrlSecret, DirectUrlSecret], _google.Posts(SecretCheckUrl).Select(p => (string?)p["secret"]));
        Assert.DoesNotContain(_google.Functions, f => f is "googleapis.sqladmin.v1beta4.instances.clone" or "googleapis.sqladmin.v1beta4.instances.insert" or "googleapis.sqladmin.v1beta4.instances.restoreBackup");
        Assert.DoesNotContain(_google.Functions, f => f.StartsWith("events.", StringComparison.Ordinal));
        Assert.False(_google.Instances.ContainsKey(Target));
        Assert.Empty(_google.Posts(VerifyUrl));
        Assert.Empty(_google.Posts(SecretRepointUrl));
    }

    /// <summary>
    /// Cloud SQL, Cloud Run, the callbacks and the three functions, answering as their contracts say;
    /// the calls and changes recorded. Secret Manager is not served: the workflow must never read a
    /// secret itself, so a run that tried would be refused before it starts.
    /// </summary>
    private sealed class RecoveryGoogle : IWorkflowCallHandler
    {
        private readonly List<(string Url, JsonObject Body)> _posts = [];
        private readonly Dictionary<string, int> _versions = new(StringComparer.Ordinal);

        public Dictionary<string, JsonObject> Instances { get; } = new(StringComparer.Ordinal)
        {
            [Source] = new JsonObject
            {
                ["name"] = Source,
                ["databaseVersion"] = "POSTGRES_15",
                ["region"] = "europe-west1",
                ["settings"] = new JsonObject
                {
                    ["tier"] = "db-custom-2-7680",
                    ["userLabels"] = new JsonObject { ["env"] = "prod" },
                    ["backupConfiguration"] = new JsonObject { ["enabled"] = true, ["pointInTimeRecoveryEnabled"] = true, ["transactionLogRetentionDays"] = 7 },
                },
            },
        };

        /// <summary>Which instance each secret's latest version names (the values themselves stay with the functions).</summary>
        public Dictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal)
        {
            [DatabaseUrlSecret] = Source,
            [DirectUrlSecret] = Source,
        };

        /// <summary>What the callback receives, one per await: a body, or null for a round that times out. Empty: every round times out.</summary>
        public Queue<JsonObject?> Approvals { get; } = new();

        /// <summary>Error codes secret-repoint answers for a secret before it swaps it.</summary>
        public Dictionary<string, Queue<int>> RepointFailures { get; } = new(StringComparer.Ordinal);

        /// <summary>Every function called, in order.</summary>
        public List<string> Functions { get; } = [];

        /// <summary>The callback's answers and what changed something, in order.</summary>
        public List<string> Order { get; } = [];

        public List<JsonObject> Posts(string url) => [.. _posts.Where(p => p.Url == url).Select(p => p.Body)];

        public bool Serves(string functionName) =>
            functionName.StartsWith("googleapis.sqladmin.v1beta4.", StringComparison.Ordinal)
            || functionName.StartsWith("googleapis.run.v2.", StringComparison.Ordinal)
            || functionName is "http.post" or "events.create_callback_endpoint" or "events.await_callback";

        public Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            var args = (JsonObject)request.Arguments.DeepClone();
            Functions.Add(request.Function);
            JsonNode? answer = request.Function switch
            {
                "http.post" => Post((string)args["url"]!, args["body"]!.AsObject()),
                "events.create_callback_endpoint" => new JsonObject { ["url"] = "https://workflowexecutions.googleapis.com/v1/callbacks/1" },
                "events.await_callback" => Await(),
                "googleapis.run.v2.projects.locations.services.get" => Service((string)args["name"]!),
                "googleapis.run.v2.projects.locations.services.patch" => Patched((string)args["name"]!),
                _ when request.Function.StartsWith("googleapis.sqladmin.v1beta4.", StringComparison.Ordinal) => Sql(request.Function["googleapis.sqladmin.v1beta4.".Length..], args),
                _ => throw new InvalidOperationException($"the fake does not serve {request.Function}"),
            };
            return Task.FromResult<JsonNode?>(answer);
        }

        private JsonObject Await()
        {
            if (Approvals.Count == 0 || Approvals.Dequeue() is not { } body)
            {
                Order.Add("await_callback: timeout");
                throw WorkflowErrors.Timeout("Timeout awaiting callback");
            }

            Order.Add("callback answered");
            return new JsonObject
            {
                ["http_request"] = new JsonObject { ["body"] = body, ["method"] = "POST" },
                ["received_time"] = "2026-12-06 12:00:00.0000000 +0000 UTC",
                ["type"] = "HTTP",
            };
        }

        private JsonObject Post(string url, JsonObject body)
        {
            _posts.Add((url, (JsonObject)body.DeepClone()));
            var secret = (string?)body["secret"];
            switch (url)
            {
                case VerifyUrl:
                    Order.Add("verify");
                    return Ok(new JsonObject
                    {
                        ["passed"] = true,
                        ["checks"] = new JsonArray(new JsonObject { ["name"] = "content.tables", ["passed"] = true }),
                        ["evidence"] = new JsonObject { ["text"] = "table    restored  production\nAccount        40            42" },
                    });
                case SecretCheckUrl:
                    return Ok(new JsonObject
                    {
                        ["version"] = $"{secret}/versions/{Version(secret!)}",
                        ["namesInstance"] = Secrets[secret!] == (string?)body["instance"],
                    });
                case SecretRepointUrl:
                    if (RepointFailures.TryGetValue(secret!, out var failures) && failures.TryDequeue(out var code))
                    {
                        Order.Add($"repoint {secret}: {code}");
                        throw WorkflowErrors.Http(code, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = "Secret Manager is not answering" } }, []);
                    }

                    if (string.IsNullOrEmpty((string?)body["approvedBy"]))
                    {
                        throw WorkflowErrors.Http(400, new JsonObject { ["error"] = new JsonObject { ["code"] = 400, ["message"] = "approvedBy is required" } }, []);
                    }

                    if (Secrets[secret!] != (string?)body["from"])
                    {
                        throw WorkflowErrors.Http(409, new JsonObject { ["error"] = new JsonObject { ["code"] = 409, ["message"] = "the secret does not name the old instance" } }, []);
                    }

                    Order.Add($"repoint {secret}");
                    Secrets[secret!] = (string)body["to"]!;
                    _versions[secret!] = Version(secret!) + 1;
                    return Ok(new JsonObject { ["version"] = $"{secret}/versions/{Version(secret!)}" });
                default:
                    throw new InvalidOperationException($"the fake does not serve {url}");
            }
        }

        private int Version(string secret) => _versions.TryGetValue(secret, out var version) ? version : 1;

        private static JsonObject Ok(JsonObject body) => new() { ["code"] = 200, ["body"] = body, ["headers"] = new JsonObject() };

        private static JsonObject Service(string name) => new()
        {
            ["name"] = name,
            ["template"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["image"] = "europe-docker.pkg.dev/crm-project/crm/app:1" }) },
            ["latestReadyRevision"] = $"{name}/revisions/crm-app-00041",
        };

        private JsonObject Patched(string name)
        {
            Order.Add("services.patch");
            return new JsonObject { ["name"] = name, ["latestCreatedRevision"] = $"{name}/revisions/crm-app-00042" };
        }

        private JsonNode Sql(string method, JsonObject args)
        {
            var instance = (string?)args["instance"];
            switch (method)
            {
                case "instances.get":
                    return Instances.TryGetValue(instance!, out var found)
                        ? found.DeepClone()
                        : throw WorkflowErrors.Http(404, new JsonObject { ["error"] = new JsonObject { ["code"] = 404, ["message"] = "The Cloud SQL instance does not exist." } }, []);
                case "backupRuns.list":
                    return new JsonObject { ["items"] = new JsonArray(new JsonObject { ["id"] = "1764990000000", ["status"] = "SUCCESSFUL", ["endTime"] = "2026-12-06T02:10:00Z" }) };
                case "instances.clone":
                    var clone = Instances[instance!].DeepClone().AsObject();
                    clone["name"] = (string)args["body"]!["cloneContext"]!["destinationInstanceName"]!;
                    Instances[(string)clone["name"]!] = clone;
                    return Done(method);
                case "instances.insert":
                    var inserted = args["body"]!.DeepClone().AsObject();
                    Instances[(string)inserted["name"]!] = inserted;
                    return Done(method);
                case "instances.restoreBackup":
                case "instances.patch":
                    return Done(method);
                default:
                    throw WorkflowErrors.Value($"the fake does not serve {method}");
            }
        }

        private JsonObject Done(string method)
        {
            Order.Add(method);
            return new JsonObject
            {
                ["kind"] = "sql#operation",
                ["status"] = "DONE",
                ["endTime"] = Now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            };
        }
    }
}
