using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Commissable.Functions.Tests.Hosting;

/// <summary>Builds CloudEvent HTTP requests the way Eventarc sends them.</summary>
public static class CloudEventRequests
{
    public const string StorageFinalized = "google.cloud.storage.object.v1.finalized";
    public const string StorageSource = "//storage.googleapis.com/projects/_/buckets/sample-bucket";

    /// <summary>A small finalized object's data, as Cloud Storage sends it (int64 fields as strings).</summary>
    public static string ObjectData(string bucket, string name) => new JsonObject
    {
        ["kind"] = "storage#object",
        ["bucket"] = bucket,
        ["name"] = name,
        ["generation"] = "1764036000000001",
        ["size"] = "9",
        ["timeCreated"] = "2026-11-25T02:10:00Z",
        ["updated"] = "2026-11-25T02:10:00Z",
    }.ToJsonString();

    /// <summary>Binary mode: attributes in ce-* headers, the data as the body.</summary>
    public static HttpRequestMessage Binary(
        string? data,
        string path = "/",
        string type = StorageFinalized,
        string? contentType = "application/json",
        IDictionary<string, string?>? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(data ?? string.Empty)),
        };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["ce-specversion"] = "1.0",
            ["ce-id"] = "1234567",
            ["ce-source"] = StorageSource,
            ["ce-type"] = type,
            ["ce-time"] = "2020-04-23T07:38:57.230Z",
            ["ce-subject"] = "objects/folder/Test.cs",
        };
        foreach (var (name, value) in headers ?? new Dictionary<string, string?>())
        {
            // Remove by any casing, then add with the casing given: a test may send Ce-Id.
            all.Remove(name);
            all[name] = value;
        }

        foreach (var (name, value) in all)
        {
            if (value is not null)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return request;
    }

    /// <summary>Structured mode: the whole event as application/cloudevents+json.</summary>
    public static HttpRequestMessage Structured(string body, string path = "/", string contentType = "application/cloudevents+json; charset=utf-8") =>
        new(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) { Headers = { ContentType = MediaTypeHeaderValue.Parse(contentType) } },
        };

    /// <summary>A structured-mode event wrapping <paramref name="data"/>.</summary>
    public static string Envelope(string data, string type = StorageFinalized, string source = StorageSource) =>
        new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = "1234567",
            ["source"] = source,
            ["type"] = type,
            ["time"] = "2020-04-23T07:38:57.230Z",
            ["datacontenttype"] = "application/json",
            ["data"] = JsonNode.Parse(data),
        }.ToJsonString();
}
