using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests.SelfTests;

/// <summary>
/// The WebTorrent harness (webtorrent-js/peer.mjs and <see cref="WebTorrentPeer"/>) between two WebTorrent peers, no
/// PeerNet peer: when a WebTorrent interop test fails, this one says whether the harness itself still works.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class WebTorrentPeerTests
{
    [Fact(Timeout = 120_000)]
    public async Task TwoWebTorrentPeers_MoveAHybridTorrentOverUtp_ByteIdentical()
    {
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.WebTorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("wt-harness");
        string content = SwarmContent.Write(temp.Combine("source"), 1024 * 1024, seed: 29);
        string torrentPath = temp.Combine("harness.torrent");
        await File.WriteAllBytesAsync(torrentPath, await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = content, Version = TorrentVersion.Hybrid, PieceLength = 32 * 1024 }, cancellationToken: ct), ct);

        await using WebTorrentPeer seeder = await WebTorrentPeer.StartSeedAsync(tool, torrentPath, temp.Combine("source"), ct);
        string target = temp.Combine("dl");
        await using WebTorrentPeer leecher = await WebTorrentPeer.StartGetAsync(tool, torrentPath, target, $"127.0.0.1:{seeder.Port}", ct);
        WebTorrentReport done = await leecher.WaitForDoneAsync(TimeSpan.FromSeconds(60), ct);

        SwarmContent.AssertIdentical(content, Path.Combine(target, SwarmContent.FolderName));
        Assert.Equal("utpOutgoing", Assert.Single(done.Wires).Type);
        Assert.False(done.TcpListening);
        Assert.Equal(0, done.TcpDialsRefused);
        WebTorrentReport served = await seeder.ReportAsync(ct);
        Assert.Equal("utpIncoming", Assert.Single(served.Wires).Type);
    }
}
