using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Commissable.Backup.Core.Executions;
using Commissable.Workflows.Runtime;

namespace Commissable.Workflows.Local.Approvals;

/// <summary>Where a run's callbacks and approvals belong.</summary>
/// <param name="Project">The workflow's project (for callback URLs).</param>
/// <param name="WorkflowFile">The workflow file being run (recorded with each approval).</param>
/// <param name="ApprovalsDirectory"><c>&lt;state&gt;/approvals</c>.</param>
/// <param name="ConfirmationWord">What the terminal prompt asks the operator to type.</param>
/// <param name="ExecutionId">The run's execution id (also GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID).</param>
internal sealed record CallbackContext(string Project, string WorkflowFile, string ApprovalsDirectory, string ConfirmationWord, string ExecutionId);

/// <summary>
/// <c>events.create_callback_endpoint</c> and <c>events.await_callback</c>, with a human's approval
/// on the terminal standing in for the HTTP request a reviewer would send. The callback URL names
/// the local execution; nothing listens on it. An approval returns the callback request Google
/// documents (<c>http_request {body, headers, method, query, url}</c>, <c>received_time</c>,
/// <c>type: HTTP</c>) whose body is <c>{"approved": true, "approvedBy": NAME}</c>, and is recorded in
/// <c>&lt;state&gt;/approvals/&lt;time&gt;-&lt;step&gt;.json</c>. Without an approval the call raises the
/// <c>TimeoutError</c> a real callback that never came raises, at once rather than after the timeout;
/// an operator who declined is not asked again for the same callback (workflows await in rounds).
/// </summary>
internal sealed class CallbackEvents : IWorkflowCallHandler
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly CallbackContext _context;
    private readonly IApprover _approver;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, string> _callbacks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _declined = new(StringComparer.Ordinal);

    public CallbackEvents(CallbackContext context, IApprover approver, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(approver);
        _context = context;
        _approver = approver;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// The HTTP method of <c>events.create_callback_endpoint</c>'s arguments (<c>http_callback_method</c>,
    /// POST by default), checked as Google checks it; any other argument is refused.
    /// </summary>
    internal static string Method(CallArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var given = args.OptionalString("http_callback_method") ?? CallbackMethods.Default;
        args.RejectUnknown([]);
        return CallbackMethods.Normalize(given)
            ?? throw WorkflowErrors.Value($"events.create_callback_endpoint: http_callback_method '{given.ToUpperInvariant()}' is not one of {string.Join(", ", CallbackMethods.All)}");
    }

    public bool Serves(string functionName) => functionName is "events.create_callback_endpoint" or "events.await_callback";

    public async Task<JsonNode?> CallAsync(WorkflowCall request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new CallArguments(request);
        if (request.Function == "events.create_callback_endpoint")
        {
            var method = Method(args);
            var workflow = Path.GetFileNameWithoutExtension(_context.WorkflowFile);
            var url = $"local://workflowexecutions/v1/projects/{_context.Project}/locations/local/workflows/{workflow}/executions/{_context.ExecutionId}/callbacks/{Guid.NewGuid():N}";
            _callbacks[url] = method;
            return new JsonObject { ["url"] = url };
        }

        var callback = args.OptionalMap("callback") ?? throw WorkflowErrors.Value("events.await_callback: missing required argument 'callback'");
        var timeout = args.OptionalNumber("timeout") ?? 43200;
        args.RejectUnknown([]);
        var callbackUrl = (string?)callback["url"];
        if (callbackUrl is null || !_callbacks.TryGetValue(callbackUrl, out var callbackMethod))
        {
            throw WorkflowErrors.Value("events.await_callback: callback is not an endpoint events.create_callback_endpoint made in this execution");
        }
        if (timeout <= 0)
        {
            throw WorkflowErrors.Value("events.await_callback: timeout must be positive");
        }

        var approval = _declined.ContainsKey(callbackUrl)
            ? null
            : await _approver.RequestAsync(new ApprovalRequest(request.Step, request.Line, callbackUrl, _context.WorkflowFile, _context.ConfirmationWord), cancellationToken);
        if (approval is null)
        {
            _declined[callbackUrl] = true;
            throw WorkflowErrors.Timeout(string.Create(CultureInfo.InvariantCulture,
                $"Timeout awaiting callback {callbackUrl}: nobody approved (run with --approve, or on a terminal); a real execution would have waited {timeout:0} seconds"));
        }

        var received = _time.GetUtcNow();
        Record(request, callbackUrl, approval, received);
        var path = callbackUrl["local://workflowexecutions".Length..];
        return new JsonObject
        {
            ["http_request"] = new JsonObject
            {
                ["body"] = new JsonObject { ["approved"] = true, ["approvedBy"] = approval.ApprovedBy },
                ["headers"] = new JsonObject { ["Content-Type"] = "application/json", ["User-Agent"] = "commissable-backup workflows run" },
                ["method"] = callbackMethod,
                ["query"] = new JsonObject(),
                ["url"] = path,
            },
            // Google prints the receive time in Go's time format; the same shape, in UTC.
            ["received_time"] = received.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fffffff '+0000 UTC'", CultureInfo.InvariantCulture),
            ["type"] = "HTTP",
        };
    }

    private void Record(WorkflowCall request, string callbackUrl, Approval approval, DateTimeOffset received)
    {
        Directory.CreateDirectory(_context.ApprovalsDirectory);
        var step = new string(request.Step.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
        var file = Path.Combine(_context.ApprovalsDirectory, $"{received.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}-{step}.json");
        var record = new JsonObject
        {
            ["approvedBy"] = approval.ApprovedBy,
            ["approvedAt"] = received.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["callbackUrl"] = callbackUrl,
            ["workflow"] = Path.GetFullPath(_context.WorkflowFile),
            ["step"] = request.Step,
            ["line"] = request.Line,
            ["confirmationWord"] = _context.ConfirmationWord,
        };
        // Create-only: two approvals in the same millisecond must not overwrite each other.
        for (var n = 0; ; n++)
        {
            var target = n == 0 ? file : file[..^5] + string.Create(CultureInfo.InvariantCulture, $"-{n}.json");
            try
            {
                using var stream = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
                JsonSerializer.Serialize(stream, record, Indented);
                return;
            }
            catch (IOException) when (File.Exists(target))
            {
            }
        }
    }
}
