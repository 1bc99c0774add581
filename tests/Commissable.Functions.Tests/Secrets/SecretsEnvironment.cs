using System.Text;
using Commissable.Backup.FileStore;
using Commissable.Testing;

namespace Commissable.Functions.Tests.Secrets;

/// <summary>
/// The functions against a local cloud with two instances, <see cref="Source"/> and
/// <see cref="Restored"/>, and the local secret store the functions read in local mode
/// (<c>&lt;state&gt;/secrets</c>, the one <c>secrets put</c> and the workflow runner use).
/// </summary>
public sealed class SecretsEnvironment : LocalFunctionsEnvironment
{
    public const string Source = "prod";
    public const string Restored = "prod-restored-1";

    public string SourceConnection { get; private set; } = "";
    public string SourceAddress { get; private set; } = "";
    public string RestoredConnection { get; private set; } = "";
    public string RestoredAddress { get; private set; } = "";

    public LocalSecretStore Store => new(Path.Combine(Cloud.StateDirectory, "secrets"));

    /// <summary>A new secret holding <paramref name="value"/> as its version 1; returns its id.</summary>
    public string PutSecret(string value)
    {
        var id = "s-" + Guid.NewGuid().ToString("N")[..12];
        Store.Create(Cloud.Project, id);
        Assert.NotNull(Store.AddVersion(Cloud.Project, id, Encoding.UTF8.GetBytes(value)));
        return id;
    }

    /// <summary>Every version's value of <paramref name="secret"/>, oldest first.</summary>
    public IReadOnlyList<string> Values(string secret) =>
        [.. Store.Versions(Cloud.Project, secret).Select(v => Encoding.UTF8.GetString(Store.Read(v)))];

    /// <summary>Everything the functions logged or answered so far, checked for <paramref name="secrets"/> and credential shapes.</summary>
    public void AssertNothingSaid(IReadOnlyCollection<string> secrets, IEnumerable<string> answers) =>
        SecretScan.AssertClean(Logs.Lines.Select(l => ("log line", l)).Concat(answers.Select(a => ("response", a))), secrets, SecretScan.CredentialShapes);

    protected override async Task PrepareAsync()
    {
        foreach (var name in new[] { Source, Restored })
        {
            await Cloud.CreateInstanceAsync(name);
            var (_, body) = await Cloud.SendAsync(HttpMethod.Get, Cloud.Api($"instances/{name}"));
            var connection = (string)body["connectionName"]!;
            var address = (string)body["ipAddresses"]![0]!["ipAddress"]!;
            if (name == Source)
            {
                (SourceConnection, SourceAddress) = (connection, address);
            }
            else
            {
                (RestoredConnection, RestoredAddress) = (connection, address);
            }
        }
    }
}
