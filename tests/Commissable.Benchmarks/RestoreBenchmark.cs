using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Commissable.Backup.Core.Backups;
using Commissable.Backup.Core.Backups.Content;
using Commissable.Backup.Core.Catalog;
using Commissable.Backup.Postgres.Access;
using Commissable.Backup.Postgres.Demo;
using Commissable.Backup.Postgres.Dumps;
using Commissable.Backup.Postgres.Processes;

using static Commissable.Benchmarks.BenchTools;

namespace Commissable.Benchmarks;

/// <summary>
/// <c>commissable-backup restore</c> of a <c>pg_dump -Fc</c> of the demo, run as an operator runs
/// it (the CLI as a process, the admin URL in the environment), against what an operator's script
/// does by hand: <c>CREATE DATABASE</c>, <c>pg_restore --no-owner --no-privileges --jobs 2</c>, and
/// the same role and grants through psql. Both as a Cloud SQL-like admin (CREATEDB CREATEROLE, not
/// a superuser) into a new database of the same cluster, in alternating order each round. The
/// command's verification (the read-back and the checks) is timed from its own step lines and
/// reported apart; the ratio compares the rest, dotnet's start included. <c>--owner app-user</c>
/// is timed too, for information.
/// </summary>
internal sealed partial class RestoreBenchmark(DemoDatabaseOptions demo, int rounds, string work, bool keep)
{
    private const double Target = 1.10;
    private const string Source = "crm";
    private const string SuperUser = "bench";
    private const string Password = "bench-pw";
    private const string Admin = "bench_admin";
    private const string AdminPassword = "bench-admin-pw";
    private const string AppPassword = "bench-app-pw";
    private const string Address = "127.0.215.1";
    private const int Port = 5432;
    private readonly PostgresBinaries _server = PostgresBinaries.Locate();
    private readonly PostgresBinaries _tools = PostgresBinaries.LocateClient();

    public async Task<int> RunAsync()
    {
        CreateWorkDirectory(work);
        var cluster = DemoCluster(_server, work, Address, Port);
        try
        {
            var size = await LoadDemoAsync(cluster, SuperUser, Password, Source, demo, vacuum: true);
            await ExecuteAsync(cluster.ConnectionString(SuperUser, Password), $"CREATE ROLE {Admin} LOGIN NOSUPERUSER CREATEDB CREATEROLE PASSWORD '{AdminPassword}'");

            var dump = Path.Combine(work, "backup_bench_prod_before_restore.dump");
            var clock = Stopwatch.StartNew();
            await ShellAsync($"PGTZ=UTC '{_tools.Path("pg_dump")}' -Fc --no-owner --no-privileges -h {Address} -p {Port} -U {SuperUser} -d {Source} -f '{dump}'", Password);
            Say(Invariant($"pg_dump -Fc: {clock.Elapsed.TotalSeconds:F1} s, {new FileInfo(dump).Length / 1048576.0:F0} MB"));
            clock.Restart();
            var content = await PostgresBackupContentReader.ReadFileAsync(dump, new DumpReadOptions(), _tools);
            await File.WriteAllTextAsync(dump + BackupObjectName.ManifestSuffix, JsonSerializer.Serialize(new BackupManifest
            {
                Uri = new Uri(dump).AbsoluteUri, Kind = "pre-deploy-export", Environment = "prod", SourceInstance = "bench",
                Databases = [Source], Format = "CUSTOM", StartTime = DateTimeOffset.UtcNow, EndTime = DateTimeOffset.UtcNow, Content = content,
            }, CatalogJson.Options));
            Say(Invariant($"the dump's content manifest: {clock.Elapsed.TotalSeconds:F1} s"));

            var raw = new List<double>();
            var ours = new List<(double Restore, double Verify, double Ownership, double Total)>();
            var owned = new List<(double Restore, double Verify, double Ownership, double Total)>();
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var which in round % 2 == 1 ? new[] { 0, 1, 2 } : [2, 1, 0])
                {
                    var database = Invariant($"restored_{round}_{which}");
                    var user = Invariant($"app_{round}_{which}");
                    switch (which)
                    {
                        case 0:
                            raw.Add(await RawAsync(dump, database, user));
                            Say(Invariant($"round {round}: raw pg_restore --jobs 2 + grants {raw[^1]:F2} s (load {LoadAverage():F1})"));
                            break;
                        default:
                            var measure = await OursAsync(dump, database, user, owner: which == 2);
                            (which == 2 ? owned : ours).Add(measure);
                            Say(Invariant($"round {round}: restore{(which == 2 ? " --owner app-user" : "")} {measure.Total:F2} s, of which verification {measure.Verify:F2} s{(which == 2 ? $", the ownership step {measure.Ownership:F2} s" : "")} (load {LoadAverage():F1})"));
                            break;
                    }
                    await ExecuteAsync(cluster.ConnectionString(SuperUser, Password), $"DROP DATABASE {database} WITH (FORCE)");
                }
            }

            var best = raw.Min();
            var bestOurs = ours.Min(o => o.Restore);
            var ratio = bestOurs / best;
            Console.WriteLine();
            Console.WriteLine(Invariant($"Demo {demo.Tenants} tenants x {demo.RowsPerTenant} rows per tenant, database {size / 1048576.0:F0} MB, dump {new FileInfo(dump).Length / 1048576.0:F0} MB; best of {rounds} round(s), alternating order; admin CREATEDB CREATEROLE (not a superuser)."));
            Console.WriteLine();
            Console.WriteLine("| what | seconds (best) | vs raw |");
            Console.WriteLine("|---|---|---|");
            Console.WriteLine(Invariant($"| raw: CREATE DATABASE + pg_restore --jobs 2 + role and grants (psql) | {best:F2} | 1.00 |"));
            Console.WriteLine(Invariant($"| restore without its verification (create, pg_restore --jobs 2, app user, grants; dotnet start included) | {bestOurs:F2} | {ratio:F3} |"));
            Console.WriteLine(Invariant($"| restore's verification (read-back + checks), apart | {ours.Min(o => o.Verify):F2} | {ours.Min(o => o.Verify) / best:F2} |"));
            Console.WriteLine(Invariant($"| restore, whole command | {ours.Min(o => o.Total):F2} | {ours.Min(o => o.Total) / best:F2} |"));
            Console.WriteLine(Invariant($"| restore --owner app-user without its verification | {owned.Min(o => o.Restore):F2} | {owned.Min(o => o.Restore) / best:F2} |"));
            Console.WriteLine(Invariant($"| of which the ownership step | {owned.Min(o => o.Ownership):F2} | {owned.Min(o => o.Ownership) / best:F2} |"));
            Console.WriteLine();
            Console.WriteLine(Invariant($"restore without verification over raw pg_restore --jobs 2 + grants: {bestOurs:F2} / {best:F2} s = {ratio:F3} (target <= {Target}): {(ratio <= Target ? "met" : "MISSED")}."));
            return 0;
        }
        finally
        {
            await cluster.StopAsync();
            RemoveWorkDirectory(work, keep);
        }
    }

    /// <summary>What an operator's script does: the database, pg_restore, the role and the same grant statements.</summary>
    private async Task<double> RawAsync(string dump, string database, string user)
    {
        var grants = string.Join("; ", AppUserGrants.Statements(database, user, [Admin]));
        var connection = $"-h {Address} -p {Port} -U {Admin}";
        var clock = Stopwatch.StartNew();
        await ShellAsync(
            $"""
            set -e
            '{_tools.Path("psql")}' -X -q {connection} -d postgres -c 'CREATE DATABASE {database} TEMPLATE template0'
            '{_tools.Path("pg_restore")}' --no-owner --no-privileges --exit-on-error --jobs=2 {connection} -d {database} '{dump}'
            '{_tools.Path("psql")}' -X -q -v ON_ERROR_STOP=1 {connection} -d {database} -c "CREATE ROLE {user} LOGIN PASSWORD '{AppPassword}'" -c '{grants.Replace("'", "'\\''", StringComparison.Ordinal)}'
            """, AdminPassword);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The command as a process; its verification steps' own timings taken out of its wall time.</summary>
    private async Task<(double Restore, double Verify, double Ownership, double Total)> OursAsync(string dump, string database, string user, bool owner)
    {
        List<string> arguments =
        [
            Path.Combine(AppContext.BaseDirectory, "commissable-backup.dll"), "restore", dump, "--to-env", "BENCH_ADMIN_URL",
            "--database", database, "--app-user", user, "--app-password-env", "BENCH_APP_PASSWORD", "--jobs", "2",
        ];
        if (owner)
        {
            arguments.AddRange(["--owner", "app-user"]);
        }
        var clock = Stopwatch.StartNew();
        using var process = new ExternalProcess
        {
            FileName = "dotnet",
            Arguments = arguments,
            Environment = new Dictionary<string, string>
            {
                ["BENCH_ADMIN_URL"] = $"postgresql://{Admin}:{AdminPassword}@{Address}:{Port}/postgres",
                ["BENCH_APP_PASSWORD"] = AppPassword,
                ["PRODUCTION_HOSTS"] = "prod.invalid",
            },
            InheritPostgresVariables = false,
        }.Start(redirectStdout: true);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = ExternalProcess.ReadTailAsync(process.StandardError);
        await process.WaitForExitAsync();
        var total = clock.Elapsed.TotalSeconds;
        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"restore exited {process.ExitCode}: {output}{await stderr}");
        }

        // Each step prints "-> what ..." and then "   ok, detail (N.N s)".
        var (verify, ownership) = (0.0, 0.0);
        string? step = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("-> ", StringComparison.Ordinal))
            {
                step = line;
            }
            else if (step is not null && StepTime().Match(line) is { Success: true } match)
            {
                var seconds = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                if (step.StartsWith("-> verify", StringComparison.Ordinal) || step.StartsWith("-> read the content", StringComparison.Ordinal))
                {
                    verify += seconds;
                }
                else if (step.StartsWith("-> make ", StringComparison.Ordinal))
                {
                    ownership += seconds;
                }
                step = null;
            }
        }
        if (verify <= 0)
        {
            throw new InvalidOperationException($"restore printed no verification step: {output}");
        }
        return (total - verify, verify, ownership, total);
    }

    [GeneratedRegex(@"^   ok, .*\((\d+(?:\.\d+)?) s\)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex StepTime();
}
