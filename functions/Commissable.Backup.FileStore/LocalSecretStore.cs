using System.Globalization;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Files;
using Commissable.Backup.Core.Naming;

namespace Commissable.Backup.FileStore;

/// <summary>One stored version of a secret (its value is read separately, on purpose).</summary>
public sealed record SecretVersionInfo(string Project, string Secret, int Version, DateTimeOffset Created)
{
    public string Name => $"projects/{Project}/secrets/{Secret}/versions/{Version.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// A local Secret Manager: <c>&lt;state&gt;/secrets/&lt;project&gt;/&lt;secret&gt;/&lt;n&gt;</c>, one file per
/// version numbered from 1, directories 0700 and files 0600 (owner only). A version is written to a
/// temp file, flushed to disk, then linked to its number in one create-only step, so a crash leaves
/// either a complete version or none (plus a temp file the next write removes), and two writers
/// never get the same number. Versions are never rewritten. The local workflow runner's
/// <c>googleapis.secretmanager</c> connector, <c>secrets put</c> and the functions in local mode
/// (<c>&lt;LOCAL_STATE_DIR&gt;/secrets</c>) share it.
/// </summary>
public sealed partial class LocalSecretStore
{

    /// <param name="directory">Usually <c>&lt;state&gt;/secrets</c>.</param>
    public LocalSecretStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    /// <summary>Whether the secret exists (it does once it has a version; <c>secrets put</c> creates it).</summary>
    public bool Exists(string project, string secret) => System.IO.Directory.Exists(SecretDirectory(project, secret));

    /// <summary>Creates the secret's directory if needed (as <c>gcloud secrets create</c> would).</summary>
    public void Create(string project, string secret)
    {
        OwnerOnly.CreateDirectory(Directory);
        OwnerOnly.CreateDirectory(Path.Combine(Directory, CheckName(project, "project")));
        OwnerOnly.CreateDirectory(SecretDirectory(project, secret));
    }

    /// <summary>Adds a version to an existing secret; null when the secret does not exist.</summary>
    public SecretVersionInfo? AddVersion(string project, string secret, ReadOnlySpan<byte> value)
    {
        var directory = SecretDirectory(project, secret);
        if (!System.IO.Directory.Exists(directory)) return null;
        RemoveStaleTemps(directory);
        var temp = Path.Combine(directory, $".tmp-{Guid.NewGuid():N}");
        try
        {
            OwnerOnly.WriteNewFile(temp, value);
            for (var number = Versions(project, secret).Select(v => v.Version).DefaultIfEmpty(0).Max() + 1; ; number++)
            {
                var target = Path.Combine(directory, number.ToString(CultureInfo.InvariantCulture));
                var errno = HardLink.TryCreate(temp, target);
                if (errno == 0)
                {
                    return Describe(project, secret, number);
                }
                if (errno != HardLink.TargetExists)
                {
                    throw new IOException($"could not store version {number} of secret '{secret}' (errno {errno})");
                }
                // Another writer took this number between listing and linking: take the next one.
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The versions of a secret, oldest first (empty when the secret does not exist).</summary>
    public IReadOnlyList<SecretVersionInfo> Versions(string project, string secret)
    {
        var directory = SecretDirectory(project, secret);
        if (!System.IO.Directory.Exists(directory)) return [];
        return System.IO.Directory.EnumerateFiles(directory)
            .Select(Path.GetFileName)
            .Where(n => n is not null && VersionPattern().IsMatch(n))
            .Select(n => int.Parse(n!, CultureInfo.InvariantCulture))
            .Order()
            .Select(n => Describe(project, secret, n))
            .ToList();
    }

    /// <summary>A version by number or <c>latest</c>; null when the secret or the version does not exist.</summary>
    public SecretVersionInfo? Find(string project, string secret, string version)
    {
        if (version == "latest")
        {
            var all = Versions(project, secret);
            return all.Count == 0 ? null : all[^1];
        }
        if (!VersionPattern().IsMatch(version)) return null;
        var number = int.Parse(version, CultureInfo.InvariantCulture);
        return File.Exists(Path.Combine(SecretDirectory(project, secret), number.ToString(CultureInfo.InvariantCulture))) ? Describe(project, secret, number) : null;
    }

    public byte[] Read(SecretVersionInfo version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return File.ReadAllBytes(Path.Combine(SecretDirectory(version.Project, version.Secret), version.Version.ToString(CultureInfo.InvariantCulture)));
    }

    private SecretVersionInfo Describe(string project, string secret, int number) =>
        new(project, secret, number, new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(SecretDirectory(project, secret), number.ToString(CultureInfo.InvariantCulture))), TimeSpan.Zero));

    private string SecretDirectory(string project, string secret) =>
        Path.Combine(Directory, CheckName(project, "project"), CheckName(secret, "secret"));

    /// <summary>Names become directory names: only what Secret Manager allows ([A-Za-z0-9_-], up to 255), never a path.</summary>
    private static string CheckName(string name, string what) =>
        CloudNames.IsSecretId(name) ? name : throw new ArgumentException($"{what} name '{name}' is not valid: use letters, digits, '-' and '_' (at most 255)");

    /// <summary>Temp files older than an hour are what a crashed writer left; younger ones may be a live writer's.</summary>
    private static void RemoveStaleTemps(string directory)
    {
        foreach (var temp in System.IO.Directory.EnumerateFiles(directory, ".tmp-*"))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(temp) > TimeSpan.FromHours(1))
            {
                File.Delete(temp);
            }
        }
    }

    [GeneratedRegex("^[1-9][0-9]{0,8}\\z")]
    private static partial Regex VersionPattern();
}
