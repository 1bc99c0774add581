namespace Commissable.Backup.FileStore;

/// <summary>
/// Puts a finished temp file in place only if nothing is there, atomically. <c>File.Move(overwrite:
/// false)</c> is not enough: on Linux .NET checks for the target and then calls rename(2), which
/// replaces whatever appeared in between. link(2) fails with EEXIST instead, in one step, so this
/// holds even against a writer that does not take the bucket lock (the local Cloud SQL export).
/// </summary>
public static class CreateOnlyRename
{
    /// <summary>Links <paramref name="temp"/> as <paramref name="target"/>; false when the target exists. The temp name is left for the caller to remove.</summary>
    public static bool TryPlace(string temp, string target)
    {
        if (OperatingSystem.IsLinux())
        {
            var errno = HardLink.TryCreate(temp, target);
            if (errno == 0)
            {
                return true;
            }

            if (errno == HardLink.TargetExists)
            {
                return false;
            }

            // A file system without hard links (EPERM, ENOTSUP, ...): the bucket lock still makes
            // the check-then-rename below safe among the writers that take it.
        }

        if (File.Exists(target) || Directory.Exists(target))
        {
            return false;
        }

        File.Move(temp, target, overwrite: false);
        return true;
    }
}
