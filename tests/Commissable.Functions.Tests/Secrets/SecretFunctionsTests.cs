using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Commissable.Functions.Tests.Secrets;

/// <summary>
/// secret-check and secret-repoint through the real host in local mode, against a local cloud and
/// its secret store: what they answer, what they write, and that no part of a secret's value is
/// ever in an answer or a log line, whether the call succeeds or is refused.
/// </summary>
public sealed class SecretFunctionsTests(SecretsEnvironment env) : IClassFixture<SecretsEnvironment>
{
    private readonly List<string> _answers = [];
    private readonly string _password = "Pw-" + Guid.NewGuid().ToString("N")[..16];

    // A part of every value that is no credential, so the log's redaction of credentials cannot hide a leak of the rest.
    private readonly string _tag = "app-" + Guid.NewGuid().ToString("N")[..12];

    private string SocketUrl(string connection) => $"postgresql://crm_app:{_password}@localhost/crm?schema=public&application_name={_tag}&host=/cloudsql/{connection}";

    private string HostUrl(string address) => $"postgresql://crm_app:{_password}@{address}:5432/crm?schema=public&application_name={_tag}";

    private async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string function, JsonObject body)
    {
        using var response = await env.Client.PostAsync("/" + function, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        _answers.Add(text);
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    private Task<(HttpStatusCode Status, JsonObject Body)> CheckAsync(string secret, string instance) =>
        PostAsync("secret-check", new JsonObject { ["secret"] = secret, ["instance"] = instance });

    private Task<(HttpStatusCode Status, JsonObject Body)> RepointAsync(string secret, string from = SecretsEnvironment.Source, string to = SecretsEnvironment.Restored) =>
        PostAsync("secret-repoint", new JsonObject { ["secret"] = secret, ["from"] = from, ["to"] = to, ["approvedBy"] = Approver });

    private const string Approver = "sre-on-call@example.com";

    /// <summary>The password, a part that is no credential, the whole value and its user:password part: none may have been said.</summary>
    private void AssertNoValueSaid(params string[] values) =>
        env.AssertNothingSaid([_password, _tag, $"crm_app:{_password}", .. values], _answers);

    [Fact]
    public async Task A_secret_naming_the_instance_by_its_connection_name_or_its_address_passes_the_check_and_the_answer_holds_no_value()
    {
        var bySocket = env.PutSecret(SocketUrl(env.SourceConnection));
        var byHost = env.PutSecret(HostUrl(env.SourceAddress));

        var (socketStatus, socket) = await CheckAsync(bySocket, SecretsEnvironment.Source);
        var (hostStatus, host) = await CheckAsync(byHost, SecretsEnvironment.Source);

        Assert.True(socketStatus == HttpStatusCode.OK, socket.ToJsonString());
        Assert.True((bool)socket["namesInstance"]!);
        Assert.Equal("connectionName", (string?)socket["namedBy"]);
        Assert.Equal($"projects/{env.Cloud.Project}/secrets/{bySocket}/versions/1", (string?)socket["version"]);
        Assert.Equal(HttpStatusCode.OK, hostStatus);
        Assert.Equal("address", (string?)host["namedBy"]);
        Assert.Equal(["instance", "namedBy", "namesInstance", "secret", "version"], socket.Select(p => p.Key).Order(StringComparer.Ordinal));
        AssertNoValueSaid(SocketUrl(env.SourceConnection), HostUrl(env.SourceAddress));
    }

    [Fact]
    public async Task A_secret_naming_another_instance_fails_the_check_and_neither_the_answer_nor_the_log_holds_its_value()
    {
        var secret = env.PutSecret(SocketUrl(env.RestoredConnection));

        var (status, body) = await CheckAsync(secret, SecretsEnvironment.Source);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False((bool)body["namesInstance"]!);
        Assert.Null(body["namedBy"]);
        AssertNoValueSaid(SocketUrl(env.RestoredConnection));
    }

    [Fact]
    public async Task A_missing_secret_or_instance_is_a_404_naming_it()
    {
        var (secretStatus, secretBody) = await CheckAsync("no-such-secret", SecretsEnvironment.Source);
        var (instanceStatus, instanceBody) = await RepointAsync(env.PutSecret(SocketUrl(env.SourceConnection)), to: "no-such-instance");

        Assert.Equal(HttpStatusCode.NotFound, secretStatus);
        Assert.Equal("SECRET_NOT_FOUND", (string?)secretBody["error"]!["status"]);
        Assert.Contains("secret no-such-secret does not exist", (string?)secretBody["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, instanceStatus);
        Assert.Equal("INSTANCE_NOT_FOUND", (string?)instanceBody["error"]!["status"]);
    }

    [Fact]
    public async Task Repointing_adds_a_version_naming_the_new_instance_and_keeps_the_old_one()
    {
        var value = SocketUrl(env.SourceConnection).Replace("localhost", env.SourceAddress + ":5432", StringComparison.Ordinal).Replace(":5432:5432", ":5432", StringComparison.Ordinal);
        var secret = env.PutSecret(value);

        var (status, body) = await RepointAsync(secret);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["created"]!);
        Assert.Equal($"projects/{env.Cloud.Project}/secrets/{secret}/versions/2", (string?)body["version"]);
        var versions = env.Values(secret);
        Assert.Equal(2, versions.Count);
        Assert.Equal(value, versions[0]);
        Assert.Equal(value.Replace(env.SourceConnection, env.RestoredConnection, StringComparison.Ordinal).Replace("@" + env.SourceAddress + ":", "@" + env.RestoredAddress + ":", StringComparison.Ordinal), versions[1]);
        // The log line records the new version and who approved it.
        Assert.Contains(env.Logs.Lines, l => l.Contains("secret.repointed", StringComparison.Ordinal) && l.Contains((string)body["version"]!, StringComparison.Ordinal)
            && l.Contains(Approver, StringComparison.Ordinal));
        AssertNoValueSaid(versions[0], versions[1]);
    }

    [Fact]
    public async Task A_retried_repoint_answers_the_version_it_added_and_adds_no_other()
    {
        var secret = env.PutSecret(SocketUrl(env.SourceConnection));
        var (_, first) = await RepointAsync(secret);

        var (status, again) = await RepointAsync(secret);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False((bool)again["created"]!);
        Assert.Equal((string?)first["version"], (string?)again["version"]);
        var versions = env.Values(secret);
        Assert.Equal(2, versions.Count);
        // The new connection name begins with the old one: the retry must not rewrite it again.
        Assert.Equal(SocketUrl(env.RestoredConnection), versions[1]);
    }

    [Fact]
    public async Task A_secret_naming_neither_instance_is_refused_unchanged_and_its_value_is_not_said()
    {
        var value = $"postgresql://crm_app:{_password}@db.example.internal:5432/crm?application_name={_tag}";
        var secret = env.PutSecret(value);

        var (status, body) = await RepointAsync(secret);

        Assert.Equal(HttpStatusCode.PreconditionFailed, status);
        Assert.Equal("SECRET_NAMES_NEITHER", (string?)body["error"]!["status"]);
        Assert.Contains($"secret {secret} names neither the connection name nor the address of {SecretsEnvironment.Source}; it was not changed", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.Single(env.Values(secret));
        AssertNoValueSaid(value, "db.example.internal");
    }
}
