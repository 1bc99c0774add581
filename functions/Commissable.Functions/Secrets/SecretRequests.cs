using Commissable.Backup.Core.Naming;

namespace Commissable.Functions.Secrets;

/// <summary>What a workflow POSTs to <c>secret-check</c>: does the latest version of this secret name this instance?</summary>
internal sealed record SecretCheckRequest
{
    /// <summary>A Secret Manager secret id (not a resource name) in the functions' project.</summary>
    public string? Secret { get; init; }

    /// <summary>The Cloud SQL instance, read from the Cloud SQL Admin API by this name.</summary>
    public string? Instance { get; init; }

    /// <summary>Every problem with the request, each saying what is accepted; empty when valid.</summary>
    public IReadOnlyList<string> Problems() =>
        [.. new[] { SecretRules.SecretProblem(Secret), SecretRules.InstanceProblem(Instance, "instance") }.OfType<string>()];
}

/// <summary>What a workflow POSTs to <c>secret-repoint</c>: point this secret from one instance at another.</summary>
internal sealed record SecretRepointRequest
{
    /// <summary>A Secret Manager secret id (not a resource name) in the functions' project.</summary>
    public string? Secret { get; init; }

    /// <summary>The instance the secret names now.</summary>
    public string? From { get; init; }

    /// <summary>The instance it is to name instead.</summary>
    public string? To { get; init; }

    /// <summary>
    /// Who approved the swap (the disaster-recovery approval's <c>approvedBy</c>): the secret names
    /// production's connection, so no version is added without an approval, and the function's
    /// log line records whose it was.
    /// </summary>
    public string? ApprovedBy { get; init; }

    /// <summary>Every problem with the request, each saying what is accepted; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new[]
        {
            SecretRules.SecretProblem(Secret), SecretRules.InstanceProblem(From, "from"), SecretRules.InstanceProblem(To, "to"),
            SecretRules.ApproverProblem(ApprovedBy),
        }.OfType<string>().ToList();
        if (problems.Count == 0 && string.Equals(From, To, StringComparison.Ordinal))
        {
            problems.Add($"'from' and 'to' must be two different instances (both are '{From}').");
        }
        return problems;
    }
}

/// <summary>The boundary checks of the secret functions' names: nothing else becomes a URL segment or a path.</summary>
internal static class SecretRules
{
    public static string? SecretProblem(string? secret, string field = "secret") =>
        string.IsNullOrWhiteSpace(secret) ? $"'{field}' is required: a Secret Manager secret id (1 to 255 letters, digits, '_' and '-')."
        : CloudNames.IsSecretId(secret) ? null
        : $"'{field}' must be a Secret Manager secret id, not a resource name or a path: 1 to 255 letters, digits, '_' and '-' (got '{CloudNames.Printable(secret)}').";

    /// <summary>The longest approver name taken (an e-mail address or a person's name fits).</summary>
    public const int MaxApprover = 256;

    public static string? ApproverProblem(string? approvedBy) =>
        approvedBy is null ? $"'approvedBy' is required: who approved pointing the secret at the new instance, 1 to {MaxApprover} characters without control characters."
        : approvedBy.Length > MaxApprover || approvedBy.Any(char.IsControl) || string.IsNullOrWhiteSpace(approvedBy)
            ? $"'approvedBy' must name who approved the swap: 1 to {MaxApprover} characters, not only spaces, without control characters (got '{CloudNames.Printable(approvedBy)}')."
            : null;

    public static string? InstanceProblem(string? instance, string field) =>
        string.IsNullOrWhiteSpace(instance) ? $"'{field}' is required: a Cloud SQL instance ID."
        : CloudNames.InstanceProblem(instance, field);
}
