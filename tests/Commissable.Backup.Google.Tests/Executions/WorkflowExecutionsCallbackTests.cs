using System.Net;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Executions;
using Commissable.Backup.Google.Tests.Replay;

namespace Commissable.Backup.Google.Tests.Executions;

/// <summary>
/// <c>executions.callbacks.list</c> (every page, checked against the discovery document) and
/// <c>sendHttpCallback</c> (the callback URL, whose answer is empty), over replayed exchanges.
/// </summary>
public sealed class WorkflowExecutionsCallbackTests : ReplayTest
{
    private const string Execution = "projects/commissable-prod/locations/europe-west1/workflows/tenant-restore/executions/e-1";
    private const string Callbacks = $"v1/{Execution}/callbacks";
    private const string CallbackId = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    private static readonly ExecutionName Name = ExecutionName.Parse(Execution);

    private static string Callback(string id, string waiters, params string[] payloads) => new JsonObject
    {
        ["name"] = $"{Execution}/callbacks/{id}",
        ["method"] = "POST",
        ["waiters"] = waiters,
        ["availablePayloads"] = new JsonArray([.. payloads.Select(p => (JsonNode)JsonValue.Create(p))]),
    }.ToJsonString();

    [Fact]
    public async Task List_follows_the_page_tokens_and_keeps_the_callbacks_in_order()
    {
        var h = NewExecutionsHarness();
        h.Http.Expect(HttpMethod.Get, Callbacks).RespondJson($$"""{"callbacks":[{{Callback("a1", "1")}}],"nextPageToken":"tok/1+2"}""");
        h.Http.Expect(HttpMethod.Get, Callbacks + "?pageToken=tok%2F1%2B2").RespondJson($$"""{"callbacks":[{{Callback("b2", "0", """{"approved":true}""")}}]}""");

        var callbacks = await h.RunAsync(c => c.ListCallbacksAsync(Name));

        Assert.Equal(["a1", "b2"], callbacks.Select(c => c.Id));
        Assert.Equal([true, false], callbacks.Select(c => c.HasWaiters));
        Assert.Equal("""{"approved":true}""", Assert.Single(callbacks[1].AvailablePayloads!));
        Assert.Empty(callbacks[0].AvailablePayloads!);
        Assert.All(h.Http.Requests, r => Assert.Equal("workflowexecutions.projects.locations.workflows.executions.callbacks.list", r.DiscoveryMethodId));
    }

    [Fact]
    public async Task List_of_an_execution_without_callbacks_is_empty_when_the_answer_has_no_field()
    {
        var h = NewExecutionsHarness();
        h.Http.Expect(HttpMethod.Get, Callbacks).RespondJson("{}");

        Assert.Empty(await h.RunAsync(c => c.ListCallbacksAsync(Name)));
    }

    [Fact]
    public async Task A_page_token_given_twice_stops_the_listing_instead_of_looping()
    {
        var h = NewExecutionsHarness();
        h.Http.Expect(HttpMethod.Get, Callbacks).RespondJson($$"""{"callbacks":[{{Callback("a1", "1")}}],"nextPageToken":"same"}""");
        h.Http.Expect(HttpMethod.Get, Callbacks + "?pageToken=same").RespondJson($$"""{"callbacks":[],"nextPageToken":"same"}""");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => h.RunAsync(c => c.ListCallbacksAsync(Name)));
        Assert.Contains("repeated a page token", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("\n")]
    public async Task Send_posts_the_body_as_JSON_to_the_callback_url_and_accepts_an_empty_answer(string answer)
    {
        var h = NewExecutionsHarness();
        h.Http.Expect(HttpMethod.Post, $"{Callbacks}/{CallbackId}", """{"approved":true,"approvedBy":"bob"}""").AsCallbackUrl()
            .Respond(HttpStatusCode.OK, answer);

        await h.RunAsync(async c =>
        {
            await c.SendCallbackAsync(Name, CallbackId, "post", new JsonObject { ["approved"] = true, ["approvedBy"] = "bob" });
            return 0;
        });

        Assert.Equal("POST", Assert.Single(h.Http.Requests).Method.Method);
    }

    [Fact]
    public async Task Send_to_a_callback_that_is_gone_is_one_typed_404()
    {
        var h = NewExecutionsHarness();
        h.Http.Expect(HttpMethod.Put, $"{Callbacks}/{CallbackId}", "{}").AsCallbackUrl()
            .RespondError(HttpStatusCode.NotFound, "notFound", "Callback not found.");

        var e = await Assert.ThrowsAsync<WorkflowExecutionsApiException>(() => h.RunAsync(async c =>
        {
            await c.SendCallbackAsync(Name, CallbackId, "PUT", new JsonObject());
            return 0;
        }));

        Assert.Equal(404, e.HttpStatus);
        Assert.DoesNotContain(ExecutionsHarness.Token, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_with_GET_is_not_sent_again_after_a_connection_failure_but_an_unavailable_answer_is()
    {
        var h = NewExecutionsHarness();
        h.Http.Expect(HttpMethod.Get, $"{Callbacks}/{CallbackId}").AsCallbackUrl()
            .Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection reset"));
        await Assert.ThrowsAsync<HttpRequestException>(() => h.RunAsync(async c =>
        {
            await c.SendCallbackAsync(Name, CallbackId, "GET", new JsonObject());
            return 0;
        }));
        Assert.Empty(h.Time.Delays);

        h.Http.Expect(HttpMethod.Post, $"{Callbacks}/{CallbackId}").AsCallbackUrl().RespondError(HttpStatusCode.ServiceUnavailable, "backendError", "Unavailable.");
        h.Http.Expect(HttpMethod.Post, $"{Callbacks}/{CallbackId}").AsCallbackUrl().Respond(HttpStatusCode.OK, "");
        await h.RunAsync(async c =>
        {
            await c.SendCallbackAsync(Name, CallbackId, "POST", new JsonObject());
            return 0;
        });
        Assert.Equal([TimeSpan.FromSeconds(1)], h.Time.Delays);
    }

    [Theory]
    [InlineData("TRACE")]
    [InlineData("CONNECT")]
    [InlineData("PO ST")]
    public async Task Send_refuses_a_method_no_callback_can_take_before_any_request(string method)
    {
        var h = NewExecutionsHarness();

        await Assert.ThrowsAsync<ArgumentException>(() => h.Client.SendCallbackAsync(Name, CallbackId, method, new JsonObject()));

        Assert.Empty(h.Http.Requests);
    }
}
