namespace Commissable.Workflows.Local.Approvals;

/// <summary>What the operator is asked to approve.</summary>
/// <param name="Step">The <c>events.await_callback</c> step.</param>
/// <param name="Line">Its line in the workflow file.</param>
/// <param name="CallbackUrl">The callback the approval stands for.</param>
/// <param name="Workflow">The workflow file.</param>
/// <param name="ConfirmationWord">What the operator must type to approve (e.g. the new instance's name).</param>
internal sealed record ApprovalRequest(string Step, int Line, string CallbackUrl, string Workflow, string ConfirmationWord);

/// <summary>Who approved; null from <see cref="IApprover.RequestAsync"/> means nobody did.</summary>
internal sealed record Approval(string ApprovedBy);

/// <summary>Gets (or does not get) a human's approval for an <c>events.await_callback</c>.</summary>
internal interface IApprover
{
    /// <summary>The approval, or null when there is none (the callback then times out at once).</summary>
    Task<Approval?> RequestAsync(ApprovalRequest request, CancellationToken cancellationToken);
}

/// <summary><c>--approve</c>: approved in advance, as <c>--approver</c>.</summary>
internal sealed class PreApproved(string approver) : IApprover
{
    public Task<Approval?> RequestAsync(ApprovalRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<Approval?>(new Approval(approver));
}

/// <summary>No terminal and no <c>--approve</c>: nobody can approve.</summary>
internal sealed class NoApprover : IApprover
{
    public Task<Approval?> RequestAsync(ApprovalRequest request, CancellationToken cancellationToken) => Task.FromResult<Approval?>(null);
}

/// <summary>
/// Asks on the terminal. The operator approves by typing the confirmation word the prompt names
/// (a deliberate act, not a reflexive "y"); an empty answer, "no", end of input or three wrong
/// words mean no approval.
/// </summary>
internal sealed class TerminalApprover(TextReader input, TextWriter output, string approver) : IApprover
{
    private const int Tries = 3;

    public async Task<Approval?> RequestAsync(ApprovalRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await output.WriteLineAsync();
        await output.WriteLineAsync($"APPROVAL NEEDED: step '{request.Step}' (line {request.Line}) of {request.Workflow} waits for a callback.");
        await output.WriteLineAsync($"  callback: {request.CallbackUrl}");
        await output.WriteLineAsync($"  approving as: {approver}");
        for (var attempt = 1; attempt <= Tries; attempt++)
        {
            await output.WriteAsync($"Type '{request.ConfirmationWord}' to approve (empty or 'no' to refuse): ");
            await output.FlushAsync(cancellationToken);
            var answer = (await input.ReadLineAsync(cancellationToken))?.Trim();
            if (string.IsNullOrEmpty(answer) || answer.Equals("no", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }
            if (answer == request.ConfirmationWord)
            {
                return new Approval(approver);
            }
            await output.WriteLineAsync($"'{answer}' is not '{request.ConfirmationWord}'.");
        }
        await output.WriteLineAsync("Not approved.");
        return null;
    }
}
