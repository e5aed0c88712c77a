using System.Diagnostics;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// The README's sample (samples/Download, the public API alone) downloads from a libtorrent seeder, given the .torrent or
/// a magnet link, and exits 0 once every piece is verified.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class SampleDownloadTests
{
    [Theory(Timeout = 180_000)]
    [InlineData(TorrentVersion.V1, false)]
    [InlineData(TorrentVersion.Hybrid, false)]
    [InlineData(TorrentVersion.V2, true)]
    public async Task SampleDownload_FromLibtorrentSeeder_ExitsZero_ByteIdentical(TorrentVersion version, bool magnet)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"sample-{version}-{(magnet ? "magnet" : "torrent")}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);
        string source = torrent.TorrentPath;
        if (magnet)
        {
            TorrentMetainfo metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.TorrentPath, ct));
            source = MagnetLink.Create(metainfo.InfoHashes, metainfo.Name).ToString();
        }

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct);
        await using (seeder)
        {
            string target = temp.Combine("dl");
            string sample = Path.Combine(AppContext.BaseDirectory, "Download.dll");
            await using var download = BackgroundProcess.Start(
                "samples/Download",
                PeerNetProcess.DotnetHost(),
                [sample, source, target, $"127.0.0.1:{seeder.ListenPort}"],
                environment: new Dictionary<string, string?> { ["HOME"] = temp.Combine("home"), ["XDG_DATA_HOME"] = temp.Combine("data") });
            int exit = await download.WaitForExitAsync(SwarmTest.TransferTimeout, ct);
            SwarmTest.Log(clock, $"sample exited {exit}");
            Assert.True(exit == 0, download.Describe());
            Assert.Contains(download.Lines, l => l.StartsWith("complete: ", StringComparison.Ordinal));
            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        }
    }
}
