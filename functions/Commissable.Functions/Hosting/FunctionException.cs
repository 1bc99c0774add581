using System.Text.RegularExpressions;

namespace Commissable.Functions.Hosting;

/// <summary>
/// A failure a function reports on purpose: the host answers with <see cref="StatusCode"/> and
/// <c>{"error":{"code":STATUS,"status":"CODE","message":"..."}}</c> (Google's error shape), adds
/// <c>Retry-After</c> when <see cref="RetryAfter"/> is set, and logs one WARNING line (ERROR for
/// 5xx). The message goes to the caller: say what is wrong and what is accepted, never a secret.
/// </summary>
/// <remarks>Anything else a function throws is a 500 with a generic body, so Eventarc retries.</remarks>
public partial class FunctionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="statusCode">An HTTP status from 400 to 599.</param>
    /// <param name="code">A stable upper-case code operators and callers can rely on, e.g. <c>BACKUPS_DISABLED</c>.</param>
    /// <param name="message">What is wrong, for the caller.</param>
    /// <param name="retryAfter">When to retry, sent as <c>Retry-After</c> (whole seconds, at least 1); null for none.</param>
    /// <param name="innerException">The cause, logged (redacted), never sent.</param>
    public FunctionException(int statusCode, string code, string message, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        if (!CodePattern().IsMatch(code))
        {
            throw new ArgumentException($"The code must be upper-case letters, digits and underscores, such as FAILED_PRECONDITION; got '{code}'.", nameof(code));
        }

        if (retryAfter is { } delay && delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryAfter), delay, "Retry-After cannot be negative.");
        }

        StatusCode = statusCode;
        Code = code;
        RetryAfter = retryAfter;
    }

    /// <summary>A 500 <c>INTERNAL</c> (for frameworks; functions use the helpers).</summary>
    public FunctionException()
        : this(500, "INTERNAL", "Internal error.")
    {
    }

    /// <summary>A 500 <c>INTERNAL</c> with <paramref name="message"/>.</summary>
    public FunctionException(string message)
        : this(500, "INTERNAL", message)
    {
    }

    /// <summary>A 500 <c>INTERNAL</c> with <paramref name="message"/> and a cause.</summary>
    public FunctionException(string message, Exception innerException)
        : this(500, "INTERNAL", message, null, innerException)
    {
    }

    /// <summary>The HTTP status of the response.</summary>
    public int StatusCode { get; }

    /// <summary>The stable code in the body's <c>error.status</c>.</summary>
    public string Code { get; }

    /// <summary>Sent as <c>Retry-After</c> when set.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>400: the request is malformed or names something invalid.</summary>
    public static FunctionException BadRequest(string message, string code = "INVALID_ARGUMENT") => new(400, code, message);

    /// <summary>405 with <paramref name="usage"/> unless the request is a POST.</summary>
    public static void RequirePost(HttpRequest request, string usage)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!HttpMethods.IsPost(request.Method))
        {
            throw new FunctionException(405, "METHOD_NOT_ALLOWED", usage);
        }
    }

    /// <summary>400 naming every one of <paramref name="problems"/>, when there are any.</summary>
    public static void ThrowIfProblems(IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (problems.Count > 0)
        {
            throw BadRequest(string.Join(" ", problems));
        }
    }

    /// <summary>404: what the request names does not exist.</summary>
    public static FunctionException NotFound(string message, string code = "NOT_FOUND") => new(404, code, message);

    /// <summary>409: busy or conflicting (e.g. another operation holds the instance); retry after <paramref name="retryAfter"/> if given.</summary>
    public static FunctionException Conflict(string message, TimeSpan? retryAfter = null, string code = "ABORTED") => new(409, code, message, retryAfter);

    /// <summary>412: a policy precondition failed (backups off, PITR off, last backup too old).</summary>
    public static FunctionException PreconditionFailed(string message, string code = "FAILED_PRECONDITION") => new(412, code, message);

    /// <summary>503: a dependency is unavailable after retries; retry after <paramref name="retryAfter"/> if given.</summary>
    public static FunctionException Unavailable(string message, TimeSpan? retryAfter = null, string code = "UNAVAILABLE", Exception? innerException = null) =>
        new(503, code, message, retryAfter, innerException);

    [GeneratedRegex(@"\A[A-Z][A-Z0-9_]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex CodePattern();
}
