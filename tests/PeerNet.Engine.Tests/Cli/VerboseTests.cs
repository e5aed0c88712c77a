using System.Net;
using System.Net.Sockets;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary><c>-v</c>: a peer that cannot be reached is logged with why, not dropped in silence.</summary>
public sealed class VerboseTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetVerbose_PeerRefusesConnection_LogsTheFailedDialAndWhy()
    {
        using var temp = new Storage.TempDirectory();
        string content = temp.Combine("data.bin");
        await File.WriteAllBytesAsync(content, new byte[20_000], Ct);
        string torrent = temp.Combine("data.torrent");
        Assert.Equal(0, (await RunAsync("create", content, "--v1", "-o", torrent)).Exit);
        int closed = ClosedPort();

        string expected = $"dial to 127.0.0.1:{closed} failed: connection refused";
        await using BackgroundRun run = Start(
            "get", torrent, "-o", temp.Combine("out"), "--peer", $"127.0.0.1:{closed}", "-v", "--no-dht", "--no-lsd", "--no-trackers", "--resume-dir", temp.Combine("resume"));
        await run.WaitForAsync(expected, onStderr: true);
        await run.StopAsync();

        Assert.Contains(expected, run.Err.Text, StringComparison.Ordinal);
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
