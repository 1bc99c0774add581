using Microsoft.Extensions.Time.Testing;

namespace Commissable.Workflows.Tests;

public class StandardLibraryTests
{
    private readonly Harness _harness = new();

    [Theory]
    [InlineData("text.replace_all(\"a-b-c\", \"-\", \"_\")", "\"a_b_c\"")]
    [InlineData("text.split(\"a,b,,c\", \",\")", "[\"a\",\"b\",\"\",\"c\"]")]
    [InlineData("text.substring(\"backup_2024\", 7, 11)", "\"2024\"")]
    [InlineData("text.substring(\"abc\", 1, 99)", "\"bc\"")]
    [InlineData("text.find_all(\"abcabc\", \"bc\")", "[{\"index\":1,\"match\":\"bc\"},{\"index\":4,\"match\":\"bc\"}]")]
    [InlineData("text.to_lower(\"CRM\")", "\"crm\"")]
    [InlineData("text.url_encode(\"backups/prod/a b.sql.gz\")", "\"backups%2Fprod%2Fa%20b.sql.gz\"")]
    [InlineData("text.to_upper(\"crm\")", "\"CRM\"")]
    [InlineData("text.match_regex(\"before-deploy-42\", \"^[a-z0-9][a-z0-9-]{0,62}$\")", "true")]
    [InlineData("text.match_regex(\"Bad Name\", \"^[a-z0-9-]+$\")", "false")]
    // RE2's $ is the end of the text only: a final newline does not slip through, as .NET's $ lets it.
    [InlineData("text.match_regex(\"prod\\n\", \"^[a-z]+$\")", "false")]
    [InlineData("text.match_regex(\"a$\", \"^[a$]+$\")", "true")]
    [InlineData("text.match_regex(\"a$\", \"^a\\\\$$\")", "true")]
    [InlineData("text.match_regex(\"a\\nb\", \"(?m)^a$\")", "true")]
    [InlineData("text.replace_all_regex(\"one two\", \"one|two\", \"three\")", "\"three three\"")]
    [InlineData("text.replace_all_regex(\"Tenant 42/ÉTÉ\", \"[^a-z0-9]+\", \"-\")", "\"-enant-42-\"")]
    [InlineData("text.replace_all_regex(\"--a-b--\", \"^-+|-+$\", \"\")", "\"a-b\"")]
    [InlineData("text.replace_all_regex(\"a-\\n\", \"-$\", \"!\")", "\"a-\\n\"")]
    [InlineData("text.replace_all_regex(\"ab\", \"(a)\", \"[$1\\\\1]\")", "\"[$1\\\\1]b\"")]
    [InlineData("text.replace_all_regex(\"ab\", \"\", \"-\")", "\"-a-b-\"")]
    [InlineData("text.replace_all_regex(\"a\U0001F600b\", \"\", \"-\")", "\"-a-\\uD83D\\uDE00-b-\"")]
    [InlineData("text.replace_all_regex(\"aaa\", \"a*\", \"x\")", "\"x\"")]
    [InlineData("text.replace_all_regex(\"baaac\", \"a*\", \"x\")", "\"xbxcx\"")]
    [InlineData("text.decode(text.encode(\"héllo\"))", "\"h\\u00E9llo\"")]
    [InlineData("base64.encode(text.encode(\"hi!\"))", "\"aGkh\"")]
    [InlineData("base64.encode(text.encode(\"hi\"), false)", "\"aGk\"")]
    [InlineData("text.decode(base64.decode(\"aGk\", false))", "\"hi\"")]
    [InlineData("type(text.encode(\"x\"))", "\"bytes\"")]
    [InlineData("len(text.encode(\"héllo\"))", "6")]
    [InlineData("json.encode_to_string({\"a\": [1, 2.5, null, true]})", "\"{\\u0022a\\u0022:[1,2.5,null,true]}\"")]
    [InlineData("json.decode(\"{\\\"n\\\": 1, \\\"d\\\": 1.5}\").n + 1", "2")]
    [InlineData("type(json.decode(\"{\\\"n\\\": 1}\").n)", "\"int\"")]
    [InlineData("json.decode(text.encode(\"[1, 2]\"))", "[1,2]")]
    [InlineData("map.get({\"a\": {\"b\": 1}}, [\"a\", \"b\"])", "1")]
    [InlineData("map.get({\"a\": 1}, \"missing\")", "null")]
    [InlineData("default(map.get({\"a\": 1}, \"missing\"), \"fallback\")", "\"fallback\"")]
    [InlineData("list.concat([1], 2)", "[1,2]")]
    [InlineData("list.concat([1], [2])", "[1,[2]]")]
    [InlineData("time.format(0)", "\"1970-01-01T00:00:00Z\"")]
    [InlineData("time.format(1.5)", "\"1970-01-01T00:00:01.5Z\"")]
    [InlineData("time.parse(\"2024-03-01T12:00:00Z\")", "1709294400")]
    [InlineData("time.parse(\"2024-03-01T13:00:00+01:00\") == time.parse(\"2024-03-01T12:00:00Z\")", "true")]
    [InlineData("http.default_retry_predicate({\"code\": 503, \"tags\": [\"HttpError\"]})", "true")]
    [InlineData("http.default_retry_predicate({\"message\": \"x\", \"tags\": [\"ConnectionError\"]})", "true")]
    [InlineData("http.default_retry_predicate({\"code\": 500})", "false")]
    [InlineData("http.default_retry_predicate_non_idempotent({\"code\": 429})", "true")]
    [InlineData("http.default_retry_predicate_non_idempotent({\"code\": 504})", "false")]
    public async Task Functions_behave_as_documented(string expression, string expected)
    {
        Assert.Equal(expected, Harness.Json(await _harness.EvalAsync(expression)));
    }

    [Theory]
    [InlineData("json.decode(\"{not json\")", "ValueError")]
    [InlineData("base64.decode(\"***\")", "ValueError")]
    [InlineData("base64.encode(\"not bytes\")", "TypeError")]
    [InlineData("text.decode(base64.decode(\"/w==\"))", "ValueError")]
    [InlineData("text.split(1, \",\")", "TypeError")]
    [InlineData("keys([1])", "TypeError")]
    [InlineData("time.parse(\"yesterday\")", "ValueError")]
    [InlineData("text.encode(\"x\")", "TypeError")]
    [InlineData("text.replace_all_regex(\"x\", \"(\", \"y\")", "ValueError")]
    [InlineData("text.replace_all_regex(\"x\", \"x\", 1)", "TypeError")]
    public async Task Bad_arguments_raise_tagged_errors(string expression, string tag)
    {
        var failure = await _harness.FailAsync($"- r:\n    return: '${{{expression}}}'\n");

        Assert.Equal([tag], Harness.Tags(failure.Error));
    }

    [Fact]
    public async Task Call_steps_take_named_arguments()
    {
        var result = await _harness.RunAsync("""
            - split:
                call: text.split
                args:
                  source: "a/b/c"
                  separator: "/"
                result: parts
            - join:
                call: text.replace_all
                args:
                  source: ${parts[2]}
                  substr: "c"
                  repl: "see"
                result: last
            - done:
                return: ${last}
            """);

        Assert.Equal("\"see\"", Harness.Json(result));
    }

    [Fact]
    public async Task Sys_reads_the_injected_environment_and_clock()
    {
        _harness.Environment["GOOGLE_CLOUD_PROJECT_ID"] = "crm-prod";
        _harness.Time = new FakeTimeProvider(DateTimeOffset.Parse("2024-03-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        var result = await _harness.RunAsync("""
            - read:
                return:
                  project: ${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
                  missing: ${sys.get_env("NOT_SET")}
                  fallback: ${sys.get_env("NOT_SET", "dflt")}
                  now: ${time.format(sys.now())}
            """);

        Assert.Equal("""{"project":"crm-prod","missing":null,"fallback":"dflt","now":"2024-03-01T12:00:00Z"}""", Harness.Json(result));
    }

    [Fact]
    public async Task Sys_log_goes_to_the_observer_and_sys_sleep_to_the_delay()
    {
        await _harness.RunAsync("""
            - log_text:
                call: sys.log
                args:
                  text: "starting"
            - log_data:
                call: sys.log
                args:
                  data: {step: 1}
                  severity: WARNING
            - wait:
                call: sys.sleep
                args:
                  seconds: 30
            """);

        Assert.Equal([("INFO", "\"starting\""), ("WARNING", "{\"step\":1}")], _harness.Logs.Select(l => (l.Severity, Harness.Json(l.Data))));
        Assert.Equal([TimeSpan.FromSeconds(30)], _harness.Delays);
    }
}
