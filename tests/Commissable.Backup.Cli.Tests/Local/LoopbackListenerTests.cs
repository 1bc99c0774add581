using System.Net;
using System.Net.Sockets;
using Commissable.Backup.Cli.Local;

namespace Commissable.Backup.Cli.Tests.Local;

/// <summary>A local cloud already listening is reused only when the kernel says it is this account's.</summary>
public sealed class LoopbackListenerTests
{
    // /proc/net/tcp as the kernel prints it: 127.0.0.1:8123 (0100007F:1FBB) listening (0A), owned by uid 1001.
    private const string Table = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:1FBB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 41123 1 0000000000000000 100 0 0 10 0
           1: 0100007F:1FBB 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 41124 1 0000000000000000 20 4 30 10 -1
           2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41125 1 0000000000000000 100 0 0 10 0
        """;

    [Fact]
    public void A_listener_of_this_account_is_reused()
    {
        Assert.Null(LoopbackListener.ReuseProblem(8123, Table, 1001));
        // 0.0.0.0 answers on loopback too.
        Assert.Null(LoopbackListener.ReuseProblem(8080, Table, 0));
    }

    [Fact]
    public void A_listener_of_another_account_is_refused_naming_its_uid()
    {
        var problem = LoopbackListener.ReuseProblem(8123, Table, 0);

        Assert.Equal("127.0.0.1:8123 is held by another account (uid 1001): it would be sent the local cloud's token and the drill's postgres password", problem);
    }

    [Fact]
    public void A_port_the_table_shows_no_listener_on_is_refused()
    {
        var problem = LoopbackListener.ReuseProblem(8124, Table, 1001);

        Assert.NotNull(problem);
        Assert.Contains("shows no IPv4 listener there", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_effective_uid_is_the_second_field_of_the_Uid_line()
    {
        Assert.Equal(1001, LoopbackListener.EffectiveUid("Name:\tx\nUid:\t0\t1001\t0\t0\nGid:\t0\t0\t0\t0\n"));
        Assert.Throws<InvalidDataException>(() => LoopbackListener.EffectiveUid("Name:\tx\n"));
    }

    [Fact]
    public void A_listener_this_process_opens_is_its_own()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        Assert.Null(LoopbackListener.ReuseProblem(port));
    }
}
