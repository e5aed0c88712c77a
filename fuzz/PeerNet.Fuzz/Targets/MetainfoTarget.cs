using System.Security.Cryptography;
using PeerNet.Bencode;
using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="TorrentMetainfo.TryParse"/> (a .torrent read as libtorrent reads it): a refusal's message is safe to print
/// (<see cref="DisplayText"/>); a parsed torrent's every file path (and symlink target) is relative, safe and stays
/// under the download root, inside the name folder but for pad files and a file renamed beside it; sizes, offsets,
/// piece counts and hashes agree, the info-hashes are over bytes found verbatim in the input; no two stored files
/// collide (even ignoring case: libtorrent's renaming leaves none); a symlink has no bytes; its info dictionary
/// alone parses to the same files; and the storage layer accepts it (<see cref="PieceMap"/>,
/// <see cref="StoragePaths.Resolve"/>) without throwing.
/// </summary>
public static class MetainfoTarget
{
    private const int MaxPathBytes = 255 + 1 + 4096;

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        if (!TorrentMetainfo.TryParse(input, out TorrentMetainfo? torrent, out MetainfoError error))
        {
            Check.That(error.Code != MetainfoErrorCode.None && !string.IsNullOrEmpty(error.Message), "refused with no error");
            Check.That(DisplayText.IndexOfUnsafe(error.ToString()) < 0, $"the refusal holds a control or bidi character: {error.Code}");
            return;
        }

        CheckTorrent(torrent);
        Check.That(input.AsSpan().IndexOf(torrent.InfoBytes.Span) >= 0, "the info bytes are not found verbatim in the input");

        Check.That(TorrentMetainfo.TryParseInfoDictionary(torrent.InfoBytes, out TorrentMetainfo? info, out MetainfoError infoError), $"its own info dictionary is refused: {infoError}");
        Check.Equal(torrent.InfoHashes, info.InfoHashes, "info-hashes of the info dictionary alone");
        Check.SequenceEqual(torrent.Files.Select(f => $"{f.Path}:{f.Length}@{f.Offset}"), info.Files.Select(f => $"{f.Path}:{f.Length}@{f.Offset}"), "files of the info dictionary alone");

        var map = new PieceMap(torrent);
        Check.Equal(torrent.PieceCount, map.PieceCount, "PieceMap piece count");
        for (int i = 0; i < torrent.Files.Count; i++)
        {
            if (map.IsStored(i))
            {
                string full = StoragePaths.Resolve(PathRules.Root, torrent.Files[i].Path);
                Check.That(full.StartsWith(PathRules.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"storage path '{full}' is outside the root");
            }
        }
    }

    /// <summary>Every file a v2 file tree declares (a "" key at any depth): each must come out as a file.</summary>
    private static int CountLeaves(BencodeNode directory)
    {
        int count = 0;
        foreach ((BencodeNode key, BencodeNode value) in directory.Entries)
        {
            count += key.StringSpan.IsEmpty ? 1 : CountLeaves(value);
        }

        return count;
    }

    private static void CheckTorrent(TorrentMetainfo t)
    {
        PathRules.CheckRelativePath(t.Name, "name", 255);
        Check.That(!t.Name.Contains('/', StringComparison.Ordinal), "name has a '/'");
        Check.That(t.PieceLength > 0 && t.PieceLength <= MetainfoLimits.Default.MaxPieceLength, $"piece length {t.PieceLength}");
        Check.That(t.PieceCount >= 1 && t.PieceCount <= MetainfoLimits.Default.MaxPieces, $"piece count {t.PieceCount}");
        Check.Equal((t.PieceSpaceSize + t.PieceLength - 1) / t.PieceLength, (long)t.PieceCount, "piece count from the piece space");
        long last = t.GetPieceSize(t.PieceCount - 1);
        Check.That(last > 0 && last <= t.PieceLength, $"last piece is {last} bytes");
        Check.That(t.Files.Count > 0, "no files");
        Check.That(t.IsMultiFile || t.Files.Count(f => !f.IsPadFile) == 1, "a single-file torrent with several files");

        bool hasV1 = t.Version is TorrentVersion.V1 or TorrentVersion.Hybrid;
        bool hasV2 = t.Version is TorrentVersion.V2 or TorrentVersion.Hybrid;
        Check.Equal(hasV1, t.InfoHashes.V1 is not null, "v1 info-hash present");
        Check.Equal(hasV2, t.InfoHashes.V2 is not null, "v2 info-hash present");
        if (t.InfoHashes.V1 is { } v1)
        {
            Check.Bytes(SHA1.HashData(t.InfoBytes.Span), v1.ToArray(), "v1 info-hash");
            Check.Equal((long)t.PieceCount * 20, (long)t.PieceHashesV1.Length, "'pieces' length");
        }

        if (t.InfoHashes.V2 is { } v2)
        {
            Check.Bytes(SHA256.HashData(t.InfoBytes.Span), v2.ToArray(), "v2 info-hash");
        }

        long total = 0;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (TorrentFile f in t.Files)
        {
            PathRules.CheckRelativePath(f.Path, "file path", MaxPathBytes);
            // A pad file without a path is '.pad/N' (as libtorrent names it); a v2 file whose key dropped out entirely is
            // renamed beside the name folder. Every other file is inside it.
            bool inside = t.IsMultiFile ? f.Path.StartsWith(t.Name + "/", StringComparison.Ordinal) : f.Path == t.Name;
            Check.That(inside || f.IsPadFile || (t.IsMultiFile && !f.Path.Contains('/', StringComparison.Ordinal) && f.Path != t.Name), $"file '{f.Path}' is not under the name '{t.Name}'");
            Check.That(f.Length >= 0 && f.Offset >= 0 && f.Offset <= t.PieceSpaceSize - f.Length, $"file '{f.Path}' spans {f.Offset}+{f.Length} of {t.PieceSpaceSize}");
            if (f.Length > 0)
            {
                Check.That(f.FirstPiece >= 0 && f.FirstPiece <= f.LastPiece && f.LastPiece < t.PieceCount, $"file '{f.Path}' pieces {f.FirstPiece}..{f.LastPiece} of {t.PieceCount}");
            }

            if (f.SymlinkTarget is { } target)
            {
                PathRules.CheckRelativePath(target, "symlink target", MaxPathBytes);
                Check.That(f.Length == 0 && f.PiecesRoot is null && !f.IsPadFile, $"symlink '{f.Path}' has bytes, a root or is a pad");
            }

            if (hasV2 && f.Length > 0 && !f.IsPadFile)
            {
                Check.That(f.PiecesRoot is not null, $"v2 file '{f.Path}' has no pieces root");
            }

            if (!f.IsPadFile)
            {
                total += f.Length;
                Check.That(seen.Add(f.Path), $"two files at '{f.Path}' (ignoring case)");
            }
        }

        Check.Equal(t.TotalSize, total, "total size");
        Check.That(total > 0, "no data");
        foreach (string path in seen)
        {
            for (int slash = path.IndexOf('/', StringComparison.Ordinal); slash >= 0; slash = path.IndexOf('/', slash + 1))
            {
                Check.That(!seen.Contains(path[..slash]), $"'{path[..slash]}' is a file and the folder of '{path}'");
            }
        }

        if (hasV2)
        {
            // Read as the parser read it: a v2 info dictionary has no soft error, but may hold i-0e.
            Check.That(BencodeDocument.TryParseTorrent(t.InfoBytes, out BencodeDocument? info, out _, out BencodeError error), $"the info bytes do not parse again: {error}");
            using (info)
            {
                Check.Equal(CountLeaves(info.Root["file tree"u8]), t.Files.Count(f => !f.IsPadFile), "files in the v2 file tree");
            }
        }

        foreach ((Sha256Hash root, ReadOnlyMemory<byte> layer) in t.PieceLayers)
        {
            Check.That(layer.Length > 0 && layer.Length % 32 == 0, $"piece layer of {root} is {layer.Length} bytes");
        }
    }
}
