using Commissable.Backup.Postgres.Processes;

namespace Commissable.Backup.Postgres.Tests;

/// <summary>Programs started for an operation: findable, killable as a group, and never tied to a thread's life.</summary>
public sealed class ChildProcessTests
{
    [Fact]
    public void A_program_leads_its_own_process_group_and_is_reported_with_its_start_time()
    {
        var observer = new Recorder();
        using var process = new ExternalProcess { FileName = "sleep", Arguments = ["300"], Observer = observer }.Start();
        try
        {
            var child = Assert.Single(observer.Children);
            Assert.Equal(process.Id, child.ProcessId);
            Assert.Equal(ChildProcesses.StartTime(process.Id), child.StartTime);
            Assert.Equal([process.Id], ChildProcesses.GroupMembers(process.Id));
        }
        finally
        {
            ExternalProcess.TryKill(process);
        }
    }

    [Fact]
    public void Killing_survivors_kills_the_whole_group_including_what_the_program_forked()
    {
        var observer = new Recorder();
        using var process = new ExternalProcess { FileName = "bash", Arguments = ["-c", "sleep 300 & sleep 300; wait"], Observer = observer }.Start();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ChildProcesses.GroupMembers(process.Id).Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "bash did not start its two sleeps");
            Thread.Yield();
        }

        var left = ChildProcesses.KillSurvivors(observer.Children, TimeSpan.FromSeconds(30));

        Assert.Empty(left);
        Assert.Empty(ChildProcesses.GroupMembers(process.Id));
    }

    [Fact]
    public void A_recorded_process_id_now_used_by_another_program_is_left_alone()
    {
        using var process = new ExternalProcess { FileName = "sleep", Arguments = ["300"] }.Start();
        try
        {
            var stale = new ChildProcess(process.Id, ChildProcesses.StartTime(process.Id)!.Value - 1);
            Assert.Empty(ChildProcesses.KillSurvivors([stale], TimeSpan.FromSeconds(5)));
            Assert.False(process.HasExited);
        }
        finally
        {
            ExternalProcess.TryKill(process);
        }
    }

    [Fact]
    public void A_program_outlives_the_thread_that_started_it()
    {
        // The parent-death signal follows the starting thread; thread-pool threads retire when idle.
        System.Diagnostics.Process? process = null;
        var thread = new Thread(() => process = new ExternalProcess { FileName = "sleep", Arguments = ["300"] }.Start());
        thread.Start();
        thread.Join();
        try
        {
            using var probe = new ExternalProcess { FileName = "true" }.Start();
            probe.WaitForExit();
            Assert.False(process!.WaitForExit(TimeSpan.FromMilliseconds(200)), "the program died with the thread that started it");
        }
        finally
        {
            ExternalProcess.TryKill(process!);
            process!.Dispose();
        }
    }

    [Theory]
    [InlineData("crm", "host='127.0.1.2' hostaddr='127.0.1.2' port='5432' user='cloudsqladmin' dbname='crm'")]
    [InlineData("host=127.0.0.1 port=1 dbname=crm", "host='127.0.1.2' hostaddr='127.0.1.2' port='5432' user='cloudsqladmin' dbname='host=127.0.0.1 port=1 dbname=crm'")]
    [InlineData("postgresql://evil/x", "host='127.0.1.2' hostaddr='127.0.1.2' port='5432' user='cloudsqladmin' dbname='postgresql://evil/x'")]
    [InlineData("it's \\ here", "host='127.0.1.2' hostaddr='127.0.1.2' port='5432' user='cloudsqladmin' dbname='it\\'s \\\\ here'")]
    public void A_database_name_is_one_quoted_conninfo_value(string database, string expected) =>
        Assert.Equal(expected, LibpqConnection.Build("127.0.1.2", 5432, "cloudsqladmin", database));

    private sealed class Recorder : IChildProcessObserver
    {
        public List<ChildProcess> Children { get; } = [];

        public void Started(ChildProcess child) => Children.Add(child);
    }
}
