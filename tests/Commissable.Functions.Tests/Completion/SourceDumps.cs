using System.Globalization;
using Commissable.Backup.Postgres.Processes;
using Commissable.Testing;
using Npgsql;

namespace Commissable.Functions.Tests.Completion;

/// <summary>Dumps the local cloud's export cannot write (Cloud SQL exports no custom format), made with the real pg_dump.</summary>
internal static class SourceDumps
{
    /// <summary>
    /// <c>pg_dump --format=custom</c> of <paramref name="database"/> on <paramref name="instance"/>
    /// as its <c>postgres</c> user: the strategy's <c>.dump</c>, as an operator's machine writes it.
    /// The password travels in the program's environment only; the file is written in a directory
    /// only this user can read, and removed.
    /// </summary>
    public static async Task<byte[]> CustomFormatAsync(LocalCloudFixture cloud, string instance, string database)
    {
        var login = new NpgsqlConnectionStringBuilder(await cloud.ConnectionStringAsync(instance, database));
        var directory = Directory.CreateTempSubdirectory("custom-dump-");
        try
        {
            var file = Path.Combine(directory.FullName, "backup.dump");
            await new ExternalProcess
            {
                FileName = cloud.Binaries.Path("pg_dump"),
                Arguments = ["--format=custom", "--no-owner", "--no-privileges", "--file", file],
                InheritPostgresVariables = false,
                Environment = new Dictionary<string, string>
                {
                    ["PGHOST"] = login.Host!,
                    ["PGPORT"] = login.Port.ToString(CultureInfo.InvariantCulture),
                    ["PGUSER"] = login.Username!,
                    ["PGDATABASE"] = login.Database!,
                    ["PGPASSWORD"] = login.Password!,
                },
            }.RunAsync();
            return await File.ReadAllBytesAsync(file);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
