using System.Net;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Node;

/// <summary>Two real nodes on 127.0.0.1 (real UDP and TCP sockets) moving a torrent over uTP.</summary>
public sealed class UtpNodeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(EncryptionPolicy.Disabled)]
    [InlineData(EncryptionPolicy.Forced)]
    public async Task A_node_that_dials_no_tcp_downloads_over_utp_byte_identical(EncryptionPolicy policy)
    {
        await using var content = new SwarmHarness();
        (TorrentMetainfo torrent, string folder) = await content.CreateContentAsync(TorrentVersion.Hybrid, [3_000_000, 700_000, 5], pieceLength: 64 * 1024);
        var encryption = new EncryptionOptions { Policy = policy };
        await using PeerNetNode seeder = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Encryption = encryption }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);
        await using PeerNetNode leecher = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Encryption = encryption, OutgoingTcp = false, Utp = new UtpOptions { Outgoing = true } }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);
        await seeder.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, UploadSlots = 0 }, Ct).WaitAsync(SwarmHarness.Timeout, Ct);

        string download = Path.Combine(content.Root, "download");
        TorrentHandle handle = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = download, Peers = [seeder.LocalEndPoint] }, Ct);
        await NodeHarness.WaitCompletedAsync(handle);

        SwarmHarness.AssertSameFiles(torrent, folder, download);
        Assert.True(seeder.Utp.Sum(m => m.AcceptedCount) >= 1, "the seeder accepted no uTP connection");
    }

    [Fact]
    public async Task With_utp_off_the_node_runs_none_and_options_refuse_a_node_that_can_dial_nothing()
    {
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Utp = new UtpOptions { Outgoing = false, Incoming = false } }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);

        Assert.Empty(node.Utp);
        Assert.Contains("OutgoingTcp", string.Join(" ", new PeerNetNodeOptions { OutgoingTcp = false, Utp = new UtpOptions { Outgoing = false } }.Validate()), StringComparison.Ordinal);
    }
}
