using System.Security.Cryptography;
using System.Text;
using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

/// <summary>
/// Symlink and pad entries as torrents in the wild carry them (read as libtorrent reads them): storage lists them
/// but never creates them, never writes through them, and lays the data of the other files where libtorrent does,
/// so the piece hashes verify.
/// </summary>
public sealed class LinkAndPadEntryTests
{
    private const int PieceLength = 16384;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task V1SymlinkWithALength_AndAPadWithoutAPath_StoreTheFilesWhereTheHashesSayAndCreateNeitherEntry()
    {
        // a (10) | link -> a, 'length' 7 (no bytes) | pad without a path (16374) | b (20)
        byte[] a = Bytes(10, 1);
        byte[] b = Bytes(20, 2);
        byte[] space = [.. a, .. new byte[PieceLength - 10], .. b];
        string files = "l"
            + "d6:lengthi10e4:pathl1:aee"
            + "d4:attr1:l6:lengthi7e4:pathl4:linke12:symlink pathl1:aee"
            + "d4:attr1:p6:lengthi16374ee"
            + "d6:lengthi20e4:pathl1:bee"
            + "e";
        TorrentMetainfo torrent = TorrentMetainfo.Parse(Torrent(files, space));
        Assert.Equal(["t/a", "t/link", ".pad/16374", "t/b"], torrent.Files.Select(f => f.Path));
        Assert.True(torrent.Files[1].IsSymlink);
        Assert.True(torrent.Files[2].IsPadFile);
        Assert.Equal(PieceLength, torrent.Files[3].Offset);

        using var parent = new TempDirectory();
        string root = Path.Combine(parent.Path, "root");
        string outside = Directory.CreateDirectory(Path.Combine(parent.Path, "outside")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "t"));

        // A link planted where the symlink entry would be: never followed, since the entry is never opened.
        File.CreateSymbolicLink(Path.Combine(root, "t", "link"), Path.Combine(outside, "victim"));

        await using (TorrentStorage storage = TorrentStorage.Open(torrent, root))
        {
            for (int piece = 0; piece < torrent.PieceCount; piece++)
            {
                int size = storage.Map.GetPieceSize(piece);
                await storage.WriteBlockAsync(piece, 0, space.AsMemory(piece * PieceLength, size), Ct).AsTask().WaitAsync(Timeout, Ct);
            }

            storage.CreateEmptyFiles();
            await storage.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);

            var verifier = new PieceVerifier(storage.Map);
            for (int piece = 0; piece < torrent.PieceCount; piece++)
            {
                Assert.True(verifier.VerifyStored(piece, storage).Verdict == PieceVerdict.Good, $"piece {piece} does not verify");
            }
        }

        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(root, "t", "a"), Ct));
        Assert.Equal(b, await File.ReadAllBytesAsync(Path.Combine(root, "t", "b"), Ct));
        Assert.Equal(Path.Combine(outside, "victim"), new FileInfo(Path.Combine(root, "t", "link")).LinkTarget);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.False(Directory.Exists(Path.Combine(root, ".pad")));
        Assert.Equal(["a", "b", "link"], Directory.EnumerateFileSystemEntries(Path.Combine(root, "t")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task V2SymlinkEntry_IsListedButNeverCreated()
    {
        byte[] a = Bytes(10, 3);
        byte[] root = SHA256.HashData(a); // one block: its hash is the root
        string tree = "d1:ad0:d6:lengthi10e11:pieces root32:" + Encoding.Latin1.GetString(root) + "ee"
            + "1:ld0:d4:attr1:l12:symlink pathl1:aeeee";
        byte[] data = Encoding.Latin1.GetBytes($"d4:infod9:file tree{tree}12:meta versioni2e4:name1:t12:piece lengthi{PieceLength}eee");
        TorrentMetainfo torrent = TorrentMetainfo.Parse(data);
        Assert.Equal(("t/l", 0L, "a"), (torrent.Files[1].Path, torrent.Files[1].Length, torrent.Files[1].SymlinkTarget));

        using var dir = new TempDirectory();
        await using (TorrentStorage storage = TorrentStorage.Open(torrent, dir.Path))
        {
            await storage.WriteBlockAsync(0, 0, a, Ct).AsTask().WaitAsync(Timeout, Ct);
            storage.CreateEmptyFiles();
            await storage.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.Equal(PieceVerdict.Good, new PieceVerifier(storage.Map).VerifyStored(0, storage).Verdict);
        }

        Assert.Equal(["a"], Directory.EnumerateFileSystemEntries(Path.Combine(dir.Path, "t")).Select(Path.GetFileName));
    }

    private static byte[] Torrent(string files, byte[] space)
    {
        var pieces = new StringBuilder();
        for (int offset = 0; offset < space.Length; offset += PieceLength)
        {
            pieces.Append(Encoding.Latin1.GetString(SHA1.HashData(space.AsSpan(offset, Math.Min(PieceLength, space.Length - offset)))));
        }

        return Encoding.Latin1.GetBytes($"d4:infod5:files{files}4:name1:t12:piece lengthi{PieceLength}e6:pieces{pieces.Length}:{pieces}ee");
    }

    private static byte[] Bytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
