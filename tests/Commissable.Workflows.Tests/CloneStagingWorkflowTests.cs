using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Tests;

/// <summary>
/// workflows/clone-prod-to-staging.yaml on the local runner's interpreter, against a small model of
/// what it calls: that <c>appUserOwns</c> reaches grant-app-user (and is false unless asked), that the
/// function's ownership answer reaches the result, and that a value that is not a boolean is refused
/// before staging is touched. The function's own work is tested where it lives.
/// </summary>
public sealed class CloneStagingWorkflowTests
{
    private const string GrantUrl = "https://grant-app-user.run.app";
    private const string VerifyUrl = "https://restore-verify.run.app";
    private const string ExportUrl = "https://pre-deploy-export.run.app";
    private const string AppUserUrl = "https://staging-app-user.run.app";
    private const string Backup = "gs://crm-backups/backups/prod/prod/backup_20261206_0300_prod_before_deploy.sql.gz";

    private static readonly Lazy<WorkflowProgram> Program = new(() =>
        WorkflowProgram.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Workflows(), "clone-prod-to-staging.yaml")), "clone-prod-to-staging.yaml"));

    private readonly Harness _harness = new();
    private readonly CloneGoogle _google = new();

    private static JsonObject Argument(JsonNode? appUserOwns = null)
    {
        var argument = new JsonObject
        {
            ["sourceInstance"] = "prod",
            ["stagingInstance"] = "staging",
            ["stagingDatabase"] = "crm_staging",
            ["appUser"] = "crm_app",
            ["appPasswordSecret"] = "staging-app-password",
            ["backup"] = Backup,
        };
        if (appUserOwns is not null) argument["appUserOwns"] = appUserOwns;
        return argument;
    }

    private Task<JsonNode?> RunAsync(JsonObject argument)
    {
        _harness.Handlers.Add(_google);
        _harness.Environment["GOOGLE_CLOUD_PROJECT_ID"] = "crm-project";
        _harness.Environment["GRANT_APP_USER_URL"] = GrantUrl;
        _harness.Environment["RESTORE_VERIFY_URL"] = VerifyUrl;
        _harness.Environment["PRE_DEPLOY_EXPORT_URL"] = ExportUrl;
        _harness.Environment["STAGING_APP_USER_URL"] = AppUserUrl;
        _harness.Environment.TryAdd("PRODUCTION_INSTANCES", "prod, prod-replica");
        return _harness.Interpreter().RunAsync(Program.Value, argument, CancellationToken.None);
    }

    [Fact]
    public async Task AppUserOwns_true_reaches_grant_app_user_and_its_ownership_answer_the_result()
    {
        var result = (await RunAsync(Argument(true)))!.AsObject();

        var grant = Assert.Single(_google.Posts(GrantUrl));
        Assert.Equal("""{"instance":"staging","database":"crm_staging","user":"crm_app","appUserOwns":true}""", grant.ToJsonString());
        Assert.Equal(42, (int)result["ownership"]!["total"]!);
        Assert.Equal("crm_app", (string?)result["ownership"]!["owner"]);
        // The ownership is given before the copy is verified, so the verification checks the database as handed over.
        Assert.True(_google.Order.IndexOf("grant") < _google.Order.IndexOf("verify"), string.Join(", ", _google.Order));
    }

    [Fact]
    public async Task The_app_user_is_created_by_staging_app_user_from_the_secrets_id_before_the_grants()
    {
        var result = (await RunAsync(Argument()))!.AsObject();

        var request = Assert.Single(_google.Posts(AppUserUrl));
        Assert.Equal("""{"instance":"staging","user":"crm_app","passwordSecret":"staging-app-password"}""", request.ToJsonString());
        Assert.True((bool)result["appUserCreated"]!);
        Assert.True(_google.Order.IndexOf("app-user") < _google.Order.IndexOf("grant"), string.Join(", ", _google.Order));
    }

    [Fact]
    public async Task Without_appUserOwns_grant_app_user_is_told_false_and_the_result_has_no_ownership()
    {
        var result = (await RunAsync(Argument()))!.AsObject();

        var grant = Assert.Single(_google.Posts(GrantUrl));
        Assert.False((bool)grant["appUserOwns"]!);
        Assert.Null(result["ownership"]);
        Assert.NotNull(result["privileges"]);
    }

    [Theory]
    [InlineData("\"yes\"")]
    [InlineData("1")]
    [InlineData("[true]")]
    public async Task An_appUserOwns_that_is_not_a_boolean_is_refused_before_staging_changes(string json)
    {
        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => RunAsync(Argument(JsonNode.Parse(json))));

        Assert.Contains("appUserOwns must be true", failure.Error?.ToJsonString() ?? failure.Message, StringComparison.Ordinal);
        Assert.Empty(_google.Order);
    }

    [Theory]
    [InlineData("prod, staging", "stagingInstance 'staging' is listed in PRODUCTION_INSTANCES")]
    [InlineData("", "PRODUCTION_INSTANCES is not set on this workflow")]
    public async Task A_staging_instance_listed_as_production_or_no_list_at_all_is_refused_before_staging_changes(string listed, string message)
    {
        _harness.Environment["PRODUCTION_INSTANCES"] = listed;

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => RunAsync(Argument()));

        Assert.Contains(message, failure.Error is JsonValue raised && raised.TryGetValue<string>(out var text) ? text : failure.Message, StringComparison.Ordinal);
        Assert.Empty(_google.Order);
    }

    /// <summary>Cloud SQL, Secret Manager, Cloud Storage and the three functions, answering as their contracts say; the changes and calls recorded.</summary>
    private sealed class CloneGoogle : IWorkflowCallHandler
    {
        private readonly List<(string Url, JsonObject Body)> _posts = [];

        /// <summary>What changed staging or called a function, in order.</summary>
        public List<string> Order { get; } = [];

        public List<JsonObject> Posts(string url) => [.. _posts.Where(p => p.Url == url).Select(p => p.Body)];

        // Secret Manager is not served: the workflow must never read a secret value itself.
        public bool Serves(string functionName) => functionName.StartsWith("googleapis.", StringComparison.Ordinal) && !functionName.StartsWith("googleapis.secretmanager.", StringComparison.Ordinal) || functionName == "http.post";

        public Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            var args = request.Arguments;
            JsonNode? answer = request.Function switch
            {
                "http.post" => Post((string)args["url"]!, args["body"]!.AsObject()),
                "googleapis.sqladmin.v1beta4.instances.get" => Instance((string)args["instance"]!),
                "googleapis.storage.v1.objects.get" => new JsonObject { ["name"] = Uri.UnescapeDataString((string)args["object"]!) },
                _ when request.Function.StartsWith("googleapis.sqladmin.v1beta4.", StringComparison.Ordinal) => Change(request.Function),
                _ => throw new InvalidOperationException($"the fake does not serve {request.Function}"),
            };
            return Task.FromResult<JsonNode?>(answer);
        }

        private JsonObject Change(string function)
        {
            Order.Add(function["googleapis.sqladmin.v1beta4.".Length..]);
            return new JsonObject { ["kind"] = "sql#operation", ["status"] = "DONE" };
        }

        private static JsonObject Instance(string name) => new()
        {
            ["name"] = name,
            ["connectionName"] = $"crm-project:europe-west1:{name}",
            ["ipAddresses"] = new JsonArray(new JsonObject { ["ipAddress"] = "10.1.2.3", ["type"] = "PRIVATE" }),
            ["settings"] = new JsonObject { ["userLabels"] = new JsonObject { ["env"] = name == "prod" ? "prod" : "staging" } },
        };

        private JsonObject Post(string url, JsonObject body)
        {
            _posts.Add((url, (JsonObject)body.DeepClone()));
            JsonObject answer;
            switch (url)
            {
                case GrantUrl:
                    Order.Add("grant");
                    answer = new JsonObject { ["privileges"] = new JsonArray("GRANT CONNECT, TEMPORARY ON DATABASE \"crm_staging\" TO \"crm_app\"") };
                    if ((bool?)body["appUserOwns"] == true)
                    {
                        answer["ownership"] = new JsonObject { ["owner"] = (string?)body["user"], ["total"] = 42, ["objects"] = new JsonObject { ["table"] = 40, ["schema"] = 2 } };
                    }
                    break;
                case AppUserUrl:
                    Order.Add("app-user");
                    answer = new JsonObject { ["instance"] = (string?)body["instance"], ["user"] = (string?)body["user"], ["created"] = true };
                    break;
                case VerifyUrl:
                    Order.Add("verify");
                    answer = new JsonObject { ["passed"] = true, ["checks"] = new JsonArray(new JsonObject { ["name"] = "content.tables", ["passed"] = true }) };
                    break;
                default:
                    throw new InvalidOperationException($"the fake does not serve {url}");
            }
            return new JsonObject { ["code"] = 200, ["body"] = answer, ["headers"] = new JsonObject() };
        }
    }
}
