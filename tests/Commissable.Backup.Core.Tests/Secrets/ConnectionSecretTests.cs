using Commissable.Backup.Core.CloudSql;
using Commissable.Backup.Core.Secrets;

namespace Commissable.Backup.Core.Tests.Secrets;

public sealed class ConnectionSecretTests
{
    private static DatabaseInstance Instance(string name, string? address) => new()
    {
        Name = name,
        ConnectionName = "crm-project:europe-west1:" + name,
        IpAddresses = address is null ? null : [new IpMapping { IpAddress = address, Type = "PRIVATE" }],
    };

    private static readonly DatabaseInstance Prod = Instance("prod", "10.1.0.5");
    private static readonly DatabaseInstance Restored = Instance("prod-restored-1", "10.1.0.9");

    [Theory]
    [InlineData("postgresql://app:pw@localhost/crm?host=/cloudsql/crm-project:europe-west1:prod", InstanceMention.ConnectionName)]
    [InlineData("postgresql://app:pw@10.1.0.5:5432/crm", InstanceMention.Address)]
    [InlineData("postgresql://app:pw@10.1.0.5/crm", InstanceMention.Address)]
    [InlineData("postgresql://app:pw@10.1.0.50:5432/crm", InstanceMention.None)]
    [InlineData("postgresql://app:pw@localhost/crm?host=/cloudsql/crm-project:europe-west1:prod-restored-1", InstanceMention.None)]
    [InlineData("postgresql://app:pw@localhost/crm?host=/cloudsql/other-crm-project:europe-west1:prod", InstanceMention.None)]
    public void A_secret_names_an_instance_by_its_whole_connection_name_or_its_address_as_a_host(string value, InstanceMention expected) =>
        Assert.Equal(expected, ConnectionSecret.Mentions(value, Prod));

    [Fact]
    public void Repointing_replaces_the_connection_name_and_the_address_and_a_second_repoint_changes_nothing()
    {
        const string value = "postgresql://app:pw@10.1.0.5:5432/crm?host=/cloudsql/crm-project:europe-west1:prod&x=@10.1.0.5/";

        var once = ConnectionSecret.Repoint(value, Prod, Restored);
        var twice = ConnectionSecret.Repoint(once, Prod, Restored);

        Assert.Equal("postgresql://app:pw@10.1.0.9:5432/crm?host=/cloudsql/crm-project:europe-west1:prod-restored-1&x=@10.1.0.9/", once);
        Assert.Equal(once, twice);
        Assert.Equal(InstanceMention.None, ConnectionSecret.Mentions(once, Prod));
        Assert.Equal(InstanceMention.ConnectionName, ConnectionSecret.Mentions(once, Restored));
    }

    [Fact]
    public void A_value_that_names_neither_is_returned_unchanged() =>
        Assert.Equal("postgresql://app:pw@db.example.com/crm", ConnectionSecret.Repoint("postgresql://app:pw@db.example.com/crm", Prod, Restored));

    [Fact]
    public void Without_addresses_only_the_connection_name_is_replaced() =>
        Assert.Equal("x@10.1.0.5:5432 /cloudsql/crm-project:europe-west1:prod-restored-1",
            ConnectionSecret.Repoint("x@10.1.0.5:5432 /cloudsql/crm-project:europe-west1:prod", Prod, Restored with { IpAddresses = null }));
}
