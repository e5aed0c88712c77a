using System.Diagnostics;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// uTP (BEP 29) with libtorrent set to uTP only (<c>enable_outgoing_tcp</c> and <c>enable_incoming_tcp</c> off, uTP on
/// both ways): a completed, byte-identical transfer is the proof that connection set-up, acks, selective acks and the
/// end of the stream agree. libtorrent dials PeerNet's UDP port; PeerNet (<c>--utp only</c>) dials libtorrent's.
/// </summary>
public sealed partial class SwarmInteropTests
{
    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1, false)]
    [InlineData(TorrentVersion.Hybrid, true)]
    public async Task Libtorrent_UtpOnly_FromPeerNetSeeder_ByteIdentical(TorrentVersion version, bool encrypted)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"lt-utp-from-pn-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Encryption = encrypted ? "forced" : null }, ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort}");
        string target = temp.Combine("lt-dl");
        await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [seeder.ListenPort], SwarmTest.TransferTimeout, ct, forceEncryption: encrypted, utpOnly: true);
        LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout + ReportSlack, ct);
        SwarmTest.Log(clock, $"libtorrent (uTP only) downloaded {done.TotalPayloadDownload} bytes in {done.Seconds:F1} s");

        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1, false)]
    [InlineData(TorrentVersion.V2, true)]
    public async Task PeerNetGet_UtpOnly_FromLibtorrentUtpOnly_ByteIdentical(TorrentVersion version, bool encrypted)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"pn-utp-from-lt-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, forceEncryption: encrypted, utpOnly: true);
        await using (seeder)
        {
            SwarmTest.Log(clock, $"libtorrent (uTP only) seeds on port {seeder.ListenPort}");
            await PeerNetGetFromAsync(torrent, temp, seeder.ListenPort, SwarmTest.TransferTimeout, clock, ct, new PeerNetOptions { Utp = "only", Encryption = encrypted ? "forced" : null });
        }
    }
}
