using System.Text;
using PeerNet.Bencode;

namespace PeerNet.Metainfo;

internal sealed partial class MetainfoParser
{
    /// <summary>
    /// Reads a BEP 52 file tree. Files come out in tree order, each non-empty file starting on a piece
    /// boundary ("each file's data begins at the start of a piece").
    /// </summary>
    private List<TorrentFile> ReadFileTree(BencodeNode tree, string name, long pieceLength, bool v1MultiFile, out bool multiFile)
    {
        RequireKind(tree, BencodeKind.Dictionary, "file tree");
        var files = new List<TorrentFile>();
        long offset = 0;

        // A tree whose only entry is a file is a single-file torrent: the file is stored as the name. A node
        // with a "" leaf and other entries is not a file (BEP 52: a file "must not have any sibling entries"):
        // leave it to the walk below, which refuses it. In a hybrid whose v1 part is a 'files' list the same
        // tree is a folder holding one file (as libtorrent writes and reads it), so it is walked too.
        if (!v1MultiFile && tree.Count == 1)
        {
            foreach (KeyValuePair<BencodeNode, BencodeNode> only in tree.Entries)
            {
                if (only.Value.IsDictionary && only.Value[""u8].Exists && only.Value.Count == 1)
                {
                    // As in WalkDirectory: a file node holds only its "" entry. Anything beside it would be a
                    // folder that this single-file shortcut silently dropped while it stays in the info-hash.
                    if (only.Value.Count != 1)
                    {
                        Fail(MetainfoErrorCode.Inconsistent, only.Value, $"'{only.Key.GetString()}' in 'file tree' is both a file and a folder");
                    }

                    multiFile = false;
                    files.Add(ReadLeaf(only.Value, name, ref offset, pieceLength));
                    return files;
                }
            }
        }

        multiFile = true;
        _pathBytes = 0;
        var path = new List<string>();
        WalkDirectory(tree, name, path, Encoding.UTF8.GetByteCount(name), files, ref offset, pieceLength);
        if (files.Count == 0)
        {
            Fail(MetainfoErrorCode.InvalidValue, tree, "'file tree' holds no files");
        }

        return files;
    }

    private void WalkDirectory(BencodeNode directory, string name, List<string> path, int pathBytes, List<TorrentFile> files, ref long offset, long pieceLength)
    {
        if (path.Count >= limits.MaxPathDepth)
        {
            Fail(MetainfoErrorCode.UnsafePath, directory, $"path is deeper than {limits.MaxPathDepth} folders");
        }

        foreach (KeyValuePair<BencodeNode, BencodeNode> entry in directory.Entries)
        {
            BencodeNode key = entry.Key;
            BencodeNode child = entry.Value;
            if (key.StringSpan.Length == 0)
            {
                Fail(MetainfoErrorCode.Inconsistent, key, "a folder in 'file tree' is also a file (empty key beside other names)");
            }

            string? segment = PathSanitizer.SanitizeSegment(key.StringSpan, limits, out string? error);
            if (segment is null)
            {
                Fail(MetainfoErrorCode.UnsafePath, key, $"unsafe path: {error ?? "segment '.' is not a name"}");
            }

            RequireKind(child, BencodeKind.Dictionary, "file tree entry");
            int bytes = pathBytes + 1 + Encoding.UTF8.GetByteCount(segment);
            if (bytes > limits.MaxPathBytes)
            {
                Fail(MetainfoErrorCode.UnsafePath, key, $"path is longer than {limits.MaxPathBytes} bytes");
            }

            path.Add(segment);
            if (child[""u8].Exists)
            {
                if (child.Count != 1)
                {
                    Fail(MetainfoErrorCode.Inconsistent, child, $"'{string.Join('/', path)}' is both a file and a folder");
                }

                if (files.Count >= limits.MaxFiles)
                {
                    Fail(MetainfoErrorCode.LimitExceeded, child, $"more than {limits.MaxFiles} files");
                }

                AddPathBytes(bytes, child);
                files.Add(ReadLeaf(child, name + "/" + string.Join('/', path), ref offset, pieceLength));
            }
            else
            {
                if (child.Count == 0)
                {
                    Fail(MetainfoErrorCode.InvalidValue, child, $"folder '{string.Join('/', path)}' in 'file tree' is empty");
                }

                WalkDirectory(child, name, path, bytes, files, ref offset, pieceLength);
            }

            path.RemoveAt(path.Count - 1);
        }
    }

    private static TorrentFile ReadLeaf(BencodeNode fileNode, string path, ref long offset, long pieceLength)
    {
        BencodeNode leaf = fileNode[""u8];
        RequireKind(leaf, BencodeKind.Dictionary, "file");
        BencodeNode lengthNode = leaf["length"u8];
        if (!lengthNode.Exists)
        {
            Fail(MetainfoErrorCode.MissingKey, leaf, $"file '{path}' has no 'length'");
        }

        long length = GetLength(lengthNode, "length");
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

            root = new Sha256Hash(rootNode.StringSpan);
            long aligned = AlignUp(offset, pieceLength);
            if (aligned < offset || aligned > long.MaxValue - length)
            {
                Fail(MetainfoErrorCode.InvalidValue, lengthNode, "file sizes add up to more than 2^63 bytes");
            }

            offset = aligned;
        }

        string attr = leaf["attr"u8].IsString ? leaf["attr"u8].GetString()! : "";
        var file = new TorrentFile(path, length, offset)
        {
            PiecesRoot = root,
            IsExecutable = attr.Contains('x', StringComparison.Ordinal),
            IsHidden = attr.Contains('h', StringComparison.Ordinal),
        };
        offset += length;
        return file;
    }

    private static long AlignUp(long offset, long pieceLength)
    {
        long rem = offset % pieceLength;
        return rem == 0 ? offset : offset + (pieceLength - rem);
    }

    /// <summary>
    /// Reads <c>piece layers</c> (outside the info dictionary, so absent from magnet-fetched metadata) and
    /// proves each layer hashes up to its file's pieces root. A file missing its layer is allowed: its
    /// hashes can be fetched from peers (BEP 52 hash request).
    /// </summary>
    private Dictionary<Sha256Hash, ReadOnlyMemory<byte>> ReadPieceLayers(List<TorrentFile> files, long pieceLength)
    {
        var result = new Dictionary<Sha256Hash, ReadOnlyMemory<byte>>();
        BencodeNode layers = root["piece layers"u8];
        if (!layers.Exists)
        {
            return result;
        }

        RequireKind(layers, BencodeKind.Dictionary, "piece layers");
        var byRoot = new Dictionary<Sha256Hash, BencodeNode>();
        foreach (KeyValuePair<BencodeNode, BencodeNode> entry in layers.Entries)
        {
            if (entry.Key.StringSpan.Length != Sha256Hash.Length)
            {
                Fail(MetainfoErrorCode.InvalidValue, entry.Key, "a 'piece layers' key is not a 32-byte pieces root");
            }

            if (byRoot.Count >= limits.MaxFiles)
            {
                Fail(MetainfoErrorCode.LimitExceeded, entry.Key, $"more than {limits.MaxFiles} piece layers");
            }

            byRoot[new Sha256Hash(entry.Key.StringSpan)] = entry.Value;
        }

        foreach (TorrentFile file in files)
        {
            if (file.PiecesRoot is not { } pieceRoot || file.Length <= pieceLength || !byRoot.TryGetValue(pieceRoot, out BencodeNode layer))
            {
                continue;
            }

            // Checked for every file, even when the root's layer is already verified: files that share a root
            // must also share a length, or the one layer would have the wrong number of hashes for one of them.
            RequireKind(layer, BencodeKind.String, "piece layers entry");
            long pieces = PiecesFor(file.Length, pieceLength);
            if (layer.StringSpan.Length != pieces * Sha256Hash.Length)
            {
                Fail(MetainfoErrorCode.Inconsistent, layer, $"piece layer of '{file.Path}' is {layer.StringSpan.Length} bytes, expected {pieces * Sha256Hash.Length}");
            }

            if (result.ContainsKey(pieceRoot))
            {
                continue; // identical files: the layer is verified once
            }

            var hashes = new Sha256Hash[pieces];
            for (int i = 0; i < hashes.Length; i++)
            {
                hashes[i] = new Sha256Hash(layer.StringSpan.Slice(i * Sha256Hash.Length, Sha256Hash.Length));
            }

            if (MerkleTree.RootFromPieceLayer(hashes, file.Length, pieceLength) != pieceRoot)
            {
                Fail(MetainfoErrorCode.Inconsistent, layer, $"piece layer of '{file.Path}' does not hash to its pieces root");
            }

            result[pieceRoot] = layer.StringMemory;
        }

        return result;
    }

    /// <summary>
    /// BEP 52 hybrids describe the same data twice; a torrent whose two descriptions disagree could make
    /// v1 and v2 peers write different files, so it is refused.
    /// </summary>
    private static void CheckHybridAgreement(BencodeNode info, List<TorrentFile> v1, bool v1Multi, List<TorrentFile> v2, bool v2Multi, long pieceLength)
    {
        if (v1Multi != v2Multi)
        {
            Fail(MetainfoErrorCode.Inconsistent, info, "v1 and v2 parts disagree on whether this is a single-file torrent");
        }

        int j = 0;
        long v1End = 0;
        foreach (TorrentFile file in v1)
        {
            v1End = file.Offset + file.Length;
            if (file.IsPadFile)
            {
                continue;
            }

            if (j >= v2.Count || v2[j].Path != file.Path || v2[j].Length != file.Length)
            {
                Fail(MetainfoErrorCode.Inconsistent, info, $"v1 file '{file.Path}' does not match the v2 file tree");
            }

            if (file.Length > 0 && file.Offset % pieceLength != 0)
            {
                Fail(MetainfoErrorCode.Inconsistent, info, $"v1 file '{file.Path}' does not start on a piece boundary as v2 requires");
            }

            j++;
        }

        if (j != v2.Count)
        {
            Fail(MetainfoErrorCode.Inconsistent, info, "the v2 file tree has files the v1 list lacks");
        }

        long v2End = v2[^1].Offset + v2[^1].Length;
        if (PiecesFor(v1End, pieceLength) != PiecesFor(v2End, pieceLength))
        {
            Fail(MetainfoErrorCode.Inconsistent, info, "v1 padding adds pieces the v2 file tree does not have");
        }
    }

    private static List<TorrentFile> MergeHybrid(List<TorrentFile> v1, List<TorrentFile> v2)
    {
        var merged = new List<TorrentFile>(v1.Count);
        int j = 0;
        foreach (TorrentFile file in v1)
        {
            if (file.IsPadFile)
            {
                merged.Add(file);
                continue;
            }

            merged.Add(new TorrentFile(file.Path, file.Length, file.Offset)
            {
                IsExecutable = file.IsExecutable,
                IsHidden = file.IsHidden,
                SymlinkTarget = file.SymlinkTarget,
                ModificationTime = file.ModificationTime,
                PiecesRoot = v2[j++].PiecesRoot,
            });
        }

        return merged;
    }
}
