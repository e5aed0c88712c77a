using System.Text;
using PeerNet.Bencode;

namespace PeerNet.Metainfo;

internal sealed partial class MetainfoParser
{
    /// <summary>BitComet's pre-BEP 47 pad files; libtorrent takes any path containing this for a pad file.</summary>
    private const string LegacyPadMarker = "_____padding_file_";

    /// <summary>The v1 file list, or the single file of a torrent with <c>length</c> and no <c>files</c>.</summary>
    private List<TorrentFile> ReadV1Files(BencodeNode info, string folder, out bool multiFile)
    {
        BencodeNode list = info["files"u8];
        if (!list.Exists)
        {
            multiFile = false;
            return [ReadSingleFile(info)];
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
            files.Add(ReadV1Entry(entry, folder, ref offset));
        }

        if (files.Count == 0)
        {
            Fail(MetainfoErrorCode.InvalidValue, list, "'files' is empty");
        }

        return files;
    }

    private TorrentFile ReadSingleFile(BencodeNode info)
    {
        BencodeNode nameNode = NameNode(info);
        string? name = nameNode.StringSpan.IsEmpty ? null : PathSanitizer.SanitizeSegment(nameNode.StringSpan, limits, out _);
        if (name is null)
        {
            Fail(MetainfoErrorCode.UnsafePath, nameNode, "'name' of a single-file torrent is empty or cannot be made safe");
        }

        // libtorrent reads a single file's attributes from the info dictionary; a symlink there has no length, so
        // the torrent then holds no data and is refused below.
        string attr = Attributes(info);
        long length = 0;
        if (!attr.Contains('l', StringComparison.Ordinal))
        {
            BencodeNode lengthNode = info["length"u8];
            if (!lengthNode.Exists)
            {
                Fail(MetainfoErrorCode.MissingKey, info, "neither 'files' nor 'length' is present");
            }

            length = GetLength(lengthNode, "length");
        }

        return new TorrentFile(name, length, 0)
        {
            IsExecutable = attr.Contains('x', StringComparison.Ordinal),
            IsHidden = attr.Contains('h', StringComparison.Ordinal),
        };
    }

    /// <summary>
    /// One entry of the v1 <c>files</c> list, as libtorrent's <c>extract_single_file</c> reads it: a symlink
    /// (attribute <c>l</c>) has no length whatever its <c>length</c> key says, and takes no bytes of the piece
    /// space; a pad file (attribute <c>p</c>) may have no path; a path whose every element is dropped is <c>_</c>.
    /// </summary>
    private TorrentFile ReadV1Entry(BencodeNode entry, string folder, ref long offset)
    {
        string attr = Attributes(entry);
        bool isSymlink = attr.Contains('l', StringComparison.Ordinal);
        bool isPad = attr.Contains('p', StringComparison.Ordinal);
        long length = 0;
        BencodeNode lengthNode = entry["length"u8];
        if (!isSymlink)
        {
            if (!lengthNode.Exists)
            {
                Fail(MetainfoErrorCode.MissingKey, entry, "a file has no 'length'");
            }

            length = GetLength(lengthNode, "length");
        }

        BencodeNode pathNode = entry["path.utf-8"u8];
        if (!pathNode.IsList)
        {
            pathNode = entry["path"u8];
        }

        string path;
        if (pathNode.IsList && pathNode[0].Exists)
        {
            path = SanitizePathList(pathNode, folder);
        }
        else if (isPad)
        {
            // BEP 47 lets a pad file go without a path; libtorrent names it so, outside the name folder (never stored).
            path = ".pad/" + length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            throw !pathNode.Exists ? Error(MetainfoErrorCode.MissingKey, entry, "a file has no 'path'")
                : pathNode.IsList ? Error(MetainfoErrorCode.UnsafePath, pathNode, "a file's 'path' is empty")
                : Error(MetainfoErrorCode.WrongType, pathNode, "'path' is not a list");
        }

        AddPathBytes(Encoding.UTF8.GetByteCount(path), pathNode.Exists ? pathNode : entry);
        isPad |= path.Contains(LegacyPadMarker, StringComparison.Ordinal);
        string? target = isSymlink ? ReadSymlinkTarget(entry) : null;
        if (offset > long.MaxValue - length)
        {
            Fail(MetainfoErrorCode.InvalidValue, lengthNode, "file sizes add up to more than 2^63 bytes");
        }

        var file = new TorrentFile(path, length, offset)
        {
            IsPadFile = isPad,
            IsExecutable = attr.Contains('x', StringComparison.Ordinal),
            IsHidden = attr.Contains('h', StringComparison.Ordinal),
            SymlinkTarget = target,
            ModificationTime = entry["mtime"u8].TryGetInt64(out long mtime) ? mtime : null,
        };
        offset += length;
        return file;
    }

    /// <summary>
    /// A BEP 47 symlink's <c>symlink path</c>, sanitized like a file path and relative to the name folder; null when
    /// it is missing or nothing is left of it, which makes the entry, as in libtorrent, an empty file rather than a link.
    /// </summary>
    private string? ReadSymlinkTarget(BencodeNode entry)
    {
        BencodeNode target = entry["symlink path"u8];
        if (!target.IsList)
        {
            return null;
        }

        string path = SanitizePathList(target, prefix: null, emptyIsUnderscore: false);
        return path.Length == 0 ? null : path;
    }

    private string SanitizePathList(BencodeNode pathNode, string? prefix, bool emptyIsUnderscore = true)
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

        if (!PathSanitizer.TrySanitizePath(raw, limits, _segments, out string? error, prefix, emptyIsUnderscore))
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
}
