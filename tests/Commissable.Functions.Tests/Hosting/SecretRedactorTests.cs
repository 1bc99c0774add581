using Commissable.Backup.Core.Naming;
using Commissable.Functions.Hosting.Logging;

namespace Commissable.Functions.Tests.Hosting;

public sealed class SecretRedactorTests
{
    [Theory]
    [InlineData("postgres://user:pass@host:5432/db", "postgres://[redacted]@host:5432/db")]
    [InlineData("postgresql://app:p@ss/w0rd@10.0.0.5/crm?sslmode=require", "postgresql://[redacted]@10.0.0.5/crm?sslmode=require")]
    [InlineData("DATABASE_URL=postgres://u:secret@db/crm", "DATABASE_URL=postgres://[redacted]@db/crm")]
    [InlineData("Host=db;Username=app;Password=s3cret;Database=crm", "Host=db;Username=app;Password=[redacted];Database=crm")]
    [InlineData("Host=db;password = 'a b c'; Database=crm", "Host=db;password = '[redacted]'; Database=crm")]
    [InlineData("Server=db;Pwd=xyz;", "Server=db;Pwd=[redacted];")]
    [InlineData("PGPASSWORD=abc psql -h db", "PGPASSWORD=[redacted]")]
    [InlineData("export DB_PASSWORD=abc", "export DB_PASSWORD=[redacted]")]
    [InlineData("Authorization: Bearer eyJhbGciOi.x.y rest", "Authorization: Bearer [redacted] rest")]
    [InlineData("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [redacted]")]
    [InlineData("{\"user\":\"u\",\"password\":\"p\\\"w\",\"db\":\"crm\"}", "{\"user\":\"u\",\"password\":\"[redacted]\",\"db\":\"crm\"}")]
    [InlineData("{\\\"password\\\":\\\"pw\\\"}", "{\\\"password\\\":\\\"[redacted]\\\"}")]
    [InlineData("got token ya29.a0AfH6SMB-x_y", "got token [redacted]")]
    [InlineData("https://x/?access_token=abc&alt=json", "https://x/?access_token=[redacted]")]
    [InlineData("client_secret: shh", "client_secret: [redacted]")]
    [InlineData("key -----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY----- end", "key [redacted] end")]
    public void Secrets_are_replaced(string text, string expected)
    {
        Assert.Equal(expected, SecretRedactor.Redact(text));
    }

    [Theory]
    [InlineData("Export of commissable-prod to gs://bucket/backups/prod/backup_20250101_0200_prod_before_x.sql.gz completed")]
    [InlineData("GET http://127.0.0.1:8123/sql/v1beta4/projects/p/instances/i")]
    [InlineData("password authentication failed for user \"app\"")]
    [InlineData("Basic checks passed")]
    [InlineData("robot@test-project.iam.gserviceaccount.com")]
    [InlineData("CLOUDSQL_TOKEN_FILE is /var/lib/localcloud/token")]
    [InlineData("")]
    public void Ordinary_text_is_left_alone(string text)
    {
        Assert.Equal(text, SecretRedactor.Redact(text));
    }

    [Theory]
    [InlineData("password", true)]
    [InlineData("DbPassword", true)]
    [InlineData("PGPASSWORD", true)]
    [InlineData("connectionString", true)]
    [InlineData("DATABASE_URL", true)]
    [InlineData("directUrl", true)]
    [InlineData("accessToken", true)]
    [InlineData("token", true)]
    [InlineData("clientSecret", true)]
    [InlineData("authorization", true)]
    [InlineData("backupPath", false)]
    [InlineData("tokenFile", false)]
    [InlineData("instance", false)]
    public void Field_names_that_say_secret_are_recognised(string name, bool sensitive)
    {
        Assert.Equal(sensitive, SensitiveNames.IsSensitive(name));
    }
}
