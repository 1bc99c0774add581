using Commissable.Testing;
using Xunit.Sdk;

namespace Commissable.Functions.Tests;

public sealed class SecretScanTests
{
    [Theory]
    [InlineData("connected with hunter22-secret")]
    [InlineData("Host=10.0.0.1;Password=abc")]
    [InlineData("url postgres://app:pw@db/crm")]
    [InlineData("Authorization: Bearer ya29.xyz")]
    public void A_line_holding_a_secret_or_a_credential_shape_fails_the_scan(string line)
    {
        Assert.ThrowsAny<XunitException>(() => new SecretScan().AssertClean([line], ["hunter22-secret"]));
    }

    [Fact]
    public void Clean_lines_and_redacted_shapes_pass_the_scan()
    {
        new SecretScan().AssertClean(["backup.export.completed gs://b/x.sql.gz", "Password=[redacted]"], ["hunter22-secret"]);
    }
}
