using System.Diagnostics.CodeAnalysis;
using System.Text;
using PeerNet.Bencode;

namespace PeerNet.Metainfo;

/// <summary>
/// Validates one torrent's dictionary into a <see cref="TorrentMetainfo"/>. Every check that fails throws
/// a <see cref="MetainfoException"/> naming the key and the byte offset of the offending value.
/// </summary>
internal sealed partial class MetainfoParser(BencodeNode root, MetainfoLimits limits)
{
    private const long MinV2PieceLength = MerkleTree.BlockSize;

    private readonly List<string> _segments = [];

    /// <summary>UTF-8 bytes of the file paths read so far in the v1 list or the v2 tree (each part on its own).</summary>
    private long _pathBytes;

    public TorrentMetainfo Parse()
    {
        if (!root.IsDictionary)
        {
            Fail(MetainfoErrorCode.WrongType, root, "the file is not a dictionary");
        }

        BencodeNode info = root["info"u8];
        if (!info.Exists)
        {
            Fail(MetainfoErrorCode.MissingKey, root, "'info' is missing");
        }

        RequireKind(info, BencodeKind.Dictionary, "info");

        BencodeNode metaVersion = info["meta version"u8];
        bool hasV2 = false;
        if (metaVersion.Exists)
        {
            long version = GetInteger(metaVersion, "meta version");
            if (version != 2)
            {
                Fail(MetainfoErrorCode.UnsupportedVersion, metaVersion, $"'meta version' {version} is not supported (only 2)");
            }

            hasV2 = true;
        }

        bool hasV1 = info["pieces"u8].Exists;
        if (!hasV1 && !hasV2)
        {
            Fail(MetainfoErrorCode.MissingKey, info, "'pieces' is missing");
        }

        var torrent = new TorrentMetainfo
        {
            Version = (hasV1, hasV2) switch
            {
                (true, true) => TorrentVersion.Hybrid,
                (false, true) => TorrentVersion.V2,
                _ => TorrentVersion.V1,
            },
            InfoBytes = info.RawMemory,
        };

        torrent.InfoHashes = new InfoHashes(
            hasV1 ? Sha1Hash.Compute(info.RawSpan) : null,
            hasV2 ? Sha256Hash.Compute(info.RawSpan) : null);

        long pieceLength = ReadPieceLength(info, hasV2);
        torrent.PieceLength = pieceLength;
        torrent.Name = ReadName(info);

        List<TorrentFile>? v1Files = null;
        List<TorrentFile>? v2Files = null;
        bool v1MultiFile = false;
        bool v2MultiFile = false;
        if (hasV1)
        {
            v1Files = ReadV1Files(info, torrent.Name, out v1MultiFile);
        }

        if (hasV2)
        {
            BencodeNode tree = info["file tree"u8];
            if (!tree.Exists)
            {
                Fail(MetainfoErrorCode.MissingKey, info, "'file tree' is missing from a v2 torrent");
            }

            v2Files = ReadFileTree(tree, torrent.Name, pieceLength, v1MultiFile, out v2MultiFile);
        }

        List<TorrentFile> files;
        if (v1Files is not null && v2Files is not null)
        {
            CheckHybridAgreement(info, v1Files, v1MultiFile, v2Files, v2MultiFile, pieceLength);
            files = MergeHybrid(v1Files, v2Files);
            torrent.IsMultiFile = v1MultiFile;
        }
        else
        {
            files = v1Files ?? v2Files!;
            torrent.IsMultiFile = v1Files is not null ? v1MultiFile : v2MultiFile;
        }

        long totalSize = 0;
        long spaceSize = 0;
        foreach (TorrentFile file in files)
        {
            spaceSize = Math.Max(spaceSize, file.Offset + file.Length);
            if (!file.IsPadFile)
            {
                totalSize += file.Length;
            }
        }

        if (totalSize == 0)
        {
            Fail(MetainfoErrorCode.InvalidValue, info, "the torrent contains no data (every file is empty)");
        }

        long pieceCount = PiecesFor(spaceSize, pieceLength);
        if (pieceCount > limits.MaxPieces)
        {
            Fail(MetainfoErrorCode.LimitExceeded, info, $"{pieceCount} pieces is over the limit of {limits.MaxPieces}");
        }

        torrent.TotalSize = totalSize;
        torrent.PieceSpaceSize = spaceSize;
        torrent.PieceCount = (int)pieceCount;
        foreach (TorrentFile file in files)
        {
            file.FirstPiece = (int)(file.Offset / pieceLength);
            file.LastPiece = file.Length == 0 ? file.FirstPiece : (int)((file.Offset + file.Length - 1) / pieceLength);
        }

        CheckPathCollisions(files, info);
        torrent.Files = files;

        if (hasV1)
        {
            BencodeNode pieces = info["pieces"u8];
            RequireKind(pieces, BencodeKind.String, "pieces");
            int length = pieces.StringSpan.Length;
            if (length % Sha1Hash.Length != 0)
            {
                Fail(MetainfoErrorCode.InvalidValue, pieces, $"'pieces' is {length} bytes, not a multiple of 20");
            }

            if (length / Sha1Hash.Length != pieceCount)
            {
                Fail(MetainfoErrorCode.Inconsistent, pieces, $"'pieces' holds {length / Sha1Hash.Length} hashes but the files need {pieceCount} pieces");
            }

            torrent.PieceHashesV1 = pieces.StringMemory;
        }

        if (hasV2)
        {
            torrent.PieceLayers = ReadPieceLayers(files, pieceLength);
        }

        // BEP 27 writes private=1; any other non-zero integer is read as private too (as libtorrent does), since
        // the safe mistake is keeping a torrent off DHT and PEX, not leaking a private tracker's torrent to them.
        torrent.IsPrivate = info["private"u8].TryGetInt64(out long isPrivate) && isPrivate != 0;
        ReadOuterFields(torrent);
        return torrent;
    }

    /// <summary>
    /// Pieces needed for <paramref name="bytes"/> bytes: ceil(bytes / pieceLength) without the overflow of
    /// <c>(bytes + pieceLength - 1) / pieceLength</c>, which turned a file near 2^63 bytes into a negative
    /// count that slipped under <see cref="MetainfoLimits.MaxPieces"/>.
    /// </summary>
    private static long PiecesFor(long bytes, long pieceLength) => (bytes / pieceLength) + (bytes % pieceLength == 0 ? 0 : 1);

    private long ReadPieceLength(BencodeNode info, bool hasV2)
    {
        BencodeNode node = info["piece length"u8];
        if (!node.Exists)
        {
            Fail(MetainfoErrorCode.MissingKey, info, "'piece length' is missing");
        }

        long pieceLength = GetInteger(node, "piece length");
        if (pieceLength <= 0 || pieceLength > limits.MaxPieceLength)
        {
            Fail(MetainfoErrorCode.InvalidValue, node, $"'piece length' {pieceLength} is outside 1 to {limits.MaxPieceLength}");
        }

        // BEP 52: "It must be a power of two and at least 16KiB."
        if (hasV2 && (pieceLength < MinV2PieceLength || (pieceLength & (pieceLength - 1)) != 0))
        {
            Fail(MetainfoErrorCode.InvalidValue, node, $"'piece length' {pieceLength} must be a power of two of at least 16 KiB in a v2 torrent");
        }

        return pieceLength;
    }

    private string ReadName(BencodeNode info)
    {
        BencodeNode name = info["name.utf-8"u8];
        if (!name.IsString)
        {
            name = info["name"u8];
        }

        if (!name.Exists)
        {
            Fail(MetainfoErrorCode.MissingKey, info, "'name' is missing");
        }

        RequireKind(name, BencodeKind.String, "name");
        string? segment = PathSanitizer.SanitizeSegment(name.StringSpan, limits, out string? error);
        if (segment is null)
        {
            Fail(MetainfoErrorCode.UnsafePath, name, $"'name' cannot be made safe: {error ?? "it is empty"}");
        }

        return segment;
    }

    private List<TorrentFile> ReadV1Files(BencodeNode info, string name, out bool multiFile)
    {
        BencodeNode list = info["files"u8];
        if (!list.Exists)
        {
            BencodeNode lengthNode = info["length"u8];
            if (!lengthNode.Exists)
            {
                Fail(MetainfoErrorCode.MissingKey, info, "neither 'files' nor 'length' is present");
            }

            long length = GetLength(lengthNode, "length");
            multiFile = false;
            string attr = info["attr"u8].IsString ? info["attr"u8].GetString()! : "";
            return [new TorrentFile(name, length, 0) { IsExecutable = attr.Contains('x', StringComparison.Ordinal), IsHidden = attr.Contains('h', StringComparison.Ordinal) }];
        }

        RequireKind(list, BencodeKind.List, "files");
        multiFile = true;
        _pathBytes = 0;
        var files = new List<TorrentFile>();
        long offset = 0;
        foreach (BencodeNode entry in list.Items)
        {
            if (files.Count >= limits.MaxFiles)
            {
                Fail(MetainfoErrorCode.LimitExceeded, entry, $"more than {limits.MaxFiles} files");
            }

            RequireKind(entry, BencodeKind.Dictionary, "files[]");
            BencodeNode lengthNode = entry["length"u8];
            if (!lengthNode.Exists)
            {
                Fail(MetainfoErrorCode.MissingKey, entry, "a file has no 'length'");
            }

            long length = GetLength(lengthNode, "length");
            BencodeNode pathNode = entry["path.utf-8"u8];
            if (!pathNode.IsList)
            {
                pathNode = entry["path"u8];
            }

            if (!pathNode.Exists)
            {
                Fail(MetainfoErrorCode.MissingKey, entry, "a file has no 'path'");
            }

            RequireKind(pathNode, BencodeKind.List, "path");
            string path = SanitizePathList(pathNode, name);
            AddPathBytes(Encoding.UTF8.GetByteCount(path), pathNode);
            string attr = entry["attr"u8].IsString ? entry["attr"u8].GetString()! : "";
            bool pad = attr.Contains('p', StringComparison.Ordinal) || IsLegacyPadName(_segments);
            string? symlink = ReadSymlink(entry, attr);
            if (offset > long.MaxValue - length)
            {
                Fail(MetainfoErrorCode.InvalidValue, lengthNode, "file sizes add up to more than 2^63 bytes");
            }

            files.Add(new TorrentFile(path, length, offset)
            {
                IsPadFile = pad,
                IsExecutable = attr.Contains('x', StringComparison.Ordinal),
                IsHidden = attr.Contains('h', StringComparison.Ordinal),
                SymlinkTarget = symlink,
                ModificationTime = entry["mtime"u8].TryGetInt64(out long mtime) ? mtime : null,
            });
            offset += length;
        }

        if (files.Count == 0)
        {
            Fail(MetainfoErrorCode.InvalidValue, list, "'files' is empty");
        }

        return files;
    }

    /// <summary>BitComet's pre-BEP 47 pad files, named <c>_____padding_file_N_…</c>, which libtorrent also honours.</summary>
    private static bool IsLegacyPadName(List<string> segments)
        => segments.Count > 0 && segments[^1].StartsWith("_____padding_file_", StringComparison.Ordinal);

    private string? ReadSymlink(BencodeNode entry, string attr)
    {
        if (!attr.Contains('l', StringComparison.Ordinal))
        {
            return null;
        }

        BencodeNode target = entry["symlink path"u8];
        if (!target.IsList)
        {
            Fail(MetainfoErrorCode.MissingKey, entry, "a symlink has no 'symlink path' list");
        }

        // BEP 47: the target is relative to the torrent's root; ".." is refused by the sanitizer, so it cannot leave it.
        return SanitizePathList(target, null);
    }

    private string SanitizePathList(BencodeNode pathNode, string? prefix)
    {
        var raw = new List<ReadOnlyMemory<byte>>();
        foreach (BencodeNode segment in pathNode.Items)
        {
            if (!segment.IsString)
            {
                Fail(MetainfoErrorCode.WrongType, segment, "a path segment is not a string");
            }

            raw.Add(segment.StringMemory);
        }

        if (!PathSanitizer.TrySanitizePath(raw, limits, _segments, out string? error, prefix))
        {
            Fail(MetainfoErrorCode.UnsafePath, pathNode, $"unsafe path: {error}");
        }

        string joined = string.Join('/', _segments);
        return prefix is null ? joined : prefix + "/" + joined;
    }

    private void AddPathBytes(int bytes, BencodeNode at)
    {
        _pathBytes += bytes;
        if (_pathBytes > limits.MaxTotalPathBytes)
        {
            Fail(MetainfoErrorCode.LimitExceeded, at, $"file paths add up to more than {limits.MaxTotalPathBytes} bytes");
        }
    }

    private static long GetInteger(BencodeNode node, string key)
    {
        if (!node.TryGetInt64(out long value))
        {
            Fail(MetainfoErrorCode.WrongType, node, $"'{key}' is not an integer");
        }

        return value;
    }

    private static long GetLength(BencodeNode node, string key)
    {
        long value = GetInteger(node, key);
        if (value < 0)
        {
            Fail(MetainfoErrorCode.InvalidValue, node, $"'{key}' is negative ({value})");
        }

        return value;
    }

    private static void RequireKind(BencodeNode node, BencodeKind kind, string key)
    {
        if (node.Kind != kind)
        {
            Fail(MetainfoErrorCode.WrongType, node, $"'{key}' is not a {kind.ToString().ToLowerInvariant()}");
        }
    }

    [DoesNotReturn]
    // Messages quote the torrent's own text (paths keep C1 and bidi characters; a 'file tree' key is raw), and a
    // refusal is shown on terminals and written to logs: every refusal is cleaned here, once.
    private static void Fail(MetainfoErrorCode code, BencodeNode at, string message)
        => throw new MetainfoException(new MetainfoError(code, at.Offset, DisplayText.Sanitize(message)));
}
