using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Commissable.Functions.Tests.Secrets;
using Npgsql;

namespace Commissable.Functions.Tests.Grants;

/// <summary>
/// staging-app-user through the real host, against the local cloud and its secret store: the user
/// is created with the secret's password (proven by logging in with it) only when missing, never on
/// production, and the password is in no answer and no log line.
/// </summary>
public sealed class StagingAppUserTests(SecretsEnvironment env) : IClassFixture<SecretsEnvironment>
{
    private const string Staging = SecretsEnvironment.Restored;
    private readonly List<string> _answers = [];
    private readonly string _password = "Pw-" + Guid.NewGuid().ToString("N")[..16];

    private async Task<(HttpStatusCode Status, JsonObject Body)> EnsureAsync(string instance, string user, string secret)
    {
        var body = new JsonObject { ["instance"] = instance, ["user"] = user, ["passwordSecret"] = secret };
        using var response = await env.Client.PostAsync("/staging-app-user", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        _answers.Add(text);
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    private static string NewUser() => "app_" + Guid.NewGuid().ToString("N")[..10];

    private async Task<IReadOnlyList<string>> UsersAsync(string instance)
    {
        var (_, body) = await env.Cloud.SendAsync(HttpMethod.Get, env.Cloud.Api($"instances/{instance}/users"));
        return [.. (body["items"]?.AsArray() ?? []).Select(u => (string)u!["name"]!)];
    }

    private async Task LogInAsync(string user, string password)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = await env.Cloud.AddressOfAsync(Staging),
            Port = 5432,
            Username = user,
            Password = password,
            Database = "postgres",
            Pooling = false,
        }.ConnectionString);
        await connection.OpenAsync();
    }

    [Fact]
    public async Task A_missing_user_is_created_with_the_secrets_password_which_no_answer_or_log_line_holds()
    {
        var user = NewUser();
        var secret = env.PutSecret(_password);

        var (status, body) = await EnsureAsync(Staging, user, secret);

        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());
        Assert.True((bool)body["created"]!);
        Assert.Equal(["created", "instance", "user"], body.Select(p => p.Key).Order(StringComparer.Ordinal));
        await LogInAsync(user, _password);
        env.AssertNothingSaid([_password], _answers);
    }

    [Fact]
    public async Task An_existing_user_keeps_its_password_even_when_the_secret_changed()
    {
        var user = NewUser();
        var secret = env.PutSecret(_password);
        await EnsureAsync(Staging, user, secret);
        env.Store.AddVersion(env.Cloud.Project, secret, Encoding.UTF8.GetBytes("another-" + _password));

        var (status, body) = await EnsureAsync(Staging, user, secret);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False((bool)body["created"]!);
        await LogInAsync(user, _password);
        env.AssertNothingSaid([_password, "another-" + _password], _answers);
    }

    [Fact]
    public async Task A_production_instance_is_refused_before_the_secret_is_read_and_no_user_is_made()
    {
        var user = NewUser();

        // A secret that does not exist: reading it first would answer 404, so the refusal shows the order.
        var (status, body) = await EnsureAsync(SecretsEnvironment.Source, user, "no-such-password-secret");

        Assert.Equal(HttpStatusCode.PreconditionFailed, status);
        Assert.Equal("VERIFICATION_TARGET_REFUSED", (string?)body["error"]!["status"]);
        Assert.DoesNotContain(user, await UsersAsync(SecretsEnvironment.Source));
    }

    [Fact]
    public async Task A_missing_secret_is_a_404_and_no_user_is_made()
    {
        var user = NewUser();

        var (status, body) = await EnsureAsync(Staging, user, "no-such-password-secret");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("SECRET_NOT_FOUND", (string?)body["error"]!["status"]);
        Assert.Contains("secret no-such-password-secret does not exist", (string?)body["error"]!["message"], StringComparison.Ordinal);
        Assert.DoesNotContain(user, await UsersAsync(Staging));
    }
}
