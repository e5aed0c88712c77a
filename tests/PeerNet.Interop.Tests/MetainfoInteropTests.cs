using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// PeerNet's torrent creator and metainfo parser against libtorrent 2.0 (the oracle) and mktorrent: same info-hashes,
/// names, sizes and file lists both ways, and libtorrent finds the data behind our torrents complete.
/// </summary>
public sealed class MetainfoInteropTests
{
    private const long PieceLength = 16384;
    private const int TestTimeout = 180_000;

    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(60);

    // --- 1. Torrents created by PeerNet, read and re-created by libtorrent ---------------------------------------

    [Fact(Timeout = TestTimeout)]
    public Task PeerNetCreated_V1_SingleFile_MatchesLibtorrent() => PeerNetCreatedMatchesLibtorrentAsync(TorrentVersion.V1, ContentSet.SingleFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task PeerNetCreated_V1_MultiFile_MatchesLibtorrent() => PeerNetCreatedMatchesLibtorrentAsync(TorrentVersion.V1, ContentSet.MultiFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task PeerNetCreated_V2_SingleFile_MatchesLibtorrent() => PeerNetCreatedMatchesLibtorrentAsync(TorrentVersion.V2, ContentSet.SingleFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task PeerNetCreated_V2_MultiFile_MatchesLibtorrent() => PeerNetCreatedMatchesLibtorrentAsync(TorrentVersion.V2, ContentSet.MultiFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task PeerNetCreated_Hybrid_SingleFile_MatchesLibtorrent() => PeerNetCreatedMatchesLibtorrentAsync(TorrentVersion.Hybrid, ContentSet.SingleFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task PeerNetCreated_Hybrid_MultiFile_MatchesLibtorrent() => PeerNetCreatedMatchesLibtorrentAsync(TorrentVersion.Hybrid, ContentSet.MultiFile, TestContext.Current.CancellationToken);

    // --- 2. Torrents created by libtorrent and mktorrent, parsed by PeerNet ----------------------------------------

    [Fact(Timeout = TestTimeout)]
    public Task LibtorrentCreated_V1_SingleFile_ParsesIdentically() => LibtorrentCreatedParsesIdenticallyAsync(TorrentVersion.V1, ContentSet.SingleFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task LibtorrentCreated_V1_MultiFile_ParsesIdentically() => LibtorrentCreatedParsesIdenticallyAsync(TorrentVersion.V1, ContentSet.MultiFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task LibtorrentCreated_V2_SingleFile_ParsesIdentically() => LibtorrentCreatedParsesIdenticallyAsync(TorrentVersion.V2, ContentSet.SingleFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task LibtorrentCreated_V2_MultiFile_ParsesIdentically() => LibtorrentCreatedParsesIdenticallyAsync(TorrentVersion.V2, ContentSet.MultiFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task LibtorrentCreated_Hybrid_SingleFile_ParsesIdentically() => LibtorrentCreatedParsesIdenticallyAsync(TorrentVersion.Hybrid, ContentSet.SingleFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task LibtorrentCreated_Hybrid_MultiFile_ParsesIdentically() => LibtorrentCreatedParsesIdenticallyAsync(TorrentVersion.Hybrid, ContentSet.MultiFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task MktorrentCreated_V1_SingleFile_ParsesIdentically() => MktorrentCreatedParsesIdenticallyAsync(ContentSet.SingleFile, TestContext.Current.CancellationToken);

    [Fact(Timeout = TestTimeout)]
    public Task MktorrentCreated_V1_MultiFile_ParsesIdentically() => MktorrentCreatedParsesIdenticallyAsync(ContentSet.MultiFile, TestContext.Current.CancellationToken);

    private static async Task PeerNetCreatedMatchesLibtorrentAsync(TorrentVersion version, ContentSet content, CancellationToken ct)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        using var temp = new TempDirectory($"peernet-{version}-{content}");
        string saveDirectory = temp.Combine("src");
        string source = TestContent.Write(content, saveDirectory);
        string ours = temp.Combine("peernet.torrent");

        byte[] encoded = await TorrentCreator.CreateAsync(
            new TorrentCreationOptions { SourcePath = source, Version = version, PieceLength = PieceLength, CreationDate = null },
            cancellationToken: ct).WaitAsync(CreateTimeout, ct);
        await File.WriteAllBytesAsync(ours, encoded, ct);
        TorrentMetainfo parsed = TorrentMetainfo.Parse(encoded);
        Assert.Equal(version, parsed.Version);

        // libtorrent reads our torrent as we do.
        LtTorrentInfo info = await Libtorrent.InfoAsync(ours, ct);
        AssertSameTorrent(info, parsed);

        // libtorrent, given the same files in the order we emitted them, produces the same info-hashes. (It keeps the
        // order for v1; for v2 and hybrid it always sorts canonically, so those prove our canonical order too.)
        string[] order = [.. parsed.Files.Where(f => !f.IsPadFile).Select(f => f.Path)];
        LtHashes theirs = await Libtorrent.CreateAsync(version, PieceLength, temp.Combine("libtorrent.torrent"), source, order, ct);
        Assert.Equal(theirs.InfoHashV1, info.InfoHashV1);
        Assert.Equal(theirs.InfoHashV2, info.InfoHashV2);

        // libtorrent finds the data behind our torrent complete: every piece hash (and v2 merkle root) is right.
        LtCheckResult check = await Libtorrent.CheckAsync(ours, saveDirectory, ct);
        Assert.True(check.IsComplete, $"libtorrent found {check.PiecesHave} of {check.NumPieces} pieces of our torrent's data: {check}");
    }

    private static async Task LibtorrentCreatedParsesIdenticallyAsync(TorrentVersion version, ContentSet content, CancellationToken ct)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        using var temp = new TempDirectory($"libtorrent-{version}-{content}");
        string source = TestContent.Write(content, temp.Combine("src"));
        string path = temp.Combine("libtorrent.torrent");

        LtHashes created = await Libtorrent.CreateAsync(version, PieceLength, path, source, fileOrder: null, ct);
        LtTorrentInfo info = await Libtorrent.InfoAsync(path, ct);
        TorrentMetainfo parsed = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(path, ct));

        Assert.Equal(created.InfoHashV1, info.InfoHashV1);
        Assert.Equal(created.InfoHashV2, info.InfoHashV2);
        Assert.Equal(version, parsed.Version);
        AssertSameTorrent(info, parsed);
    }

    private static async Task MktorrentCreatedParsesIdenticallyAsync(ContentSet content, CancellationToken ct)
    {
        ToolInfo mktorrent = ReferenceTools.Require(ReferenceTool.Mktorrent);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        using var temp = new TempDirectory($"mktorrent-{content}");
        string source = TestContent.Write(content, temp.Combine("src"));
        string path = temp.Combine("mktorrent.torrent");

        // -l 15: 2^15-byte pieces.
        await ProcessRunner.RunAsync(mktorrent.Path!, ["-l", "15", "-o", path, source], TimeSpan.FromSeconds(60), cancellationToken: ct);
        LtTorrentInfo info = await Libtorrent.InfoAsync(path, ct);
        TorrentMetainfo parsed = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(path, ct));

        Assert.Equal(TorrentVersion.V1, parsed.Version);
        Assert.Equal(32768, parsed.PieceLength);
        AssertSameTorrent(info, parsed);
    }

    /// <summary>libtorrent's view of a torrent and PeerNet's agree on everything both expose.</summary>
    private static void AssertSameTorrent(LtTorrentInfo expected, TorrentMetainfo actual)
    {
        Assert.Equal(expected.InfoHashV1, actual.InfoHashes.V1?.ToString());
        Assert.Equal(expected.InfoHashV2, actual.InfoHashes.V2?.ToString());
        Assert.Equal(Libtorrent.ParseVersion(expected.Version), actual.Version);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.TotalSize, actual.TotalSize);
        Assert.Equal(expected.PieceLength, actual.PieceLength);
        Assert.Equal(expected.NumPieces, actual.PieceCount);

        // In v1 and hybrid torrents pad files are entries of the metainfo's file list, so both lists hold the same
        // ones. A v2-only torrent has none: libtorrent synthesizes pads to align files, which are not in the metainfo.
        bool v2Only = actual.Version == TorrentVersion.V2;
        LtFile[] expectedFiles = [.. expected.Files.Where(f => !(v2Only && f.Pad))];
        LtFile[] actualFiles = [.. actual.Files.Select(f => new LtFile(f.Path, f.Length, f.IsPadFile, f.IsExecutable))];
        Assert.Equal(expectedFiles, actualFiles);
    }
}
