using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>
/// Every file of the compat-torrent corpus parses to exactly the reading its manifest names (without libtorrent;
/// CompatCorpusInteropTests checks the same files against python3-libtorrent), whole and as BEP 9 metadata.
/// </summary>
public sealed class MetainfoCompatCorpusTests
{
    public static TheoryData<string> AllFiles => [.. CompatCorpus.Cases.Select(c => c.File)];

    public static TheoryData<string> LoadedFiles => [.. CompatCorpus.Cases.Where(c => c.Loads).Select(c => c.File)];

    [Fact]
    public void Manifest_ListsEveryTorrentInTheFolder_LoadedAndRefused()
    {
        string[] onDisk = [.. Directory.GetFiles(CompatCorpus.Folder, "*.torrent").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(onDisk, CompatCorpus.Cases.Select(c => c.File).Order(StringComparer.Ordinal));
        Assert.True(onDisk.Length >= 60, $"only {onDisk.Length} compat torrents");
        Assert.Contains(CompatCorpus.Cases, c => c.Loads);
        Assert.Contains(CompatCorpus.Cases, c => !c.Loads);
        Assert.All(CompatCorpus.Cases, c => Assert.True(c.Loads ? c.Files is { Count: > 0 } : c.Error is not null, c.File));
    }

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void CompatTorrent_Parses_ToExactlyItsManifestReading(string file)
    {
        CompatCase expected = CompatCorpus.Get(file);
        bool parsed = TorrentMetainfo.TryParse(CompatCorpus.Read(file), out TorrentMetainfo? torrent, out MetainfoError error);
        if (!expected.Loads)
        {
            Assert.False(parsed, $"{file} ({expected.Case}) was accepted; expected {expected.Error}");
            Assert.Equal(expected.Error, error.Code.ToString());
            return;
        }

        Assert.True(parsed, $"{file} ({expected.Case}) was refused: {error}");
        AssertReading(expected, torrent!);
    }

    [Theory]
    [MemberData(nameof(LoadedFiles))]
    public void CompatTorrent_InfoDictionaryAlone_ParsesToTheSameFiles(string file)
    {
        // BEP 9 metadata is these same info bytes; a magnet must load what the .torrent loads.
        TorrentMetainfo whole = TorrentMetainfo.Parse(CompatCorpus.Read(file));
        Assert.True(TorrentMetainfo.TryParseInfoDictionary(whole.InfoBytes, out TorrentMetainfo? info, out MetainfoError error), error.ToString());
        AssertReading(CompatCorpus.Get(file), info);
    }

    private static void AssertReading(CompatCase expected, TorrentMetainfo actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Version, actual.Version switch { TorrentVersion.V1 => "v1", TorrentVersion.V2 => "v2", _ => "hybrid" });
        Assert.Equal(expected.PieceLength, actual.PieceLength);
        Assert.Equal(expected.PieceCount, actual.PieceCount);
        Assert.Equal(expected.TotalSize, actual.TotalSize);
        Assert.Equal(expected.InfoHashV1, actual.InfoHashes.V1?.ToString());
        Assert.Equal(expected.InfoHashV2, actual.InfoHashes.V2?.ToString());
        Assert.Equal(expected.Files!, actual.Files.Select(f => new CompatFile(f.Path, f.Length, f.Offset, f.IsPadFile, f.SymlinkTarget, f.IsExecutable, f.IsHidden)));
    }
}
