using System.Text.Json;
using Commissable.Functions.Hosting;
using Commissable.Functions.Hosting.Configuration;
using Commissable.Functions.Hosting.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Functions.Tests.Hosting;

public sealed class LoggingTests
{
    private const string CloudTrace = "105445aa7843bc8bf206b12000100000/1;o=1";
    private const string Traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public async Task Every_line_is_one_JSON_object_with_severity_message_and_an_RFC3339_UTC_time()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));
        await host.Client.GetAsync("/?action=log");
        await host.Client.GetAsync("/?action=unhandled");

        Assert.NotEmpty(host.Logs.Lines);
        Assert.All(host.Logs.Lines, line =>
        {
            Assert.DoesNotContain('\n', line);
            Assert.DoesNotContain('\r', line);
            var entry = TestLogSink.Parse(line);
            Assert.Equal(JsonValueKind.Object, entry.ValueKind);
            Assert.Contains(entry.GetProperty("severity").GetString(), new[] { "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL" });
            Assert.False(string.IsNullOrEmpty(entry.GetProperty("message").GetString()));
            Assert.Equal("2025-03-04T05:06:07.0000000Z", entry.GetProperty("time").GetString());
        });
    }

    [Fact]
    public async Task A_function_logs_stable_events_with_its_fields_and_scope()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        await host.Client.GetAsync("/?action=log");

        var started = Assert.Single(host.Logs.WithEvent("backup.export.started"));
        Assert.Equal("INFO", started.GetProperty("severity").GetString());
        Assert.Equal("Export of commissable-prod to gs://bucket/backups/prod/x.sql.gz started at 01/02/2025 03:04:05 +00:00", started.GetProperty("message").GetString());
        Assert.Equal("commissable-prod", started.GetProperty("instance").GetString());
        Assert.Equal("gs://bucket/backups/prod/x.sql.gz", started.GetProperty("backupPath").GetString());
        Assert.Equal("2025-01-02T03:04:05.0000000Z", started.GetProperty("startTime").GetString());
        Assert.Equal("started", started.GetProperty("outcome").GetString());
        Assert.Equal(typeof(DemoHttpFunction).FullName, started.GetProperty("logger").GetString());
        Assert.False(started.TryGetProperty("spanId", out _), "only the request's trace names spans");

        var completed = Assert.Single(host.Logs.WithEvent("backup.export.completed"));
        Assert.Equal("NOTICE", completed.GetProperty("severity").GetString());
        Assert.Equal(12.5, completed.GetProperty("durationSeconds").GetDouble());
        Assert.False(completed.TryGetProperty("outcome", out _), "the scope ended before this entry");
    }

    [Fact]
    public async Task Entries_carry_the_function_and_environment_labels()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Local());

        await host.Client.GetAsync("/demo-http?action=log");

        var labels = Assert.Single(host.Logs.WithEvent("backup.export.started")).GetProperty(LogEntryWriter.LabelsKey);
        Assert.Equal("demo-http", labels.GetProperty("function").GetString());
        Assert.Equal("test", labels.GetProperty("environment").GetString());
    }

    [Fact]
    public async Task The_trace_comes_from_X_Cloud_Trace_Context()
    {
        var entry = await LogWithHeadersAsync(("X-Cloud-Trace-Context", CloudTrace));

        Assert.Equal("projects/test-project/traces/105445aa7843bc8bf206b12000100000", entry.GetProperty(LogEntryWriter.TraceKey).GetString());
        Assert.Equal("0000000000000001", entry.GetProperty(LogEntryWriter.SpanIdKey).GetString());
        Assert.True(entry.GetProperty(LogEntryWriter.TraceSampledKey).GetBoolean());
    }

    [Fact]
    public async Task The_trace_comes_from_traceparent()
    {
        var entry = await LogWithHeadersAsync(("traceparent", Traceparent));

        Assert.Equal("projects/test-project/traces/4bf92f3577b34da6a3ce929d0e0e4736", entry.GetProperty(LogEntryWriter.TraceKey).GetString());
        Assert.Equal("00f067aa0ba902b7", entry.GetProperty(LogEntryWriter.SpanIdKey).GetString());
        Assert.True(entry.GetProperty(LogEntryWriter.TraceSampledKey).GetBoolean());
    }

    [Fact]
    public async Task traceparent_wins_when_both_headers_are_sent()
    {
        var entry = await LogWithHeadersAsync(("X-Cloud-Trace-Context", CloudTrace), ("traceparent", Traceparent));

        Assert.Equal("projects/test-project/traces/4bf92f3577b34da6a3ce929d0e0e4736", entry.GetProperty(LogEntryWriter.TraceKey).GetString());
    }

    [Fact]
    public async Task Without_a_trace_header_entries_have_no_trace()
    {
        var entry = await LogWithHeadersAsync(("traceparent", "garbage"));

        Assert.False(entry.TryGetProperty(LogEntryWriter.TraceKey, out _));
        Assert.False(entry.TryGetProperty(LogEntryWriter.SpanIdKey, out _));
    }

    [Fact]
    public async Task The_host_error_line_of_a_500_carries_the_trace()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/?action=unhandled");
        request.Headers.Add("X-Cloud-Trace-Context", CloudTrace);

        await host.Client.SendAsync(request);

        var error = Assert.Single(host.Logs.WithSeverity("ERROR"));
        Assert.Equal("projects/test-project/traces/105445aa7843bc8bf206b12000100000", error.GetProperty(LogEntryWriter.TraceKey).GetString());
    }

    [Fact]
    public async Task Secrets_in_messages_and_fields_are_redacted()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        await host.Client.GetAsync("/?action=leak");

        var message = Assert.Single(host.Logs.WithEvent("demo.leak")).GetProperty("message").GetString();
        Assert.Equal("Connecting with postgres://[redacted]@10.0.0.5:5432/crm and Host=db;Username=app;Password=[redacted];Database=crm; PGPASSWORD=[redacted]", message);
        var fields = Assert.Single(host.Logs.WithEvent("demo.leak.fields"));
        Assert.Equal("[redacted]", fields.GetProperty("databaseUrl").GetString());
        Assert.Equal("[redacted]", fields.GetProperty("password").GetString());
        Assert.Equal("Authorization: Bearer [redacted]", fields.GetProperty("detail").GetString());
        foreach (var secret in new[] { "hunter2", "s3cret", "pgpass1", "ya29.", "plain-secret-value", "abc.def.ghi", "u:p@" })
        {
            Assert.All(host.Logs.Lines, line => Assert.DoesNotContain(secret, line, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task LOG_LEVEL_drops_less_severe_entries()
    {
        var environment = FunctionTestHost.Target(FunctionTestHost.HttpName);
        environment["LOG_LEVEL"] = "warning";
        await using var host = await FunctionTestHost.StartAsync(environment);

        await host.Client.GetAsync("/?action=log");
        await host.Client.GetAsync("/?action=leak");

        Assert.Empty(host.Logs.WithEvent("backup.export.started"));
        Assert.Empty(host.Logs.WithEvent("function.host.started"));
        Assert.Equal(2, host.Logs.WithSeverity("WARNING").Count);
    }

    [Fact]
    public async Task The_host_announces_what_it_serves()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));

        var started = Assert.Single(host.Logs.WithEvent("function.host.started"));

        Assert.Equal("CloudRun", started.GetProperty("mode").GetString());
        Assert.Equal("demo-http", Assert.Single(started.GetProperty("functions").EnumerateArray()).GetString());
        Assert.Equal("demo-http", started.GetProperty(LogEntryWriter.LabelsKey).GetProperty("function").GetString());
    }

    [Fact]
    public void A_start_up_failure_is_one_CRITICAL_line_naming_the_variable()
    {
        var sink = new TestLogSink();
        var options = new FunctionHostOptions { Environment = new DictionaryEnvironment([]), LogSink = sink, TimeProvider = new FakeTimeProvider(FunctionTestHost.Now) };
        var failure = Assert.Throws<FunctionStartupException>(() => FunctionHost.CreateBuilder(options));

        FunctionHost.LogFatal(options, failure);

        var entry = TestLogSink.Parse(Assert.Single(sink.Lines));
        Assert.Equal("CRITICAL", entry.GetProperty("severity").GetString());
        Assert.Equal("function.host.start_failed", entry.GetProperty("event").GetString());
        Assert.Contains("GOOGLE_CLOUD_PROJECT is not set", entry.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(["FUNCTION_TARGET", "GOOGLE_CLOUD_PROJECT", "BACKUP_BUCKET", "ENVIRONMENT_NAME", "PRODUCTION_INSTANCES"],
            entry.GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public void Exceptions_stay_on_one_line_without_their_secrets()
    {
        var (logger, sink) = DirectLogger();
        Exception thrown;
        try
        {
            throw new InvalidOperationException("outer\nsecond line", new IOException("Password=inner-secret;"));
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }

        logger.LogError(new EventId(9, "test.failed"), thrown, "Failed");

        var line = Assert.Single(sink.Lines);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("inner-secret", line, StringComparison.Ordinal);
        var exception = TestLogSink.Parse(line).GetProperty("exception");
        Assert.Equal("outer\nsecond line", exception.GetProperty("message").GetString());
        Assert.Equal("System.IO.IOException: Password=[redacted];", exception.GetProperty("inner").GetString());
        Assert.Contains(nameof(Exceptions_stay_on_one_line_without_their_secrets), exception.GetProperty("stackTrace").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Fields_that_collide_with_the_entry_shape_are_renamed_and_values_keep_their_JSON_type()
    {
        var (logger, sink) = DirectLogger();

        logger.LogInformation("{Message} {Severity} {Count} {Ok} {Tables} {When}", "m", "s", 42L, true, new[] { "a", "b" }, new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        var entry = TestLogSink.Parse(Assert.Single(sink.Lines));
        Assert.Equal("INFO", entry.GetProperty("severity").GetString());
        Assert.Equal("m", entry.GetProperty("message_").GetString());
        Assert.Equal("s", entry.GetProperty("severity_").GetString());
        Assert.Equal(42, entry.GetProperty("count").GetInt64());
        Assert.True(entry.GetProperty("ok").GetBoolean());
        Assert.Equal(["a", "b"], entry.GetProperty("tables").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("2025-01-01T00:00:00.0000000Z", entry.GetProperty("when").GetString());
        Assert.False(entry.TryGetProperty("event", out _));
    }

    private static (ILogger Logger, TestLogSink Sink) DirectLogger()
    {
        var sink = new TestLogSink();
        var provider = new StructuredLoggerProvider(sink, new StructuredLogOptions { ProjectId = "test-project", TimeProvider = new FakeTimeProvider(FunctionTestHost.Now) });
        return (provider.CreateLogger("Test"), sink);
    }

    private static async Task<JsonElement> LogWithHeadersAsync(params (string Name, string Value)[] headers)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.HttpName));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/?action=log");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        await host.Client.SendAsync(request);
        return Assert.Single(host.Logs.WithEvent("backup.export.started"));
    }
}
