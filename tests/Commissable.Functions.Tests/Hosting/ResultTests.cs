using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Commissable.Functions.Hosting;

namespace Commissable.Functions.Tests.Hosting;

public sealed class ResultTests
{
    [Fact]
    public async Task An_HTTP_function_that_finishes_answers_200_with_what_it_wrote()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var response = await host.Client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("path=/x;base=", await response.Content.ReadAsStringAsync());
        Assert.Empty(host.Logs.WithSeverity("ERROR"));
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_500_with_a_generic_body_and_one_ERROR_line()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var response = await host.Client.GetAsync("/?action=unhandled");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var body = await response.Content.ReadAsStringAsync();
        var generic = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(500, generic.GetProperty("code").GetInt32());
        Assert.Equal("INTERNAL", generic.GetProperty("status").GetString());
        Assert.Equal("The function failed. The cause is logged under this request's trace.", generic.GetProperty("message").GetString());
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);

        var error = Assert.Single(host.Logs.WithSeverity("ERROR"));
        Assert.Equal("function.request.failed", error.GetProperty("event").GetString());
        Assert.Equal("demo-http failed with an unhandled InvalidOperationException; answered 500", error.GetProperty("message").GetString());
        var exception = error.GetProperty("exception");
        Assert.Equal("System.InvalidOperationException", exception.GetProperty("type").GetString());
        Assert.Equal("Connection failed: Host=db;Username=app;Password=[redacted];Database=crm", exception.GetProperty("message").GetString());
        Assert.Contains("DemoHttpFunction.HandleAsync", exception.GetProperty("stackTrace").GetString(), StringComparison.Ordinal);
        Assert.All(host.Logs.Lines, line => Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("bad-request", 400, "INVALID_ARGUMENT", "change must match [a-z0-9][a-z0-9-]{0,62}", null)]
    [InlineData("not-found", 404, "NOT_FOUND", "no backup named x", null)]
    [InlineData("conflict", 409, "OPERATION_IN_PROGRESS", "instance commissable-prod is busy with another operation", "30")]
    [InlineData("precondition", 412, "PITR_DISABLED", "point-in-time recovery is off on commissable-prod", null)]
    [InlineData("unavailable", 503, "UNAVAILABLE", "the Cloud SQL Admin API kept answering 503", "60")]
    public async Task A_FunctionException_is_its_status_and_a_JSON_error(string action, int status, string code, string message, string? retryAfter)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var response = await host.Client.GetAsync($"/?action={action}");

        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(status, error.GetProperty("code").GetInt32());
        Assert.Equal(code, error.GetProperty("status").GetString());
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal(retryAfter, response.Headers.TryGetValues("Retry-After", out var values) ? Assert.Single(values) : null);

        var line = Assert.Single(host.Logs.WithEvent("function.request.rejected"));
        Assert.Equal(status >= 500 ? "ERROR" : "WARNING", line.GetProperty("severity").GetString());
        Assert.Equal(status, line.GetProperty("status").GetInt32());
        Assert.Equal(code, line.GetProperty("code").GetString());
        Assert.Equal(message, line.GetProperty("reason").GetString());
        Assert.Equal(status >= 500, line.TryGetProperty("exception", out _));
    }

    [Fact]
    public void FunctionException_refuses_statuses_and_codes_that_are_not_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Commissable.Functions.Hosting.FunctionException(200, "OK", "fine"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Commissable.Functions.Hosting.FunctionException(600, "X", "x"));
        Assert.Throws<ArgumentException>(() => new Commissable.Functions.Hosting.FunctionException(400, "bad code", "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Commissable.Functions.Hosting.FunctionException.Conflict("x", TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task A_Retry_After_under_a_second_is_sent_as_one_second()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.StorageName));
        host.Recorder.ThrowOnCall = Commissable.Functions.Hosting.FunctionException.Unavailable("busy", TimeSpan.FromMilliseconds(10));

        var response = await host.Client.SendAsync(CloudEventRequests.Binary("{}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task An_exception_after_the_response_started_aborts_it_rather_than_pass_for_a_success()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var response = await host.Client.GetAsync("/?action=partial");
            await response.Content.ReadAsStringAsync();
        });

        Assert.Single(host.Logs.WithSeverity("ERROR"));
    }

    [Fact]
    public async Task ReadJsonAsync_reads_the_body_case_insensitively()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var response = await host.Client.PostAsync("/?action=json", Json("""{"NAME":"prod","count":"21"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("""{"name":"prod","count":21,"doubled":42}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReadJsonAsync_ignores_the_content_type_as_Cloud_Scheduler_sends_octet_stream()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"name":"prod","count":1}"""));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        var response = await host.Client.PostAsync("/?action=json", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("", "The request body is empty; expected a JSON DemoRequest.")]
    [InlineData("  \n ", "The request body is empty; expected a JSON DemoRequest.")]
    [InlineData("null", "The request body is null; expected a JSON DemoRequest.")]
    [InlineData("{\"name\": \"prod\",\n \"count\": }", "The request body is not a valid JSON DemoRequest: '}' is an invalid start of a value (at $.count, line 2, position 11).")]
    [InlineData("{\"name\":\"prod\",\"count\":\"many\"}", "The request body is not a valid JSON DemoRequest: The JSON value could not be converted to Commissable.Functions.Tests.Hosting.DemoRequest (at $.count, line 1, position 30).")]
    [InlineData("{\"count\":1}", "The request body is not a valid JSON DemoRequest: JSON deserialization for type 'Commissable.Functions.Tests.Hosting.DemoRequest' was missing required properties including: 'name'")]
    [InlineData("{\"name\":null,\"count\":1}", "The request body is not a valid JSON DemoRequest: The constructor parameter 'Name' on type 'Commissable.Functions.Tests.Hosting.DemoRequest' doesn't allow null values")]
    [InlineData("[1]", "The request body is not a valid JSON DemoRequest: The JSON value could not be converted to Commissable.Functions.Tests.Hosting.DemoRequest (at $, line 1, position 2).")]
    [InlineData("{\"name\":\"nope\",\"name\":\"prod\",\"count\":1}", "The request body is not a valid JSON DemoRequest: Duplicate property 'name'")]
    [InlineData("{\"name\":\"nope\",\"NAME\":\"prod\",\"count\":1}", "The request body is not a valid JSON DemoRequest: Duplicate property 'name'")]
    [InlineData("{\"name\":\"prod\",\"count\":1,\"cuont\":2}", "The request body is not a valid JSON DemoRequest: The JSON property 'cuont' could not be mapped")]
    public async Task ReadJsonAsync_turns_bad_JSON_into_a_400_naming_the_path_and_line(string body, string expected)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var response = await host.Client.PostAsync("/?action=json", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("INVALID_ARGUMENT", error.GetProperty("status").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.True(message.StartsWith(expected, StringComparison.Ordinal), message);
        Assert.Empty(host.Logs.WithSeverity("ERROR"));
    }

    [Fact]
    public async Task ReadJsonAsync_refuses_a_body_over_a_MiB_with_413_without_reading_it_whole()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));
        var body = "{\"name\":\"" + new string('x', HttpContextJsonExtensions.MaxBodyBytes) + "\",\"count\":1}";

        var response = await host.Client.PostAsync("/?action=json", Json(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("PAYLOAD_TOO_LARGE", error.GetProperty("status").GetString());
        Assert.Contains("larger than 1024 KiB", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "The Content-Type 'application/x-www-form-urlencoded' is a form")]
    [InlineData("multipart/form-data; boundary=x", "The Content-Type 'multipart/form-data' is a form")]
    public async Task ReadJsonAsync_refuses_an_HTML_form_with_415(string contentType, string expected)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"name":"prod","count":1}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var response = await host.Client.PostAsync("/?action=json", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", error.GetProperty("status").GetString());
        Assert.StartsWith(expected, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
