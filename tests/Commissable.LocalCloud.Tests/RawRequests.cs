using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Commissable.LocalCloud.Tests;

/// <summary>
/// Sends a request exactly as written: the path is not canonicalised on the way out (HttpClient
/// would turn <c>databases/..</c> into the instance's path itself), and the body and its
/// Content-Type are sent as given, so malformed requests reach the server malformed.
/// </summary>
internal static class RawRequests
{
    public static async Task<(int Status, JsonObject? Body, string Text)> SendAsync(
        LocalCloudFixture cloud, string method, string path, string? body = null, string? contentType = "application/json")
    {
        var uri = new Uri(cloud.BaseUrl.ToString().TrimEnd('/') + "/" + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        using var response = await cloud.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonObject? json = null;
        try
        {
            json = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return ((int)response.StatusCode, json, text);
    }
}
