namespace Commissable.Backup.Core.Backups.Masking;

/// <summary>A column that stops a masked copy from being written, and why.</summary>
/// <param name="Column">The column (<c>table.column</c>), or the rule's key as written.</param>
/// <param name="Reason">Why, in words an operator can act on; never a value of the column.</param>
public sealed record MaskingProblem(string Column, string Reason)
{
    public override string ToString() => $"{Column}: {Reason}";
}

/// <summary>
/// The rules do not cover the dump (a personal-looking column without a rule, a rule for a column
/// the dump does not have, a rule the column's type cannot take), or the dump holds what cannot be
/// masked. Every problem found is listed, each naming its column.
/// </summary>
public sealed class MaskingRefusedException : Exception
{
    public MaskingRefusedException(IReadOnlyList<MaskingProblem> problems)
        : base(Describe(problems ?? throw new ArgumentNullException(nameof(problems))))
    {
        Problems = problems;
    }

    public MaskingRefusedException()
        : this([])
    {
    }

    public MaskingRefusedException(string message)
        : this([new MaskingProblem("dump", message)])
    {
    }

    public MaskingRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [new MaskingProblem("dump", message)];
    }

    public IReadOnlyList<MaskingProblem> Problems { get; }

    private static string Describe(IReadOnlyList<MaskingProblem> problems) =>
        problems.Count == 1
            ? $"refused: {problems[0]}"
            : $"refused, {problems.Count} problems: {string.Join("; ", problems)}";
}
