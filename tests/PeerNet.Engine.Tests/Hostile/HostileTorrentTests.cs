using System.Text.Json;
using PeerNet.Engine.Tests.FuzzCorpus;
using PeerNet.Engine.Tests.Storage;
using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Hostile;

/// <summary>
/// The hostile-torrent corpus (tests/data/hostile-torrents, written by its generate.py): each file parses to
/// exactly the outcome its manifest entry names, and every torrent that parses, stored for real, writes
/// nothing outside its download root — not even through a symbolic link planted in the root.
/// </summary>
public sealed class HostileTorrentTests
{
    private const int Block = 16 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<IReadOnlyDictionary<string, Expected>> ManifestLazy = new(LoadManifest);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Folder => RepositoryFiles.Combine("tests", "data", "hostile-torrents");

    private static IReadOnlyDictionary<string, Expected> Manifest => ManifestLazy.Value;

    public static TheoryData<string> AllFiles => [.. Manifest.Keys];

    public static TheoryData<string> ParsedFiles => [.. Manifest.Where(e => e.Value.Paths is not null).Select(e => e.Key)];

    [Fact]
    public void Manifest_ListsEveryTorrentInTheFolder_AtLeastForty()
    {
        string[] onDisk = [.. Directory.GetFiles(Folder, "*.torrent").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(onDisk, Manifest.Keys.Order(StringComparer.Ordinal));
        Assert.True(onDisk.Length >= 40, $"only {onDisk.Length} hostile torrents");
        Assert.Contains(Manifest.Values, e => e.Paths is not null);
        Assert.Contains(Manifest.Values, e => e.Error is not null);
    }

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void HostileTorrent_Parses_ToExactlyItsExpectedOutcome(string file)
    {
        Expected expected = Manifest[file];
        bool parsed = TorrentMetainfo.TryParse(File.ReadAllBytes(Path.Combine(Folder, file)), out TorrentMetainfo? torrent, out MetainfoError error);
        if (expected.Error is { } code)
        {
            Assert.False(parsed, $"{file} ({expected.Attack}) was accepted; expected {code}");
            Assert.Equal(code, error.Code.ToString());
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
            return;
        }

        Assert.True(parsed, $"{file} ({expected.Attack}) was refused: {error}");
        Assert.NotNull(torrent);
        Assert.Equal(expected.Paths!, torrent.Files.Select(f => f.Path));
        foreach ((string path, string target) in expected.Symlinks)
        {
            Assert.Equal(target, Assert.Single(torrent.Files, f => f.Path == path).SymlinkTarget);
        }
    }

    [Theory]
    [MemberData(nameof(ParsedFiles))]
    public async Task ParsedHostileTorrent_StoredInFull_WritesNothingOutsideTheRoot(string file)
    {
        TorrentMetainfo torrent = TorrentMetainfo.Parse(File.ReadAllBytes(Path.Combine(Folder, file)));
        using var parent = new TempDirectory();
        string root = Path.Combine(parent.Path, "root");
        Directory.CreateDirectory(root);
        string[] before = Snapshot(parent.Path);

        await using (TorrentStorage storage = TorrentStorage.Open(torrent, root))
        {
            await WriteEveryPieceAsync(storage);
            storage.CreateEmptyFiles();
            await storage.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            for (int i = 0; i < torrent.Files.Count; i++)
            {
                Assert.StartsWith(root + Path.DirectorySeparatorChar, storage.GetFullPath(i), StringComparison.Ordinal);
            }

            for (int i = 0; i < torrent.Files.Count; i++)
            {
                TorrentFile f = torrent.Files[i];
                if (storage.Map.IsStored(i) || (f.Length == 0 && !f.IsPadFile && !f.IsSymlink))
                {
                    Assert.True(File.Exists(storage.GetFullPath(i)), $"'{f.Path}' was not created");
                }
            }
        }

        string[] created = [.. Snapshot(parent.Path).Except(before, StringComparer.Ordinal)];
        Assert.NotEmpty(created);
        Assert.All(created, path => Assert.StartsWith(root + Path.DirectorySeparatorChar, path, StringComparison.Ordinal));
        Assert.All(created, path => Assert.Null(new FileInfo(path).LinkTarget));
    }

    [Theory]
    [MemberData(nameof(ParsedFiles))]
    public Task ParsedHostileTorrent_WithALinkOutPlantedInTheRoot_IsRefusedAndWritesNothingOutside(string file)
        => AssertRefusedWithALinkPlantedAsync(file, (root, outside, first) =>
        {
            // The first folder (or the file itself) of the first stored file is a link to a folder outside the root.
            Directory.CreateSymbolicLink(Path.Combine(root, first), outside);
            return outside;
        });

    [Theory]
    [MemberData(nameof(ParsedFiles))]
    public Task ParsedHostileTorrent_WithALinkOutThroughALinkedFolderPlanted_IsRefusedAndWritesNothingOutside(string file)
        => AssertRefusedWithALinkPlantedAsync(file, (root, outside, first) =>
        {
            // The first segment links to root/.hop/inner, inside by its text; root/.hop is what leads out.
            string inner = Directory.CreateDirectory(Path.Combine(outside, "inner")).FullName;
            Directory.CreateSymbolicLink(Path.Combine(root, ".hop"), outside);
            Directory.CreateSymbolicLink(Path.Combine(root, first), Path.Combine(root, ".hop", "inner"));
            return inner;
        });

    /// <summary>
    /// Stores <paramref name="file"/> after <paramref name="plant"/>(root, outside, first segment of the first stored
    /// file) planted its links; expects the refusal, nothing new anywhere, and the folder it returns still empty.
    /// </summary>
    private static async Task AssertRefusedWithALinkPlantedAsync(string file, Func<string, string, string, string> plant)
    {
        TorrentMetainfo torrent = TorrentMetainfo.Parse(File.ReadAllBytes(Path.Combine(Folder, file)));
        using var parent = new TempDirectory();
        string root = Path.Combine(parent.Path, "root");
        string outside = Path.Combine(parent.Path, "outside");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(outside);
        TorrentFile victim = torrent.Files.First(f => f.Length > 0 && !f.IsPadFile && !f.IsSymlink);
        string mustStayEmpty = plant(root, outside, victim.Path.Split('/')[0]);
        string[] before = Snapshot(parent.Path);

        StorageException e = await Assert.ThrowsAsync<StorageException>(async () =>
        {
            await using TorrentStorage storage = TorrentStorage.Open(torrent, root);
            await WriteEveryPieceAsync(storage);
            storage.CreateEmptyFiles();
        });

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(mustStayEmpty));
        Assert.Equal(before, Snapshot(parent.Path));
    }

    private static async Task WriteEveryPieceAsync(TorrentStorage storage)
    {
        byte[] zeros = new byte[Block];
        for (int piece = 0; piece < storage.Map.PieceCount; piece++)
        {
            int size = storage.Map.GetPieceSize(piece);
            for (int begin = 0; begin < size; begin += Block)
            {
                await storage.WriteBlockAsync(piece, begin, zeros.AsMemory(0, Math.Min(Block, size - begin)), Ct).AsTask().WaitAsync(Timeout, Ct);
            }
        }
    }

    /// <summary>Every file, folder and link under <paramref name="folder"/>, without following links.</summary>
    private static string[] Snapshot(string folder) =>
        [.. Directory.EnumerateFileSystemEntries(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
            .Order(StringComparer.Ordinal)];

    private static Dictionary<string, Expected> LoadManifest()
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "manifest.json")));
        var result = new Dictionary<string, Expected>(StringComparer.Ordinal);
        foreach (JsonElement entry in json.RootElement.EnumerateArray())
        {
            string outcome = entry.GetProperty("outcome").GetString()!;
            var symlinks = new Dictionary<string, string>(StringComparer.Ordinal);
            if (entry.TryGetProperty("symlinks", out JsonElement links))
            {
                foreach (JsonProperty link in links.EnumerateObject())
                {
                    symlinks[link.Name] = link.Value.GetString()!;
                }
            }

            result.Add(entry.GetProperty("file").GetString()!, new Expected(
                entry.GetProperty("attack").GetString()!,
                outcome == "refused" ? entry.GetProperty("error").GetString() : null,
                outcome == "sanitized" ? [.. entry.GetProperty("paths").EnumerateArray().Select(p => p.GetString()!)] : null,
                symlinks));
            Assert.True(outcome is "refused" or "sanitized", $"unknown outcome '{outcome}'");
        }

        return result;
    }

    private sealed record Expected(string Attack, string? Error, string[]? Paths, Dictionary<string, string> Symlinks);
}
