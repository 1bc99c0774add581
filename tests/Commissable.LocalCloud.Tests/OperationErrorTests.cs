using System.Text.Json.Nodes;
using Commissable.LocalCloud.Operations;

namespace Commissable.LocalCloud.Tests;

/// <summary>
/// An operation's error is Google-shaped: the PostgreSQL message and the failing line stay; the
/// state directory, other absolute paths, server log lines, .NET exception text and the content of
/// an imported file's lines do not.
/// </summary>
public sealed class OperationErrorTests(OperationErrorTests.ErrorInstance instance) : IClassFixture<OperationErrorTests.ErrorInstance>
{
    private const string Marker = "MARKER-7f3a9c";
    private LocalCloudFixture cloud => instance.Cloud;

    /// <summary>One local cloud with an instance <c>errs</c>.</summary>
    public sealed class ErrorInstance : IAsyncLifetime
    {
        public LocalCloudFixture Cloud { get; } = new();

        public async Task InitializeAsync()
        {
            await Cloud.InitializeAsync();
            await Cloud.CreateInstanceAsync("errs", pitr: false);
        }

        public Task DisposeAsync() => Cloud.DisposeAsync();
    }

    [Theory]
    [InlineData($"CREATE TABLE ok_table (id int);\nSELECT * FROM no_such_table WHERE secret = '{Marker}';\n", "relation \"no_such_table\" does not exist", "line 2")]
    [InlineData($"CREATE TABLE ok_two (id int);\n\nTHIS IS NOT SQL '{Marker}';\n", "syntax error", "line 3")]
    [InlineData($"CREATE TABLE ok_three (id int);\nINSERT INTO ok_three VALUES (1),\n  (2),\n  ('{Marker}');\n", "invalid input syntax for type integer", "ERROR")]
    public async Task A_failed_import_says_what_failed_and_where_without_the_files_lines_or_the_machines_paths(string sql, string expected, string where)
    {
        var name = $"bad-{Guid.NewGuid():N}.sql";
        var bucket = Path.Combine(cloud.StateDirectory, "buckets", "errbkt");
        Directory.CreateDirectory(bucket);
        await File.WriteAllTextAsync(Path.Combine(bucket, name), sql);

        var message = await FailedOperationMessageAsync("import",
            new JsonObject { ["importContext"] = new JsonObject { ["fileType"] = "SQL", ["uri"] = $"gs://errbkt/{name}", ["database"] = "postgres" } });

        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Contains(where, message, StringComparison.Ordinal);
        AssertClean(message);
        if (!expected.StartsWith("invalid input", StringComparison.Ordinal))
        {
            Assert.DoesNotContain(Marker, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_failed_export_to_a_path_it_cannot_write_names_the_object_not_the_state_directory()
    {
        var bucket = Path.Combine(cloud.StateDirectory, "buckets", "errbkt2");
        Directory.CreateDirectory(bucket);
        await File.WriteAllTextAsync(Path.Combine(bucket, "blocker"), "a file where the export needs a folder");

        var message = await FailedOperationMessageAsync("export",
            new JsonObject { ["exportContext"] = new JsonObject { ["fileType"] = "SQL", ["uri"] = "gs://errbkt2/blocker/x.sql", ["databases"] = new JsonArray("postgres") } });

        Assert.Contains("gs://errbkt2/blocker", message, StringComparison.Ordinal);
        AssertClean(message);
    }

    [Fact]
    public async Task A_failed_backup_run_says_why_without_the_machines_paths_in_its_operation_and_in_the_run()
    {
        // Without the internal superuser's password file the run fails on an IOException naming its absolute path.
        var secret = Path.Combine(cloud.StateDirectory, "instances", "errs", "admin.secret");
        var aside = secret + ".aside";
        File.Move(secret, aside);
        string message;
        try
        {
            message = await FailedOperationMessageAsync("backupRuns", new JsonObject { ["description"] = "doomed run" });
        }
        finally
        {
            File.Move(aside, secret);
        }
        AssertClean(message);

        var (_, runs) = await cloud.SendAsync(HttpMethod.Get, cloud.Api("instances/errs/backupRuns"));
        var listed = Assert.Single(runs["items"]!.AsArray(), r => (string?)r!["description"] == "doomed run")!;
        var (status, run) = await cloud.SendAsync(HttpMethod.Get, cloud.Api($"instances/errs/backupRuns/{(string?)listed["id"]}"));
        Assert.Equal(200, status);
        Assert.Equal("FAILED", (string?)run["status"]);
        var error = (string?)run["error"]!["message"] ?? "";
        Assert.Contains("admin.secret", error, StringComparison.Ordinal);
        AssertClean(error);
        Assert.DoesNotContain("/instances/", error, StringComparison.Ordinal);
        Assert.Equal(error, (string?)listed["error"]!["message"]);
    }

    [Fact]
    public void Cleaning_drops_statements_log_lines_stack_text_and_paths_and_keeps_the_postgres_message()
    {
        var state = "/var/lib/lc-state";
        var raw = string.Join('\n',
            $"pg_restore: error: could not execute query: ERROR:  relation \"t\" already exists",
            $"Command was: CREATE TABLE public.t (",
            $"    secret text DEFAULT '{Marker}'",
            ");",
            $"pg_restore: error: could not open input file \"{state}/buckets/b1/dump/toc.dat\": No such file or directory",
            $"2026-01-01 00:00:00.000 UTC [123] cloudsqladmin@crm LOG:  connection received: {Marker}",
            "System.IO.IOException: The file '/home/someone/x' already exists.",
            "   at Commissable.LocalCloud.Transfer.SqlTransfer.ExportAsync(String path)",
            $"DETAIL:  Key (id)=({Marker}) already exists.");

        var clean = OperationErrors.Clean(raw, state);

        Assert.Contains("relation \"t\" already exists", clean, StringComparison.Ordinal);
        Assert.Contains("gs://b1/dump/toc.dat", clean, StringComparison.Ordinal);
        Assert.Contains("The file 'x' already exists.", clean, StringComparison.Ordinal);
        Assert.DoesNotContain(Marker, clean, StringComparison.Ordinal);
        Assert.DoesNotContain(state, clean, StringComparison.Ordinal);
        Assert.DoesNotContain("/home", clean, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", clean, StringComparison.Ordinal);
        Assert.DoesNotContain("Commissable", clean, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_in_the_runtimes_own_words_is_a_generic_internal_error()
    {
        var (code, message) = OperationErrors.Describe(new KeyNotFoundException("The given key 'x' was not present in the dictionary."), "/state");
        Assert.Equal("INTERNAL_ERROR", code);
        Assert.Equal(OperationErrors.Internal, message);
    }

    private async Task<string> FailedOperationMessageAsync(string method, JsonObject body)
    {
        var (status, operation) = await cloud.SendAsync(HttpMethod.Post, cloud.Api($"instances/errs/{method}"), body.ToJsonString());
        Assert.True(status == 200, $"{method} answered {status}: {operation.ToJsonString()}");
        var done = await cloud.WaitAsync(operation);
        var error = done["error"]?["errors"]?[0];
        Assert.True(error is not null, $"the {method} did not fail: {done.ToJsonString()}");
        Assert.False(string.IsNullOrEmpty((string?)error["code"]));
        return (string?)error["message"] ?? "";
    }

    private void AssertClean(string message)
    {
        Assert.DoesNotContain(cloud.StateDirectory, message, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath(), message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", message, StringComparison.Ordinal);
        Assert.DoesNotContain("LINE ", message, StringComparison.Ordinal);
        Assert.DoesNotContain(" LOG: ", message, StringComparison.Ordinal);
    }
}
