using System.Security.Cryptography;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// A torrent to move through a swarm: random data in a folder named <see cref="SwarmContent.FolderName"/> (three files
/// of odd sizes, one in a subfolder) under <see cref="SourceParent"/>, and a .torrent of it made by libtorrent.
/// </summary>
internal sealed record SwarmTorrent(string TorrentPath, string SourceParent, string ContentPath, long TotalSize, long PieceLength, int PieceCount)
{
    /// <summary>Where the same content lands under a download folder.</summary>
    public string ContentIn(string downloadFolder) => Path.Combine(downloadFolder, SwarmContent.FolderName);
}

/// <summary>Random test data for transfers, and the byte-for-byte comparison of what arrived.</summary>
internal static class SwarmContent
{
    public const string FolderName = "swarm";

    /// <summary>Piece length of the swarm torrents: 32 KiB gives 128 pieces per 4 MiB.</summary>
    public const long PieceLength = 32 * 1024;

    /// <summary>Writes about <paramref name="totalSize"/> bytes of random data and has libtorrent make a torrent of it.</summary>
    public static async Task<SwarmTorrent> CreateAsync(TempDirectory temp, TorrentVersion version, long totalSize, CancellationToken cancellationToken)
    {
        string parent = temp.Combine("source");
        string content = Write(parent, totalSize, seed: unchecked((int)totalSize) ^ (int)version);
        string torrent = temp.Combine($"swarm-{Libtorrent.VersionArgument(version)}.torrent");
        await Libtorrent.CreateAsync(version, PieceLength, torrent, content, fileOrder: null, cancellationToken).ConfigureAwait(false);
        LtTorrentInfo info = await Libtorrent.InfoAsync(torrent, cancellationToken).ConfigureAwait(false);
        return new SwarmTorrent(torrent, parent, content, info.TotalSize, info.PieceLength, info.NumPieces);
    }

    /// <summary>
    /// Writes <c>parent/swarm/</c>: <c>a.bin</c> (about 60 %), <c>sub/b.bin</c> (the rest) and a 777-byte
    /// <c>c.txt</c>; sizes are odd so no file ends on a piece boundary. Returns the folder.
    /// </summary>
    public static string Write(string parent, long totalSize, int seed)
    {
        const int Small = 777;
        long first = (totalSize * 3 / 5) | 1;
        long second = totalSize - first - Small;
        ArgumentOutOfRangeException.ThrowIfLessThan(second, 1, nameof(totalSize));
        string root = Path.Combine(parent, FolderName);
        var random = new Random(seed);
        WriteRandom(Path.Combine(root, "a.bin"), first, random);
        WriteRandom(Path.Combine(root, "sub", "b.bin"), second, random);
        WriteRandom(Path.Combine(root, "c.txt"), Small, random);
        return root;
    }

    /// <summary>Every file under <paramref name="sourceRoot"/>, relative to it ('/' separators), in ordinal order.</summary>
    private static IReadOnlyList<string> Files(string sourceRoot)
        => [.. Directory.EnumerateFiles(sourceRoot, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(sourceRoot, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// True when every file under <paramref name="sourceRoot"/> exists under <paramref name="copyRoot"/> with the same
    /// SHA-256 (extra files there, such as pad files, are ignored). Sizes are compared first, so polling is cheap.
    /// </summary>
    public static bool IsIdentical(string sourceRoot, string copyRoot)
    {
        IReadOnlyList<string> files = Files(sourceRoot);
        foreach (string file in files)
        {
            var copy = new FileInfo(Path.Combine(copyRoot, file));
            if (!copy.Exists || copy.Length != new FileInfo(Path.Combine(sourceRoot, file)).Length)
            {
                return false;
            }
        }

        try
        {
            return files.All(file => Sha256(Path.Combine(sourceRoot, file)) == Sha256(Path.Combine(copyRoot, file)));
        }
        catch (IOException)
        {
            return false; // a client is still replacing the file
        }
    }

    /// <summary>Asserts that every file under <paramref name="sourceRoot"/> arrived byte for byte (SHA-256) under <paramref name="copyRoot"/>.</summary>
    public static void AssertIdentical(string sourceRoot, string copyRoot)
    {
        IReadOnlyList<string> files = Files(sourceRoot);
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            string copy = Path.Combine(copyRoot, file);
            Assert.True(File.Exists(copy), $"{copy} is missing");
            Assert.True(Sha256(Path.Combine(sourceRoot, file)) == Sha256(copy), $"{copy} differs from the source (SHA-256)");
        }
    }

    /// <summary>Polls (every 500 ms, at most <paramref name="timeout"/>) until the copy is identical.</summary>
    public static async Task<bool> WaitUntilIdenticalAsync(string sourceRoot, string copyRoot, TimeSpan timeout, Func<bool> stop, CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (IsIdentical(sourceRoot, copyRoot))
            {
                return true;
            }

            if (stop())
            {
                return IsIdentical(sourceRoot, copyRoot);
            }

            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }

        return IsIdentical(sourceRoot, copyRoot);
    }

    public static string Sha256(string path)
    {
        // Share everything: a peer may still have the file open for writing.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static void WriteRandom(string path, long size, Random random)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        byte[] buffer = new byte[64 * 1024];
        using FileStream stream = File.Create(path);
        for (long left = size; left > 0; left -= buffer.Length)
        {
            int count = (int)Math.Min(left, buffer.Length);
            random.NextBytes(buffer.AsSpan(0, count));
            stream.Write(buffer, 0, count);
        }
    }
}
