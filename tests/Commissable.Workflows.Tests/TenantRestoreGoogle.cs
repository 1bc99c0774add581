using System.Globalization;
using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Tests;

/// <summary>
/// What workflows/tenant-restore.yaml calls, answered from a small model: Cloud SQL instances,
/// databases and backup runs, the backup bucket's objects, the callbacks, and the three functions
/// (tenant-restore, pre-deploy-export, restore-verify) answering as their contracts say. Every call
/// is recorded in order; a test scripts the answers it needs and injects failures by name.
/// </summary>
internal sealed class TenantRestoreGoogle : IWorkflowCallHandler
{
    public const string Project = "crm-project";
    public const string Bucket = "crm-backups";
    public const string TenantRestoreUrl = "https://tenant-restore.run.app";
    public const string PreDeployExportUrl = "https://pre-deploy-export.run.app";
    public const string RestoreVerifyUrl = "https://restore-verify.run.app";
    public const string ExecutionId = "5F0C2B9A-1D2E-4F00-9C11-0123456789AB";
    public const string RunId = "5f0c2b9a-1d2e-4f00-9c11-0123456789ab";
    public const string ScratchInstance = "prod-tr-5f0c2b9a";
    public const string ScratchDatabase = "tr_5f0c2b9a";

    /// <summary>The run's clock: noon, standing still (every duration is 0).</summary>
    public static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    public Dictionary<string, JsonObject> Instances { get; } = new(StringComparer.Ordinal)
    {
        ["prod"] = new JsonObject
        {
            ["name"] = "prod",
            ["databaseVersion"] = "POSTGRES_15",
            ["region"] = "europe-west1",
            ["settings"] = new JsonObject
            {
                ["tier"] = "db-custom-2-7680",
                ["userLabels"] = new JsonObject { ["env"] = "prod" },
                ["deletionProtectionEnabled"] = true,
                ["backupConfiguration"] = new JsonObject { ["enabled"] = true, ["pointInTimeRecoveryEnabled"] = true, ["transactionLogRetentionDays"] = 7 },
            },
        },
        ["verify"] = new JsonObject
        {
            ["name"] = "verify",
            ["databaseVersion"] = "POSTGRES_15",
            ["settings"] = new JsonObject { ["tier"] = "db-custom-1-3840", ["userLabels"] = new JsonObject { ["env"] = "verify" } },
        },
    };

    public Dictionary<string, HashSet<string>> Databases { get; } = new(StringComparer.Ordinal)
    {
        ["prod"] = ["crm"],
        ["verify"] = [],
    };

    public List<JsonObject> BackupRuns { get; } =
    [
        new JsonObject { ["id"] = "1764990000000", ["status"] = "SUCCESSFUL", ["endTime"] = "2026-12-06T02:10:00Z" },
        new JsonObject { ["id"] = "1764900000000", ["status"] = "FAILED", ["endTime"] = "2026-12-05T02:10:00Z" },
    ];

    public HashSet<string> Objects { get; } = new(StringComparer.Ordinal) { "backups/prod/prod/backup_20261206_0300_prod_before_deploy.sql.gz" };

    /// <summary>Every call, in order: the function and its arguments.</summary>
    public List<(string Function, JsonObject Args)> Calls { get; } = [];

    /// <summary>What the callbacks receive, one per await: a body, or null for a wait that times out. Empty: every wait times out.</summary>
    public Queue<JsonObject?> Approvals { get; } = new();

    /// <summary>The apply's answers, one per apply call; each gets the request's plan digest filled in when it has none.</summary>
    public Queue<JsonObject> ApplyAnswers { get; } = new();

    /// <summary>Answers pre-deploy-export gives before its 200 (such as 409 BACKUP_NAME_TAKEN, or 202).</summary>
    public Queue<int> ExportAnswersBefore200 { get; } = new();

    /// <summary>Failures by call: <c>googleapis...instances.clone</c>, <c>tenant-restore:apply</c>, ...; each raises the given error once it is reached.</summary>
    public Dictionary<string, WorkflowErrorException> Failures { get; } = new(StringComparer.Ordinal);

    public bool CanApply { get; set; } = true;

    public bool Verified { get; set; } = true;

    public string Digest { get; set; } = "d1f0";

    public bool Serves(string functionName) =>
        functionName.StartsWith("googleapis.sqladmin.v1beta4.", StringComparison.Ordinal)
        || functionName.StartsWith("googleapis.storage.v1.", StringComparison.Ordinal)
        || functionName is "http.post" or "events.create_callback_endpoint" or "events.await_callback";

    public Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = (JsonObject)request.Arguments.DeepClone();
        Calls.Add((request.Function, args));
        var key = request.Function == "http.post" ? HttpKey(args) : request.Function;
        if (Failures.TryGetValue(key, out var failure))
        {
            throw failure;
        }

        return Task.FromResult(request.Function switch
        {
            "http.post" => Post(args),
            "events.create_callback_endpoint" => new JsonObject { ["url"] = $"https://workflowexecutions.googleapis.com/v1/callbacks/{Calls.Count}" },
            "events.await_callback" => Await(),
            "googleapis.storage.v1.objects.get" => Objects.Contains(Uri.UnescapeDataString((string)args["object"]!)) && (string?)args["bucket"] == Bucket
                ? new JsonObject { ["name"] = Uri.UnescapeDataString((string)args["object"]!) }
                : throw NotFound("No such object"),
            _ => Sql(request.Function["googleapis.sqladmin.v1beta4.".Length..], args),
        });
    }

    /// <summary>The calls of one function (for http.post, of one URL and action, as "tenant-restore:plan").</summary>
    public List<JsonObject> CallsOf(string key) =>
        [.. Calls.Where(c => (c.Function == "http.post" ? HttpKey(c.Args) : c.Function) == key).Select(c => c.Args)];

    /// <summary>The names of the calls in order (http.post as its URL's function and action).</summary>
    public List<string> Sequence() => [.. Calls.Select(c => c.Function == "http.post" ? HttpKey(c.Args) : c.Function.Replace("googleapis.sqladmin.v1beta4.", "sql.", StringComparison.Ordinal))];

    /// <summary>Calls that create, change or delete something, or write through a function.</summary>
    public List<string> Changes() => [.. Sequence().Where(c => c is not ("sql.instances.get" or "sql.databases.get" or "sql.backupRuns.list" or "sql.backupRuns.get" or "googleapis.storage.v1.objects.get"))];

    public static WorkflowErrorException NotFound(string message) =>
        WorkflowErrors.Http(404, new JsonObject { ["error"] = new JsonObject { ["code"] = 404, ["message"] = message } }, []);

    public static WorkflowErrorException HttpFailure(int code, string message) =>
        WorkflowErrors.Http(code, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, []);

    public WorkflowInterpreter Interpreter(Harness harness, Dictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(harness);
        harness.Handlers.Add(this);
        foreach (var (name, value) in environment ?? Environment())
        {
            harness.Environment[name] = value;
        }

        harness.Time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now);
        return harness.Interpreter();
    }

    public static Dictionary<string, string> Environment() => new(StringComparer.Ordinal)
    {
        ["GOOGLE_CLOUD_PROJECT_ID"] = Project,
        ["GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID"] = ExecutionId,
        ["TENANT_RESTORE_URL"] = TenantRestoreUrl,
        ["PRE_DEPLOY_EXPORT_URL"] = PreDeployExportUrl,
        ["RESTORE_VERIFY_URL"] = RestoreVerifyUrl,
        ["VERIFY_INSTANCE"] = "verify",
    };

    private static string HttpKey(JsonObject args) => (string?)args["url"] switch
    {
        TenantRestoreUrl => "tenant-restore:" + (string?)args["body"]?["action"],
        PreDeployExportUrl => "pre-deploy-export",
        RestoreVerifyUrl => "restore-verify",
        var other => "http.post " + other,
    };

    private JsonObject Await()
    {
        if (Approvals.Count == 0 || Approvals.Dequeue() is not { } body)
        {
            throw WorkflowErrors.Timeout("Timeout awaiting callback");
        }

        return new JsonObject
        {
            ["http_request"] = new JsonObject { ["body"] = body, ["method"] = "POST" },
            ["received_time"] = "2026-12-06 12:00:00.0000000 +0000 UTC",
            ["type"] = "HTTP",
        };
    }

    private JsonObject Post(JsonObject args)
    {
        var body = args["body"]!.AsObject();
        switch (HttpKey(args))
        {
            case "tenant-restore:plan":
                return Ok(Plan(body, Digest));
            case "tenant-restore:apply":
                var answer = ApplyAnswers.Count > 0 ? ApplyAnswers.Dequeue() : Applied();
                return Ok(answer);
            case "tenant-restore:record":
                return Ok(new JsonObject { ["recordUri"] = $"gs://{Bucket}/backups/tenant-restores/{(string?)body["runId"]}/record.json" });
            case "pre-deploy-export":
                if (ExportAnswersBefore200.Count > 0 && ExportAnswersBefore200.Dequeue() is var code)
                {
                    if (code == 202)
                    {
                        return new JsonObject { ["code"] = 202, ["body"] = new JsonObject { ["status"] = "running" } };
                    }

                    throw HttpFailure(code, "BACKUP_NAME_TAKEN");
                }

                return Ok(new JsonObject
                {
                    ["backupUri"] = $"gs://{Bucket}/backups/prod/prod/backup_20261206_1200_prod_before_{(string?)body["change"]}.sql.gz",
                });
            case "restore-verify":
                return Ok(new JsonObject { ["passed"] = Verified, ["checks"] = new JsonArray(new JsonObject { ["name"] = "content.tables", ["passed"] = Verified }), ["failure"] = Verified ? null : "content.tables" });
            default:
                throw HttpFailure(404, "no such function");
        }
    }

    /// <summary>A plan as the function answers it, for the request's run.</summary>
    public JsonObject Plan(JsonObject request, string digest) => new()
    {
        ["runId"] = (string?)request["runId"],
        ["planUri"] = $"gs://{Bucket}/backups/tenant-restores/{(string?)request["runId"]}/plan-{digest}.json",
        ["digest"] = digest,
        ["canApply"] = CanApply,
        ["mode"] = (string?)request["mode"],
        ["tenantId"] = (string?)request["tenantId"],
        ["tables"] = new JsonArray(new JsonObject
        {
            ["table"] = "Account", ["missing"] = 2, ["changed"] = 0, ["extra"] = 0, ["writes"] = 2,
            ["exampleKeys"] = new JsonArray("(11)", "(12)"), ["problem"] = CanApply ? null : "unique key \"Account_email_key\" conflicts for 1 row",
        }),
        ["problems"] = CanApply ? new JsonArray() : new JsonArray("Account: unique key \"Account_email_key\" conflicts for 1 row"),
        ["totals"] = new JsonObject { ["missing"] = 2, ["changed"] = 0, ["extra"] = 0, ["writes"] = 2 },
        ["text"] = "table    missing  changed  extra  writes  examples\nAccount        2        0      0       2  (11), (12)",
    };

    /// <summary>An apply that committed and proved every table.</summary>
    public JsonObject Applied(bool proven = true) => new()
    {
        ["outcome"] = "applied",
        ["proven"] = proven,
        ["plan"] = new JsonObject { ["digest"] = Digest },
        ["writes"] = new JsonArray(new JsonObject { ["table"] = "Account", ["inserted"] = 2, ["updated"] = 0, ["deleted"] = 0 }),
        ["proof"] = new JsonArray(new JsonObject { ["table"] = "Account", ["rows"] = 2, ["stagedDigest"] = "aa", ["productionDigest"] = proven ? "aa" : "ab", ["equal"] = proven }),
        ["sequencesMoved"] = new JsonArray("public.\"Account_id_seq\""),
        ["materializedViews"] = new JsonArray("AccountCounts: refreshed"),
        ["appliedUri"] = $"gs://{Bucket}/backups/tenant-restores/{RunId}/applied-{Digest}.json",
        ["text"] = "table    rows  equal\nAccount     2  " + (proven ? "yes" : "NO"),
    };

    /// <summary>An apply that found the tenant's rows changed since the plan: nothing written, a new plan.</summary>
    public JsonObject PlanChanged(string newDigest)
    {
        var plan = Plan(new JsonObject { ["runId"] = RunId, ["mode"] = "missing-only", ["tenantId"] = "acme" }, newDigest);
        return new JsonObject { ["outcome"] = "plan-changed", ["proven"] = false, ["plan"] = plan, ["writes"] = new JsonArray(), ["proof"] = new JsonArray(), ["appliedUri"] = null, ["text"] = "" };
    }

    private static JsonObject Ok(JsonObject body) => new() { ["code"] = 200, ["body"] = body, ["headers"] = new JsonObject() };

    private JsonNode? Sql(string method, JsonObject args)
    {
        var instance = (string?)args["instance"];
        switch (method)
        {
            case "instances.get":
                return Instances.TryGetValue(instance!, out var found) ? found.DeepClone() : throw NotFound($"The Cloud SQL instance does not exist.");
            case "backupRuns.list":
                return new JsonObject { ["items"] = new JsonArray([.. BackupRuns.Select(r => r.DeepClone())]) };
            case "backupRuns.get":
                return BackupRuns.FirstOrDefault(r => (string?)r["id"] == (string?)args["id"])?.DeepClone() ?? throw NotFound("The backup run does not exist.");
            case "instances.clone":
                var clone = Instances[instance!].DeepClone().AsObject();
                var name = (string)args["body"]!["cloneContext"]!["destinationInstanceName"]!;
                clone["name"] = name;
                Instances[name] = clone;
                Databases[name] = [.. Databases[instance!]];
                return Done("CLONE");
            case "instances.insert":
                var inserted = args["body"]!.DeepClone().AsObject();
                Instances[(string)inserted["name"]!] = inserted;
                Databases[(string)inserted["name"]!] = [];
                return Done("CREATE");
            case "instances.restoreBackup":
                Databases[instance!] = [.. Databases[(string)args["body"]!["restoreBackupContext"]!["instanceId"]!]];
                return Done("RESTORE_VOLUME");
            case "instances.patch":
                var labels = Instances[instance!]["settings"]!["userLabels"]!.AsObject();
                foreach (var (label, value) in args["body"]!["settings"]!["userLabels"]!.AsObject())
                {
                    if (value is null) labels.Remove(label); else labels[label] = value.DeepClone();
                }

                Instances[instance!]["settings"]!["deletionProtectionEnabled"] = args["body"]!["settings"]!["deletionProtectionEnabled"]?.DeepClone();
                return Done("UPDATE");
            case "instances.delete":
                if (!Instances.Remove(instance!)) throw NotFound("The Cloud SQL instance does not exist.");
                return Done("DELETE");
            case "instances.import":
                return Done("IMPORT");
            case "databases.get":
                return Databases.TryGetValue(instance!, out var names) && names.Contains((string)args["database"]!)
                    ? new JsonObject { ["name"] = (string?)args["database"] }
                    : throw NotFound("The database does not exist.");
            case "databases.insert":
                Databases[instance!].Add((string)args["body"]!["name"]!);
                return Done("CREATE_DATABASE");
            case "databases.delete":
                if (!Databases[instance!].Remove((string)args["database"]!)) throw NotFound("The database does not exist.");
                return Done("DELETE_DATABASE");
            default:
                throw WorkflowErrors.Value($"the fake does not serve {method}");
        }
    }

    private static JsonObject Done(string type) => new()
    {
        ["kind"] = "sql#operation",
        ["status"] = "DONE",
        ["operationType"] = type,
        ["endTime"] = Now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };
}
