using System.Text.Json.Nodes;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Tests;

public class WorkflowErrorTests
{
    [Fact]
    public void An_http_error_carries_code_tags_and_body_like_the_http_functions_raise_it()
    {
        var error = WorkflowErrorException.Http(404, "HTTP server responded with error code 404", JsonNode.Parse("""{"error":"no"}"""));

        Assert.Equal("HTTP server responded with error code 404", error.Message);
        Assert.Equal(404, (int)error.Error!["code"]!);
        Assert.Equal("HttpError", (string)error.Error!["tags"]![0]!);
        Assert.Equal("no", (string)error.Error!["body"]!["error"]!);
    }

    [Fact]
    public void A_raised_string_is_its_own_message()
    {
        Assert.Equal("the new instance must not be the source", new WorkflowErrorException(JsonValue.Create("the new instance must not be the source")).Message);
    }

    [Fact]
    public void A_handler_and_the_interpreter_raise_the_same_error_map()
    {
        var raised = WorkflowErrors.TypeError("argument x must be a string");
        var thrown = WorkflowErrors.Type("argument x must be a string");

        Assert.Equal(thrown.Error!.ToJsonString(), Values.ToJson(raised.Value)!.ToJsonString());
        Assert.Equal("""{"message":"argument x must be a string","tags":["TypeError"]}""", thrown.Error!.ToJsonString());
    }

    [Fact]
    public void An_http_error_answer_takes_its_message_from_googles_error_envelope()
    {
        var error = WorkflowErrors.Http(404, JsonNode.Parse("""{"error":{"code":404,"message":"not found"}}"""), new JsonObject());

        Assert.Equal("HTTP server responded with error code 404: not found", error.Message);
        Assert.Equal("HTTP server responded with error code 500", WorkflowErrors.Http(500, JsonValue.Create("oops"), new JsonObject()).Message);
    }
}
