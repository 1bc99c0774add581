using System.Text.Json.Nodes;

namespace Commissable.LocalCloud.Api;

/// <summary>How the API's answers are written: Google's JSON (lists without empty items, unescaped quotes), and the base URL of self links.</summary>
internal static class ApiResults
{
    public static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public static string BaseUrl(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}/";

    /// <summary>Google's answers do not escape quotes and angle brackets; neither does the local cloud.</summary>
    internal static readonly System.Text.Json.JsonSerializerOptions Wire = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(Wire), "application/json; charset=UTF-8");

    public static IResult List(string kind, IEnumerable<JsonObject> items)
    {
        var list = new JsonObject { ["kind"] = kind };
        var array = new JsonArray(items.Select(i => (JsonNode)i).ToArray());
        if (array.Count > 0) list["items"] = array;
        return Json(list);
    }
}
