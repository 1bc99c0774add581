using System.Runtime.InteropServices;

namespace Commissable.Backup.FileStore;

/// <summary>
/// link(2): gives an existing file a second name in one step that fails when the name is taken.
/// The one way this code base places a finished file create-only (bucket objects, local secret
/// versions): .NET's <c>File.Move(overwrite: false)</c> checks for the target and then renames,
/// which replaces whatever appeared in between.
/// </summary>
public static class HardLink
{
    /// <summary>errno when the new name already exists.</summary>
    public const int TargetExists = 17; // EEXIST

    /// <summary>Links <paramref name="existing"/> as <paramref name="newPath"/>.</summary>
    /// <returns>0 when linked; otherwise the errno (<see cref="TargetExists"/> when <paramref name="newPath"/> exists).</returns>
    public static int TryCreate(string existing, string newPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(existing);
        ArgumentException.ThrowIfNullOrEmpty(newPath);
        return Link(existing, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}
