namespace Commissable.Functions.Tests.Layout;

/// <summary>Files of the repository the layout tests read, found from the test binaries.</summary>
internal static class RepositoryFiles
{
    /// <summary>The directory holding <c>Commissable.Functions.sln</c>, above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Commissable.Functions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Commissable.Functions.sln not found above {AppContext.BaseDirectory}.");
    }
}
