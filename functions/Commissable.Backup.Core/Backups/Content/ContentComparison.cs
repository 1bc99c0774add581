namespace Commissable.Backup.Core.Backups.Content;

public static class ContentComparison
{
    public const string Tables = "content.tables";
    public static IReadOnlyList<string> All { get; } = [Tables];
    public static IReadOnlyList<CheckResult> Compare(BackupContent backup, BackupContent restored) => throw new NotSupportedException("placeholder in the wiring branch; replaced by the reader branch");
}
