using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests.SelfTests;

/// <summary>The oracle scripts themselves, checked against libtorrent and mktorrent without any PeerNet code.</summary>
public sealed class LibtorrentScriptTests
{
    private const long PieceLength = 16384;

    [Fact(Timeout = 60_000)]
    public async Task RunJsonAsync_ScriptPrintsJson_Deserializes()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        using var temp = new TempDirectory("json");
        string script = temp.Combine("hashes.py");
        await File.WriteAllTextAsync(script, "import json, sys\nprint(json.dumps({'info_hash_v1': sys.argv[1], 'info_hash_v2': None}))\n", TestContext.Current.CancellationToken);

        LtHashes hashes = await PythonScripts.RunJsonAsync<LtHashes>(script, ["abc"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(new LtHashes("abc", null), hashes);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunJsonAsync_ScriptPrintsGarbage_ThrowsWithOutput()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        using var temp = new TempDirectory("json");
        string script = temp.Combine("garbage.py");
        await File.WriteAllTextAsync(script, "print('not json at all')\n", TestContext.Current.CancellationToken);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(
            () => PythonScripts.RunJsonAsync<LtHashes>(script, [], cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("not json at all", e.Message, StringComparison.Ordinal);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task LtCreate_MultiFile_LtInfoAgreesAndLtCheckFindsDataComplete(TorrentVersion version)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("lt-create");
        string source = TestContent.Write(ContentSet.MultiFile, temp.Combine("src"));
        string torrent = temp.Combine("lt.torrent");

        LtHashes created = await Libtorrent.CreateAsync(version, PieceLength, torrent, source, fileOrder: null, ct);
        LtTorrentInfo info = await Libtorrent.InfoAsync(torrent, ct);
        LtCheckResult check = await Libtorrent.CheckAsync(torrent, temp.Combine("src"), ct);

        Assert.Equal(Libtorrent.VersionArgument(version), info.Version);
        Assert.Equal(created.InfoHashV1, info.InfoHashV1);
        Assert.Equal(created.InfoHashV2, info.InfoHashV2);
        Assert.Equal(version != TorrentVersion.V2, info.InfoHashV1 is { Length: 40 });
        Assert.Equal(version != TorrentVersion.V1, info.InfoHashV2 is { Length: 64 });
        Assert.Equal(TestContent.FolderName, info.Name);
        Assert.Equal(TestContent.MultiFileEntries.Sum(e => (long)e.Size), info.TotalSize);
        Assert.Equal(PieceLength, info.PieceLength);
        Assert.Equal(
            TestContent.MultiFileEntries.Select(e => $"{TestContent.FolderName}/{e.Path}").Order(StringComparer.Ordinal),
            info.Files.Where(f => !f.Pad).Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.True(info.Files.Single(f => f.Path.EndsWith("/run.sh", StringComparison.Ordinal)).Executable, "libtorrent did not record tools/run.sh as executable");
        Assert.True(check.IsComplete, $"libtorrent's check: {check}");
        Assert.Empty(check.Errors);
    }

    [Fact(Timeout = 120_000)]
    public async Task LtCreate_V1WithFileOrder_KeepsThatOrder()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("lt-order");
        string source = TestContent.Write(ContentSet.MultiFile, temp.Combine("src"));
        string[] order = [.. TestContent.MultiFileEntries.Select(e => $"{TestContent.FolderName}/{e.Path}").Reverse()];

        await Libtorrent.CreateAsync(TorrentVersion.V1, PieceLength, temp.Combine("lt.torrent"), source, order, ct);
        LtTorrentInfo info = await Libtorrent.InfoAsync(temp.Combine("lt.torrent"), ct);

        Assert.Equal(order, info.Files.Select(f => f.Path));
        Assert.DoesNotContain(info.Files, f => f.Pad);
    }

    [Fact(Timeout = 120_000)]
    public async Task LtCheck_CorruptedByte_ReportsOnePieceMissing()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("lt-corrupt");
        string source = TestContent.Write(ContentSet.SingleFile, temp.Combine("src"));
        string torrent = temp.Combine("lt.torrent");
        await Libtorrent.CreateAsync(TorrentVersion.Hybrid, PieceLength, torrent, source, fileOrder: null, ct);

        byte[] data = await File.ReadAllBytesAsync(source, ct);
        data[50_000] ^= 0xFF;
        await File.WriteAllBytesAsync(source, data, ct);

        LtCheckResult check = await Libtorrent.CheckAsync(torrent, temp.Combine("src"), ct);

        Assert.Equal(check.NumPieces - 1, check.PiecesHave);
        Assert.False(check.IsSeeding);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(ContentSet.SingleFile)]
    [InlineData(ContentSet.MultiFile)]
    public async Task Mktorrent_V1_LtInfoReadsIt(ContentSet content)
    {
        ToolInfo mktorrent = ReferenceTools.Require(ReferenceTool.Mktorrent);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("mktorrent");
        string source = TestContent.Write(content, temp.Combine("src"));
        string torrent = temp.Combine("mk.torrent");

        await ProcessRunner.RunAsync(mktorrent.Path!, ["-l", "15", "-o", torrent, source], TimeSpan.FromSeconds(60), cancellationToken: ct);
        LtTorrentInfo info = await Libtorrent.InfoAsync(torrent, ct);
        LtCheckResult check = await Libtorrent.CheckAsync(torrent, temp.Combine("src"), ct);

        Assert.Equal("v1", info.Version);
        Assert.Equal(32768, info.PieceLength);
        Assert.Equal(Path.GetFileName(source), info.Name);
        Assert.True(check.IsComplete, $"libtorrent's check: {check}");
    }
}
