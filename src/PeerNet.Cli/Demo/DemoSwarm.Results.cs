using System.Globalization;
using System.Security.Cryptography;
using PeerNet.Metainfo;

namespace PeerNet.Cli.Demo;

internal sealed partial class DemoSwarm
{
    /// <summary>Compares the SHA-256 of every file of every honest copy with the original's.</summary>
    private async Task<IReadOnlyList<DemoCopy>> VerifyCopiesAsync(TorrentMetainfo metainfo, DemoNode seeder, DemoNode[] leechers, CancellationToken cancellationToken)
    {
        TorrentFile[] files = [.. metainfo.Files.Where(f => !f.IsPadFile)];
        var originals = new byte[files.Length][];
        for (int i = 0; i < files.Length; i++)
        {
            originals[i] = await HashFileAsync(Path.Combine(seeder.Folder, files[i].Path), cancellationToken).ConfigureAwait(false);
        }

        var copies = new List<DemoCopy>(leechers.Length);
        foreach (DemoNode node in leechers)
        {
            bool same = true;
            for (int i = 0; i < files.Length && same; i++)
            {
                string path = Path.Combine(node.Folder, files[i].Path);
                same = File.Exists(path) && (await HashFileAsync(path, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(originals[i]);
            }

            copies.Add(new DemoCopy(node.Name, node.CompletedAfter, same));
        }

        int good = copies.Count(c => c.Verified);
        Report(string.Create(CultureInfo.InvariantCulture, $"{good}/{copies.Count} copies byte-identical to the original (SHA-256 {Convert.ToHexStringLower(originals[0])[..16]}…)"));
        return copies;
    }

    private static async Task<byte[]> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        await using var scope = file.ConfigureAwait(false);
        return await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
    }

    private DemoResult BuildResult(TorrentMetainfo metainfo, TimeSpan elapsed, DemoNode seeder, DemoNode? bad, DemoNode[] leechers, IReadOnlyList<DemoCopy> copies, string? failure)
    {
        DemoNodeStatus[] statuses = [.. leechers.Select(n => n.GetStatus())];
        var rejoins = new List<(string, DemoRejoin)>();
        foreach ((DemoNode node, DemoNodeStatus status) in leechers.Zip(statuses))
        {
            if (node.Rejoin is { } rejoin)
            {
                rejoins.Add((node.Name, rejoin with
                {
                    DownloadedAfter = status.Downloaded - rejoin.DownloadedBefore,
                    WastedAfter = status.Wasted - rejoin.WastedBefore,
                }));
            }
        }

        // Read after every session stopped: the torrents' ban lists no longer change.
        System.Net.IPAddress? badAddress = bad?.Address;
        return new DemoResult
        {
            Peers = leechers.Length,
            Size = metainfo.TotalSize,
            PieceCount = metainfo.PieceCount,
            PieceLength = metainfo.PieceLength,
            SeedRate = Options.SeedRate,
            PeerRate = Options.PeerRate,
            Elapsed = elapsed,
            SeederUploaded = seeder.GetStatus().Uploaded,
            LeecherUploaded = statuses.Sum(s => s.Uploaded),
            BadPeerUploaded = bad?.GetStatus().Uploaded ?? 0,
            Wasted = statuses.Sum(s => s.Wasted),
            Copies = copies,
            Rejoins = rejoins,
            HadBadPeer = bad is not null,
            BannedBadPeer = badAddress is null ? 0 : leechers.Count(n => n.BannedAddresses.Contains(badAddress)),
            HashFailures = leechers.Sum(n => n.HashFailures),
            Failure = failure,
        };
    }
}
