using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using PeerNet.Bencode;

namespace PeerNet.Metainfo;

/// <summary>
/// Validates one torrent's dictionary into a <see cref="TorrentMetainfo"/>, reading it as libtorrent 2.0 does
/// where torrents in the wild break the rules (file names, pad files, symlinks), and refusing where libtorrent
/// refuses. Every check that fails throws a <see cref="MetainfoException"/> naming the key and the byte offset of
/// the offending value.
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
        bool hasV2 = ReadMetaVersion(info);
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
        string folder = ReadFolderName(info);

        List<TorrentFile>? v1Files = null;
        List<TorrentFile>? v2Files = null;
        bool v1MultiFile = false;
        bool v2MultiFile = false;
        string? v1Name = null;
        string? v2Name = null;
        if (hasV1)
        {
            v1Files = ReadV1Files(info, folder, out v1MultiFile);
            v1Name = v1MultiFile ? folder : v1Files[0].Path;
        }

        if (hasV2)
        {
            v2Files = ReadFileTree(info["file tree"u8], folder, pieceLength, info["files"u8].IsList, out v2MultiFile);
            v2Name = v2MultiFile ? folder : v2Files[0].Path;
        }

        List<TorrentFile> files;
        if (v1Files is not null && v2Files is not null)
        {
            files = MergeHybrid(info, v1Files, v2Files, folder, pieceLength);
            torrent.IsMultiFile = v1MultiFile;
        }
        else
        {
            files = v1Files ?? v2Files!;
            torrent.IsMultiFile = v1Files is not null ? v1MultiFile : v2MultiFile;
        }

        torrent.Name = v1Name ?? v2Name!;
        ResolveSymlinkTargets(files, folder);

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

        if (torrent.IsMultiFile)
        {
            RenameDuplicates(files, folder, info);
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

    /// <summary>
    /// True for a v2 (or hybrid) torrent. As libtorrent reads it: <c>meta version</c> 2 is v2, a larger one is
    /// refused, anything else (absent, 1, not an integer) is v1. Where it is positive the info dictionary must be
    /// canonical bencode, and a v1 torrent must not carry a <c>file tree</c> it would silently ignore.
    /// </summary>
    private static bool ReadMetaVersion(BencodeNode info)
    {
        BencodeNode node = info["meta version"u8];
        long version = node.TryGetInt64(out long value) ? value : -1;
        if (version > 2)
        {
            Fail(MetainfoErrorCode.UnsupportedVersion, node, $"'meta version' {version} is not supported (only 2)");
        }

        // The v2 info-hash is only worth something if every client hashes the same canonical bytes: libtorrent
        // refuses leading zeros, unsorted and repeated keys here, though it reads them in a v1 torrent.
        int softError = version > 0 ? info.FindSoftError() : -1;
        if (softError >= 0)
        {
            throw new MetainfoException(new MetainfoError(MetainfoErrorCode.InvalidBencode, softError, $"a v2 info dictionary must be canonical bencode: leading zero, or unsorted or repeated keys, at byte {softError}"));
        }

        if (version < 2 && info["file tree"u8].IsDictionary)
        {
            Fail(MetainfoErrorCode.Inconsistent, info["file tree"u8], "'file tree' in a torrent whose 'meta version' is not 2");
        }

        if (version == 2 && !info["file tree"u8].Exists)
        {
            Fail(MetainfoErrorCode.MissingKey, info, "'file tree' is missing from a v2 torrent");
        }

        return version == 2;
    }

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

    /// <summary>The <c>name.utf-8</c> or <c>name</c> string (required).</summary>
    private static BencodeNode NameNode(BencodeNode info)
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
        return name;
    }

    /// <summary>
    /// The folder a multi-file torrent's files live in: the sanitized name, or, as libtorrent names it when
    /// nothing is left of the name (<c>..</c>, <c>.</c>, <c>/</c>), the hex SHA-1 of the info dictionary.
    /// </summary>
    private string ReadFolderName(BencodeNode info)
    {
        BencodeNode name = NameNode(info);
        string? folder = PathSanitizer.SanitizeSegment(name.StringSpan, limits, out string? error);
        if (error is not null)
        {
            Fail(MetainfoErrorCode.UnsafePath, name, $"'name' cannot be made safe: {error}");
        }

        return folder ?? Convert.ToHexStringLower(SHA1.HashData(info.RawSpan));
    }

    private static long GetInteger(BencodeNode node, string key)
    {
        if (!node.TryGetInt64(out long value))
        {
            Fail(MetainfoErrorCode.WrongType, node, $"'{key}' is not a 64-bit integer");
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

    /// <summary>BEP 47 <c>attr</c>: the flags as a string, empty when absent.</summary>
    private static string Attributes(BencodeNode entry) => entry["attr"u8].GetString() ?? "";

    [DoesNotReturn]
    // Messages quote the torrent's own text (paths keep C1 and bidi characters; a 'file tree' key is raw), and a
    // refusal is shown on terminals and written to logs: every refusal is cleaned here, once.
    private static void Fail(MetainfoErrorCode code, BencodeNode at, string message) => throw Error(code, at, message);

    private static MetainfoException Error(MetainfoErrorCode code, BencodeNode at, string message)
        => new(new MetainfoError(code, at.Offset, DisplayText.Sanitize(message)));
}
