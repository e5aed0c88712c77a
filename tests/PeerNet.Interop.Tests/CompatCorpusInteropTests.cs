using PeerNet.Codecs.Tests.Metainfo;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// The compat-torrent corpus (tests/data/compat-torrents) against libtorrent 2.0 (python3-libtorrent, the oracle):
/// every file PeerNet loads, libtorrent loads with the same name, info-hashes, piece length and count, and the same
/// files — paths, sizes, offsets, pad and symlink flags and targets, attributes — so a download moves between the two
/// clients; every file PeerNet refuses, libtorrent refuses. The few deliberate differences are in the manifest, and
/// are checked to be exactly what it says libtorrent does.
/// </summary>
public sealed class CompatCorpusInteropTests
{
    private const int TestTimeout = 180_000;

    private static readonly Lazy<Task<Dictionary<string, LtReading>>> Readings = new(async () =>
        (await Libtorrent.ReadAllAsync(CompatCorpus.Folder, CancellationToken.None).ConfigureAwait(false)).ToDictionary(r => r.File, StringComparer.Ordinal));

    public static TheoryData<string> AllFiles => [.. CompatCorpus.Cases.Select(c => c.File)];

    [Fact(Timeout = TestTimeout)]
    public async Task Libtorrent_ReadsEveryFileOfTheCorpus()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        Dictionary<string, LtReading> readings = await Readings.Value.WaitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(CompatCorpus.Cases.Select(c => c.File).Order(StringComparer.Ordinal), readings.Keys.Order(StringComparer.Ordinal));
    }

    [Theory(Timeout = TestTimeout)]
    [MemberData(nameof(AllFiles))]
    public async Task CompatTorrent_PeerNetReadsItAsLibtorrentDoes(string file)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CompatCase expected = CompatCorpus.Get(file);
        LtReading lt = (await Readings.Value.WaitAsync(TestContext.Current.CancellationToken))[file];
        bool parsed = TorrentMetainfo.TryParse(CompatCorpus.Read(file), out TorrentMetainfo? torrent, out MetainfoError error);
        Assert.Equal(expected.Loads, parsed);
        CompatDifference? difference = expected.Libtorrent;

        if (!parsed)
        {
            // Refused by both, unless the manifest says libtorrent loads it (and then it must).
            bool libtorrentLoads = difference is { Loads: true } || difference?.Paths is not null;
            Assert.True(libtorrentLoads == (lt.Error is null), $"{file}: PeerNet refused it ({error}); libtorrent {(lt.Error is null ? "loaded it" : "refused it: " + lt.Error)}; manifest: {difference?.Why ?? "both refuse"}");
            if (difference?.Paths is { } theirPaths)
            {
                Assert.Equal(theirPaths, lt.Files!.Select(f => f.Path));
            }

            return;
        }

        Assert.True(lt.Error is null, $"{file}: libtorrent refused what PeerNet loads: {lt.Error}");
        Assert.Equal(expected.InfoHashV1, lt.InfoHashV1);
        Assert.Equal(expected.InfoHashV2, lt.InfoHashV2);
        Assert.Equal(torrent!.InfoHashes.V1?.ToString(), lt.InfoHashV1);
        Assert.Equal(torrent.InfoHashes.V2?.ToString(), lt.InfoHashV2);
        Assert.Equal(torrent.PieceLength, lt.PieceLength);
        Assert.Equal(torrent.PieceCount, lt.NumPieces);
        Assert.Equal(difference?.Name ?? torrent.Name, lt.Name);

        // A v2-only torrent lists no pad files: libtorrent synthesizes them to align files, the metainfo has none. For
        // the same reason an empty file or symlink there sits after libtorrent's pad, so its offset is not compared.
        bool v2Only = torrent.Version == TorrentVersion.V2;
        LtEntry[] theirs = [.. lt.Files!.Where(f => !(v2Only && f.Pad))];
        Assert.Equal(difference?.Paths ?? [.. torrent.Files.Select(f => f.Path)], theirs.Select(f => f.Path));
        Assert.Equal(torrent.Files.Count, theirs.Length);
        for (int i = 0; i < theirs.Length; i++)
        {
            TorrentFile ours = torrent.Files[i];
            LtEntry their = theirs[i];
            string what = $"{file}: '{ours.Path}'";
            Assert.True(ours.Length == their.Size, $"{what}: {ours.Length} bytes, libtorrent {their.Size}");
            Assert.True(ours.IsPadFile == their.Pad && ours.IsSymlink == their.Symlink, $"{what}: pad {ours.IsPadFile}, symlink {ours.IsSymlink}; libtorrent pad {their.Pad}, symlink {their.Symlink}");
            Assert.True(ours.IsExecutable == their.Executable && ours.IsHidden == their.Hidden, $"{what}: attributes differ from libtorrent's");
            if (!(v2Only && ours.Length == 0))
            {
                Assert.True(ours.Offset == their.Offset, $"{what}: at {ours.Offset}, libtorrent {their.Offset}");
            }

            string? target = ours.SymlinkTarget is { } t ? lt.Name + "/" + t : null;
            Assert.True(target == their.Target, $"{what}: symlink to '{target}', libtorrent '{their.Target}'");
        }
    }
}
