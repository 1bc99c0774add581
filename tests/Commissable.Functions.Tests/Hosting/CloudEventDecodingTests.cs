using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using Commissable.Functions.Events;

namespace Commissable.Functions.Tests.Hosting;

public sealed class CloudEventDecodingTests
{
    private const string AuditType = "google.cloud.audit.log.v1.written";

    private static readonly string SimpleStorage = ContractSamples.Read("example_binary_storage_StorageObjectData-simple.json");
    private static readonly string AuditEntry = ContractSamples.Read("example_binary_audit_LogEntryData-pubsubCreateTopic.json");
    private static readonly string WorkflowsStructured = ContractSamples.Read("example_structured_storage_StorageObjectDataWorkflows.json");

    [Fact]
    public async Task Binary_mode_storage_sample_is_decoded()
    {
        var (cloudEvent, data) = await SendStorageAsync(CloudEventRequests.Binary(SimpleStorage));

        Assert.Equal("1234567", cloudEvent.Id);
        Assert.Equal(CloudEventRequests.StorageFinalized, cloudEvent.Type);
        Assert.Equal(new Uri(CloudEventRequests.StorageSource, UriKind.RelativeOrAbsolute), cloudEvent.Source);
        Assert.Equal("objects/folder/Test.cs", cloudEvent.Subject);
        Assert.Equal(new DateTimeOffset(2020, 4, 23, 7, 38, 57, 230, TimeSpan.Zero), cloudEvent.Time);
        AssertSimpleStorage(data);
    }

    [Fact]
    public async Task Structured_mode_storage_sample_is_decoded()
    {
        var (cloudEvent, data) = await SendStorageAsync(CloudEventRequests.Structured(CloudEventRequests.Envelope(SimpleStorage)));

        Assert.Equal("1234567", cloudEvent.Id);
        AssertSimpleStorage(data);
    }

    [Fact]
    public async Task Structured_mode_workflows_sample_is_decoded_with_numbers_where_Eventarc_sends_strings()
    {
        var (cloudEvent, data) = await SendStorageAsync(CloudEventRequests.Structured(WorkflowsStructured));

        Assert.Equal("objects/MyFile", cloudEvent.Subject);
        Assert.Equal(new DateTimeOffset(2021, 11, 25, 21, 4, 32, 279, TimeSpan.Zero).AddTicks(7440), cloudEvent.Time);
        AssertWorkflowsStorage(data);
    }

    [Fact]
    public async Task Binary_mode_workflows_sample_is_decoded()
    {
        var envelope = JsonNode.Parse(WorkflowsStructured)!;
        var (_, data) = await SendStorageAsync(CloudEventRequests.Binary(envelope["data"]!.ToJsonString(), headers: new Dictionary<string, string?>
        {
            ["ce-id"] = envelope["id"]!.GetValue<string>(),
            ["ce-subject"] = envelope["subject"]!.GetValue<string>(),
        }));

        AssertWorkflowsStorage(data);
    }

    [Fact]
    public async Task Binary_mode_audit_log_sample_is_decoded()
    {
        var (cloudEvent, data) = await SendAuditAsync(CloudEventRequests.Binary(AuditEntry, type: AuditType));

        Assert.Equal(AuditType, cloudEvent.Type);
        AssertAudit(data);
    }

    [Fact]
    public async Task Structured_mode_audit_log_sample_is_decoded()
    {
        var (_, data) = await SendAuditAsync(CloudEventRequests.Structured(CloudEventRequests.Envelope(AuditEntry, AuditType, "//cloudaudit.googleapis.com/projects/test-project/logs/activity")));

        AssertAudit(data);
    }

    [Fact]
    public async Task A_numeric_log_severity_is_read_as_its_name()
    {
        var entry = JsonNode.Parse(AuditEntry)!;
        entry["severity"] = 500;

        var (_, data) = await SendAuditAsync(CloudEventRequests.Binary(entry.ToJsonString(), type: AuditType));

        Assert.Equal("ERROR", data.Severity);
    }

    [Fact]
    public async Task Header_names_are_matched_whatever_their_case_and_extensions_are_kept()
    {
        var request = CloudEventRequests.Binary(SimpleStorage, headers: new Dictionary<string, string?>
        {
            ["CE-ID"] = "upper",
            ["Ce-Type"] = CloudEventRequests.StorageFinalized,
            ["ce-traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        });

        var (cloudEvent, _) = await SendStorageAsync(request);

        Assert.Equal("upper", cloudEvent.Id);
        Assert.Equal("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", cloudEvent["traceparent"]);
    }

    [Fact]
    public async Task Json_data_with_a_json_suffix_media_type_is_decoded()
    {
        var (_, data) = await SendStorageAsync(CloudEventRequests.Binary(SimpleStorage, contentType: "application/vnd.google+json"));

        Assert.Equal("sample-bucket", data.Bucket);
    }

    public static TheoryData<string> BadRequestNames => [.. BadRequests.Keys];

    private static readonly Dictionary<string, (Func<HttpRequestMessage> Request, string Expected)> BadRequests = new()
    {
        ["plain JSON, no CloudEvent at all"] = (
            () => new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent(SimpleStorage, System.Text.Encoding.UTF8, "application/json") },
            "the request is not a CloudEvent: send binary mode"),
        ["binary without ce-id"] = (() => CloudEventRequests.Binary(SimpleStorage, headers: Header("ce-id", null)), "missing required header ce-id."),
        ["binary without ce-source and ce-type"] = (
            () => CloudEventRequests.Binary(SimpleStorage, headers: new Dictionary<string, string?> { ["ce-source"] = null, ["ce-type"] = null }),
            "missing required headers ce-source, ce-type."),
        ["binary with an unknown spec version"] = (() => CloudEventRequests.Binary(SimpleStorage, headers: Header("ce-specversion", "0.3")), "ce-specversion '0.3' is not supported; accepted: 1.0"),
        ["binary with an invalid ce-time"] = (() => CloudEventRequests.Binary(SimpleStorage, headers: Header("ce-time", "yesterday")), "header ce-time: Text for attribute 'time' is invalid"),
        ["binary with an invalid attribute name"] = (() => CloudEventRequests.Binary(SimpleStorage, headers: Header("ce-my_ext", "x")), "header ce-my_ext"),
        ["binary with malformed JSON"] = (() => CloudEventRequests.Binary("{\"bucket\": ", contentType: "application/json"), "the data is not valid JSON"),
        ["binary with an empty body"] = (() => CloudEventRequests.Binary(string.Empty), "the event has no data; expected a JSON StorageObjectData"),
        ["binary with JSON null"] = (() => CloudEventRequests.Binary("null"), "the event has no data"),
        ["binary with text data"] = (() => CloudEventRequests.Binary("hello", contentType: "text/plain"), "the data content type 'text/plain' is not JSON"),
        ["binary with octet-stream data"] = (() => CloudEventRequests.Binary(SimpleStorage, contentType: "application/octet-stream"), "'application/octet-stream' is not JSON"),
        ["binary data of the wrong shape"] = (() => CloudEventRequests.Binary("[1, 2]"), "the data is not a valid StorageObjectData"),
        ["binary data with a non-numeric generation"] = (() => CloudEventRequests.Binary("{\"bucket\":\"b\",\"generation\":\"abc\"}"), "(at $.generation, line 1"),
        ["binary data with a bad timestamp"] = (() => CloudEventRequests.Binary("{\"timeCreated\":\"last tuesday\"}"), "$.timeCreated"),
        ["structured with malformed JSON"] = (() => CloudEventRequests.Structured("{\"specversion\":\"1.0\","), "the body is not valid JSON"),
        ["structured with an empty body"] = (() => CloudEventRequests.Structured(string.Empty), "the structured mode body is empty"),
        ["structured without type"] = (() => CloudEventRequests.Structured("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//x\",\"data\":{}}"), "CloudEvent is missing required attributes: type"),
        ["structured without specversion"] = (() => CloudEventRequests.Structured("{\"id\":\"1\",\"source\":\"//x\",\"type\":\"t\"}"), "Structured mode content does not represent a CloudEvent"),
        ["structured as an array"] = (() => CloudEventRequests.Structured("[]"), "Cannot decode JSON element of kind 'Array' as CloudEvent"),
        ["structured with a numeric id"] = (() => CloudEventRequests.Structured("{\"specversion\":\"1.0\",\"id\":1,\"source\":\"//x\",\"type\":\"t\"}"), "Invalid token type 'Number' for CloudEvent attribute 'id'"),
        ["structured without data"] = (() => CloudEventRequests.Structured("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"//x\",\"type\":\"t\"}"), "the event has no data"),
        ["structured data of the wrong shape"] = (() => CloudEventRequests.Structured(CloudEventRequests.Envelope("{\"size\": {\"bytes\": 1}}")), "the data is not a valid StorageObjectData"),
        ["structured in XML"] = (() => CloudEventRequests.Structured("<event/>", contentType: "application/cloudevents+xml"), "structured mode content type 'application/cloudevents+xml' is not supported; accepted: application/cloudevents+json"),
        ["binary data with a key twice"] = (() => CloudEventRequests.Binary("""{"bucket":"nope","bucket":"sample-bucket"}"""), "Duplicate property 'bucket'"),
        ["structured data with a key twice"] = (
            () => CloudEventRequests.Structured("""{"specversion":"1.0","id":"1","source":"//x","type":"t","datacontenttype":"application/json","data":{"name":"a","name":"b"}}"""),
            "Duplicate property 'name'"),
        ["structured with an attribute twice"] = (
            () => CloudEventRequests.Structured("""{"specversion":"1.0","id":"1","source":"//x","type":"t","type":"u","data":{}}"""),
            "Duplicate property 'type'"),
        ["a batch"] = (() => CloudEventRequests.Structured("[]", contentType: "application/cloudevents-batch+json"), "batched CloudEvents (application/cloudevents-batch+json) are not accepted"),
    };

    [Theory]
    [MemberData(nameof(BadRequestNames))]
    public async Task A_request_that_does_not_decode_is_400_naming_the_problem_and_never_reaches_the_function(string name)
    {
        var (request, expected) = BadRequests[name];
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.StorageName));

        var response = await host.Client.SendAsync(request());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Equal("INVALID_CLOUDEVENT", error.GetProperty("status").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.StartsWith("Invalid CloudEvent: ", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", message, StringComparison.Ordinal);
        Assert.Equal(0, host.Recorder.Count);
        Assert.Equal(0, host.Recorder.Constructed);
        var rejected = Assert.Single(host.Logs.WithEvent("function.request.rejected"));
        Assert.Equal("WARNING", rejected.GetProperty("severity").GetString());
        Assert.Empty(host.Logs.WithSeverity("ERROR"));
    }

    [Fact]
    public async Task A_CloudEvent_function_that_throws_is_a_500_so_Eventarc_retries()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.StorageName));
        host.Recorder.ThrowOnCall = new TimeoutException("catalog write timed out");

        var response = await host.Client.SendAsync(CloudEventRequests.Binary(SimpleStorage));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var failed = Assert.Single(host.Logs.WithSeverity("ERROR"));
        Assert.Equal("1234567", failed.GetProperty("cloudEventId").GetString());
        Assert.Equal(CloudEventRequests.StorageFinalized, failed.GetProperty("cloudEventType").GetString());
    }

    [Fact]
    public async Task A_CloudEvent_function_can_answer_with_a_FunctionException()
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.StorageName));
        host.Recorder.ThrowOnCall = Commissable.Functions.Hosting.FunctionException.Conflict("catalog lease held", TimeSpan.FromSeconds(5));

        var response = await host.Client.SendAsync(CloudEventRequests.Binary(SimpleStorage));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
    }

    private static async Task<(CloudEvent Event, StorageObjectData Data)> SendStorageAsync(HttpRequestMessage request)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.StorageName));
        var response = await host.Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, response.Content.Headers.ContentLength ?? 0);
        var call = Assert.Single(host.Recorder.Calls);
        return ((CloudEvent, StorageObjectData))call;
    }

    private static async Task<(CloudEvent Event, LogEntryData Data)> SendAuditAsync(HttpRequestMessage request)
    {
        await using var host = await FunctionTestHost.StartAsync(FunctionTestHost.Target(FunctionTestHost.AuditName));
        var response = await host.Client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var call = Assert.Single(host.Recorder.Calls);
        return ((CloudEvent, LogEntryData))call;
    }

    private static Dictionary<string, string?> Header(string name, string? value) => new() { [name] = value };

    private static void AssertSimpleStorage(StorageObjectData data)
    {
        Assert.Equal("sample-bucket", data.Bucket);
        Assert.Equal("folder/Test.cs", data.Name);
        Assert.Equal(1587627537231057L, data.Generation);
        Assert.Equal(1L, data.Metageneration);
        Assert.Equal(352L, data.Size);
        Assert.Equal("kF8MuJ5+CTJxvyhHS1xzRg==", data.Md5Hash);
        Assert.Equal("rTVTeQ==", data.Crc32c);
        Assert.Equal("text/plain", data.ContentType);
        Assert.Equal("MULTI_REGIONAL", data.StorageClass);
        Assert.Equal(new DateTimeOffset(2020, 4, 23, 7, 38, 57, 230, TimeSpan.Zero), data.TimeCreated);
        Assert.Equal(new DateTimeOffset(2020, 4, 23, 7, 38, 57, 230, TimeSpan.Zero), data.Updated);
        Assert.Equal("sample-bucket/folder/Test.cs/1587627537231057", data.Id);
    }

    private static void AssertWorkflowsStorage(StorageObjectData data)
    {
        Assert.Equal("sample-bucket", data.Bucket);
        Assert.Equal("MyFile", data.Name);
        Assert.Equal(96883251L, data.Generation);
        Assert.Equal(0L, data.Size);
        Assert.Equal(1234, data.ComponentCount);
        Assert.Equal("gzip", data.ContentEncoding);
        Assert.Equal("AES256", data.CustomerEncryption?.EncryptionAlgorithm);
        Assert.True(data.EventBasedHold);
        Assert.False(data.TemporaryHold);
        Assert.NotNull(data.Metadata);
        Assert.Empty(data.Metadata);
        Assert.Equal(new DateTimeOffset(2021, 11, 25, 21, 4, 32, 279, TimeSpan.Zero).AddTicks(7440), data.TimeDeleted);
    }

    private static void AssertAudit(LogEntryData data)
    {
        Assert.Equal("projects/test-project/logs/cloudaudit.googleapis.com%2Factivity", data.LogName);
        Assert.Equal("NOTICE", data.Severity);
        Assert.Equal("9frck8cf9j", data.InsertId);
        // Nanoseconds are truncated to .NET's 100 ns ticks.
        Assert.Equal(new DateTimeOffset(2020, 6, 30, 16, 14, 47, TimeSpan.Zero).AddTicks(5933985), data.Timestamp);
        Assert.Equal("pubsub_topic", data.Resource?.Type);
        Assert.Equal("test-project", data.Resource?.Labels?["project_id"]);
        var payload = data.ProtoPayload!;
        Assert.Equal("google.pubsub.v1.Publisher.CreateTopic", payload.MethodName);
        Assert.Equal("projects/test-project/topics/test-auditlogs-source", payload.ResourceName);
        Assert.Equal("pubsub.googleapis.com", payload.ServiceName);
        Assert.Null(payload.Status);
        Assert.Equal("robot@test-project.iam.gserviceaccount.com", payload.AuthenticationInfo?.PrincipalEmail);
        Assert.Equal("pubsub.topics.create", Assert.Single(payload.AuthorizationInfo!).Permission);
        Assert.Equal("projects/test-project/topics/test-auditlogs-source", payload.Request?.GetProperty("name").GetString());
        Assert.Equal(17, payload.Response?.GetProperty("messageStoragePolicy").GetProperty("allowedPersistenceRegions").GetArrayLength());
        Assert.Equal("google-cloud-sdk", payload.RequestMetadata?.CallerSuppliedUserAgent);
    }
}
