using System.Text;
using PeerNet.Bencode;

namespace PeerNet.Metainfo;

internal sealed partial class MetainfoParser
{
    /// <summary>
    /// Reads a BEP 52 file tree as libtorrent's <c>extract_files2</c> does. Files come out in tree order, each
    /// non-empty file starting on a piece boundary ("each file's data begins at the start of a piece"). A tree
    /// whose only entry is a file, in a torrent without a v1 <c>files</c> list, is a single-file torrent named by
    /// that entry's key (not by <c>name</c>, as libtorrent names it).
    /// </summary>
    private List<TorrentFile> ReadFileTree(BencodeNode tree, string folder, long pieceLength, bool hasV1List, out bool multiFile)
    {
        RequireKind(tree, BencodeKind.Dictionary, "file tree");
        var files = new List<TorrentFile>();
        long offset = 0;
        if (!hasV1List && tree.Count == 1)
        {
            foreach (KeyValuePair<BencodeNode, BencodeNode> only in tree.Entries)
            {
                if (!only.Key.StringSpan.IsEmpty && IsFileNode(only.Value))
                {
                    string? name = PathSanitizer.SanitizeSegment(KeyElement(only.Key), limits, out _);
                    if (name is null)
                    {
                        Fail(MetainfoErrorCode.UnsafePath, only.Key, "the only file in 'file tree' has a name that is empty or cannot be made safe");
                    }

                    multiFile = false;
                    files.Add(ReadLeaf(only.Value[""u8], name, ref offset, pieceLength));
                    return files;
                }
            }
        }

        multiFile = true;
        _pathBytes = 0;
        WalkDirectory(tree, folder, 0, files, ref offset, pieceLength);
        if (files.Count == 0)
        {
            Fail(MetainfoErrorCode.InvalidValue, tree, "'file tree' holds no files");
        }

        return files;
    }

    /// <summary>A file's node holds only its <c>""</c> entry; one with anything beside it is a folder (whose "" key is refused).</summary>
    private static bool IsFileNode(BencodeNode node)
    {
        if (!node.IsDictionary)
        {
            return false;
        }

        int entries = 0;
        bool emptyKeyFirst = false;
        foreach (KeyValuePair<BencodeNode, BencodeNode> entry in node.Entries)
        {
            emptyKeyFirst |= entries == 0 && entry.Key.StringSpan.IsEmpty;
            if (++entries > 1)
            {
                return false;
            }
        }

        return emptyKeyFirst;
    }

    /// <summary>
    /// One folder of the tree. A key libtorrent drops (<c>.</c>, <c>..</c>, only separators) adds no element: a
    /// folder so named merges into its parent, and a file so named takes its folder's path (then renamed, as a
    /// file where a folder is). An empty folder holds nothing and is skipped, as libtorrent skips it.
    /// </summary>
    private void WalkDirectory(BencodeNode directory, string path, int depth, List<TorrentFile> files, ref long offset, long pieceLength)
    {
        if (depth >= limits.MaxPathDepth)
        {
            Fail(MetainfoErrorCode.UnsafePath, directory, $"path is deeper than {limits.MaxPathDepth} folders");
        }

        foreach (KeyValuePair<BencodeNode, BencodeNode> entry in directory.Entries)
        {
            BencodeNode key = entry.Key;
            BencodeNode child = entry.Value;
            if (key.StringSpan.IsEmpty)
            {
                Fail(MetainfoErrorCode.Inconsistent, key, "a folder in 'file tree' is also a file (empty key beside other names)");
            }

            RequireKind(child, BencodeKind.Dictionary, "file tree entry");
            string? segment = PathSanitizer.SanitizeSegment(KeyElement(key), limits, out string? error);
            if (error is not null)
            {
                Fail(MetainfoErrorCode.UnsafePath, key, $"unsafe path: {error}");
            }

            string childPath = segment is null ? path : path + "/" + segment;
            int bytes = Encoding.UTF8.GetByteCount(childPath);
            if (bytes > limits.MaxPathBytes)
            {
                Fail(MetainfoErrorCode.UnsafePath, key, $"path is longer than {limits.MaxPathBytes} bytes");
            }

            if (IsFileNode(child))
            {
                if (files.Count >= limits.MaxFiles)
                {
                    Fail(MetainfoErrorCode.LimitExceeded, child, $"more than {limits.MaxFiles} files");
                }

                AddPathBytes(bytes, child);
                files.Add(ReadLeaf(child[""u8], childPath, ref offset, pieceLength));
            }
            else
            {
                WalkDirectory(child, childPath, depth + 1, files, ref offset, pieceLength);
            }
        }
    }

    /// <summary>
    /// A file's <c>""</c> dictionary, as libtorrent's <c>extract_single_file2</c> reads it: a pad attribute is
    /// refused (v2 has no pad files, libtorrent refuses them); a symlink has no length and no root; any other
    /// non-empty file needs a 32-byte <c>pieces root</c> that is not all zeros (libtorrent's "no root hash").
    /// </summary>
    private TorrentFile ReadLeaf(BencodeNode leaf, string path, ref long offset, long pieceLength)
    {
        RequireKind(leaf, BencodeKind.Dictionary, "file");
        string attr = Attributes(leaf);
        if (attr.Contains('p', StringComparison.Ordinal))
        {
            Fail(MetainfoErrorCode.InvalidValue, leaf["attr"u8], $"file '{path}' in a v2 file tree has the pad attribute");
        }

        bool isSymlink = attr.Contains('l', StringComparison.Ordinal);
        long length = 0;
        BencodeNode lengthNode = leaf["length"u8];
        if (!isSymlink)
        {
            if (!lengthNode.Exists)
            {
                Fail(MetainfoErrorCode.MissingKey, leaf, $"file '{path}' has no 'length'");
            }

            length = GetLength(lengthNode, "length");
        }

        Sha256Hash? root = null;
        if (length > 0)
        {
            BencodeNode rootNode = leaf["pieces root"u8];
            if (!rootNode.Exists)
            {
                Fail(MetainfoErrorCode.MissingKey, leaf, $"file '{path}' has no 'pieces root'");
            }

            if (!rootNode.IsString || rootNode.StringSpan.Length != Sha256Hash.Length)
            {
                Fail(MetainfoErrorCode.InvalidValue, rootNode, $"'pieces root' of '{path}' is not 32 bytes");
            }

            if (!rootNode.StringSpan.ContainsAnyExcept((byte)0))
            {
                Fail(MetainfoErrorCode.InvalidValue, rootNode, $"'pieces root' of '{path}' is all zeros");
            }

            root = new Sha256Hash(rootNode.StringSpan);
            long aligned = AlignUp(offset, pieceLength);
            if (aligned < offset || aligned > long.MaxValue - length)
            {
                Fail(MetainfoErrorCode.InvalidValue, lengthNode, "file sizes add up to more than 2^63 bytes");
            }

            offset = aligned;
        }

        var file = new TorrentFile(path, length, offset)
        {
            PiecesRoot = root,
            IsExecutable = attr.Contains('x', StringComparison.Ordinal),
            IsHidden = attr.Contains('h', StringComparison.Ordinal),
            SymlinkTarget = isSymlink ? ReadSymlinkTarget(leaf) : null,
            ModificationTime = leaf["mtime"u8].TryGetInt64(out long mtime) ? mtime : null,
        };
        offset += length;
        return file;
    }

    /// <summary>
    /// A file tree key as libtorrent sanitizes it: without its leading '/' characters, so <c>/</c> alone becomes
    /// an empty element (<c>_</c>) rather than a dropped one.
    /// </summary>
    private static ReadOnlySpan<byte> KeyElement(BencodeNode key) => key.StringSpan.TrimStart((byte)'/');

    private static long AlignUp(long offset, long pieceLength)
    {
        long rem = offset % pieceLength;
        return rem == 0 ? offset : offset + (pieceLength - rem);
    }
}
