using System.Reflection;
using System.Text;
using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Secrets;
using Commissable.Functions.Hosting;
using Commissable.Functions.Secrets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Commissable.Functions.Tests.Secrets;

/// <summary>
/// secret-repoint's rule for a swap it cannot finish: the instances come from a model of the Cloud
/// SQL Admin API (the local cloud gives every instance an address, so an instance without one is
/// modelled here), the secret from an in-memory Secret Manager that records what is added.
/// </summary>
public sealed class ConnectionSecretsTests
{
    private const string Value = "postgresql://crm_app:pw-not-said@10.1.0.5:5432/crm?host=/cloudsql/crm-project:europe-west1:prod";

    [Fact]
    public async Task A_secret_naming_the_old_instance_by_an_address_the_new_one_lacks_is_refused_and_not_changed()
    {
        var secrets = new MemorySecrets(Value);
        var sql = Instances.Create(
            new DatabaseInstance { Name = "prod", ConnectionName = "crm-project:europe-west1:prod", IpAddresses = [new IpMapping { IpAddress = "10.1.0.5", Type = "PRIVATE" }] },
            new DatabaseInstance { Name = "prod-restored-1", ConnectionName = "crm-project:europe-west1:prod-restored-1" });
        var connection = new ConnectionSecrets(sql, secrets, NullLogger<ConnectionSecrets>.Instance);

        var refused = await Assert.ThrowsAsync<FunctionException>(() => connection.RepointAsync("crm-url", "prod", "prod-restored-1", "sre@example.com", CancellationToken.None));

        Assert.Equal(412, refused.StatusCode);
        Assert.Equal("SECRET_NOT_REPOINTABLE", refused.Code);
        Assert.DoesNotContain("pw-not-said", refused.Message, StringComparison.Ordinal);
        // Replacing the connection name alone would have left the old address: nothing is added.
        Assert.Empty(secrets.Added);
    }

    [Fact]
    public async Task With_both_addresses_the_whole_value_is_swapped()
    {
        var secrets = new MemorySecrets(Value);
        var sql = Instances.Create(
            new DatabaseInstance { Name = "prod", ConnectionName = "crm-project:europe-west1:prod", IpAddresses = [new IpMapping { IpAddress = "10.1.0.5", Type = "PRIVATE" }] },
            new DatabaseInstance { Name = "prod-restored-1", ConnectionName = "crm-project:europe-west1:prod-restored-1", IpAddresses = [new IpMapping { IpAddress = "10.1.0.9", Type = "PRIVATE" }] });
        var connection = new ConnectionSecrets(sql, secrets, NullLogger<ConnectionSecrets>.Instance);

        var result = await connection.RepointAsync("crm-url", "prod", "prod-restored-1", "sre@example.com", CancellationToken.None);

        Assert.True(result.Created);
        Assert.Equal("postgresql://crm_app:pw-not-said@10.1.0.9:5432/crm?host=/cloudsql/crm-project:europe-west1:prod-restored-1", Assert.Single(secrets.Added));
    }

    [Fact]
    public async Task An_instance_the_functions_may_not_read_is_a_412_naming_the_role()
    {
        var connection = new ConnectionSecrets(Instances.Create(), new MemorySecrets(Value), NullLogger<ConnectionSecrets>.Instance);

        var refused = await Assert.ThrowsAsync<FunctionException>(() => connection.CheckAsync("crm-url", "forbidden", CancellationToken.None));

        Assert.Equal(412, refused.StatusCode);
        Assert.Equal("INSTANCE_NOT_PERMITTED", refused.Code);
        Assert.Contains("roles/cloudsql.viewer", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Secret Manager holding one secret's latest version; what is added is kept, in order.</summary>
    private sealed class MemorySecrets(string latest) : ISecretManager
    {
        public List<string> Added { get; } = [];

        public string Project => "crm-project";

        public Task<SecretPayload> AccessLatestAsync(string secret, CancellationToken cancellationToken = default) =>
            Task.FromResult(new SecretPayload($"projects/crm-project/secrets/{secret}/versions/{Added.Count + 1}", Encoding.UTF8.GetBytes(Added.LastOrDefault() ?? latest)));

        public Task<string> AddVersionAsync(string secret, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Added.Add(Encoding.UTF8.GetString(data.Span));
            return Task.FromResult($"projects/crm-project/secrets/{secret}/versions/{Added.Count + 1}");
        }
    }

    /// <summary>The Cloud SQL Admin API as far as these functions read it: the project and instances by name ("forbidden" answers 403); anything else fails the test.</summary>
    public class Instances : DispatchProxy
    {
        private Dictionary<string, DatabaseInstance> _instances = [];

        public static ICloudSqlAdmin Create(params DatabaseInstance[] instances)
        {
            var proxy = Create<ICloudSqlAdmin, Instances>();
            ((Instances)(object)proxy)._instances = instances.ToDictionary(i => i.Name!);
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            "get_Project" => "crm-project",
            nameof(ICloudSqlAdmin.GetInstanceAsync) => _instances.TryGetValue((string)args![0]!, out var found)
                ? Task.FromResult(found)
                : Task.FromException<DatabaseInstance>((string)args[0]! == "forbidden"
                    ? new CloudSqlApiException(403, "forbidden", "The client is not authorized to make this request.")
                    : new CloudSqlApiException(404, "notFound", "no such instance")),
            _ => throw new InvalidOperationException($"ConnectionSecrets called {targetMethod?.Name}, which this model does not answer"),
        };
    }
}
