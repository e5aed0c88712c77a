using System.Diagnostics;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// MSE/PE with the reference clients, each set to refuse plain connections: libtorrent (<c>pe_forced</c> both ways,
/// <c>pe_rc4</c> only), aria2 (<c>--bt-require-crypto=true --bt-min-crypto-level=arc4</c>) and Transmission
/// (<c>-er</c>, encryption required). A completed transfer is the proof that the handshake and the RC4 stream agree.
/// libtorrent dials PeerNet and is dialled by it; aria2 and Transmission never dial 127.0.0.1, so PeerNet dials them
/// both ways (as the plain tests do).
/// </summary>
public sealed partial class SwarmInteropTests
{
    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1, "forced")]
    [InlineData(TorrentVersion.V2, "forced")]
    [InlineData(TorrentVersion.Hybrid, "enabled")]
    public async Task Libtorrent_ForcedEncryption_FromPeerNetSeeder_ByteIdentical(TorrentVersion version, string policy)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"lt-enc-from-pn-{version}-{policy}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Encryption = policy }, ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort} (encryption {policy})");
        string target = temp.Combine("lt-dl");
        await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [seeder.ListenPort], SwarmTest.TransferTimeout, ct, forceEncryption: true);
        LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout + ReportSlack, ct);
        SwarmTest.Log(clock, $"libtorrent (pe_forced, pe_rc4) downloaded {done.TotalPayloadDownload} bytes in {done.Seconds:F1} s");

        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1, "forced")]
    [InlineData(TorrentVersion.V2, "forced")]
    [InlineData(TorrentVersion.Hybrid, "enabled")]
    public async Task PeerNetGet_FromLibtorrentForcedEncryption_ByteIdentical(TorrentVersion version, string policy)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"pn-enc-from-lt-{version}-{policy}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, forceEncryption: true);
        await using (seeder)
        {
            SwarmTest.Log(clock, $"libtorrent (pe_forced, pe_rc4) seeds on port {seeder.ListenPort}");
            await PeerNetGetFromAsync(torrent, temp, seeder.ListenPort, SwarmTest.TransferTimeout, clock, ct, new PeerNetOptions { Encryption = policy });
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Aria2_RequireCrypto_FromPeerNetSeeder_PeerNetDials_ByteIdentical()
    {
        ToolInfo aria2 = ReferenceTools.Require(ReferenceTool.Aria2);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("aria2-enc-from-pn");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);
        string target = temp.Combine("aria2-dl");

        await using Aria2Process leecher = await Aria2Process.StartDownloadAsync(aria2, torrent.TorrentPath, target, ct, requireCrypto: true);
        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Peers = [leecher.Port], Encryption = "forced", EncryptionLevel = "rc4" }, ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort}, dialing aria2 (require crypto, arc4) on {leecher.Port}");
        await leecher.WaitForDownloadAsync(SwarmTest.TransferTimeout, ct);
        SwarmTest.Log(clock, "aria2 completed");

        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task PeerNetGet_FromAria2RequireCryptoSeeder_ByteIdentical()
    {
        ToolInfo aria2 = ReferenceTools.Require(ReferenceTool.Aria2);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("pn-enc-from-aria2");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        await using Aria2Process seeder = await Aria2Process.StartSeedAsync(aria2, torrent.TorrentPath, torrent.SourceParent, ct, requireCrypto: true);
        SwarmTest.Log(clock, $"aria2 (require crypto, arc4) seeds on port {seeder.Port}");
        await PeerNetGetFromAsync(torrent, temp, seeder.Port, SwarmTest.TransferTimeout, clock, ct, new PeerNetOptions { Encryption = "enabled" });
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Transmission_EncryptionRequired_FromPeerNetSeeder_PeerNetDials_ByteIdentical()
    {
        ToolInfo transmission = ReferenceTools.Require(ReferenceTool.Transmission);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("tr-enc-from-pn");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);
        string target = temp.Combine("tr-dl");

        await using TransmissionProcess leecher = await TransmissionProcess.StartAsync(transmission, torrent.TorrentPath, target, temp.Combine("tr-config"), ct, requireEncryption: true);
        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Peers = [leecher.Port], Encryption = "forced" }, ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort}, dialing Transmission (-er) on {leecher.Port}");
        await leecher.WaitForIdenticalAsync(torrent.ContentPath, torrent.ContentIn(target), SwarmTest.TransmissionTimeout, ct);
        SwarmTest.Log(clock, "Transmission's copy is identical");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task PeerNetGet_FromTransmissionEncryptionRequired_ByteIdentical()
    {
        ToolInfo transmission = ReferenceTools.Require(ReferenceTool.Transmission);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("pn-enc-from-tr");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        await using TransmissionProcess seeder = await TransmissionProcess.StartAsync(transmission, torrent.TorrentPath, torrent.SourceParent, temp.Combine("tr-config"), ct, requireEncryption: true);
        await seeder.WaitUntilSeedingAsync(TimeSpan.FromSeconds(60), ct);
        SwarmTest.Log(clock, $"Transmission (-er) seeds on port {seeder.Port}");
        await PeerNetGetFromAsync(torrent, temp, seeder.Port, SwarmTest.TransmissionTimeout, clock, ct, new PeerNetOptions { Encryption = "forced" });
    }
}
