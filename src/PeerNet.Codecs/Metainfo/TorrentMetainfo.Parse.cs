using System.Diagnostics.CodeAnalysis;
using PeerNet.Bencode;

namespace PeerNet.Metainfo;

public sealed partial class TorrentMetainfo
{
    /// <summary>Parses and validates a .torrent, or throws <see cref="MetainfoException"/> naming what is wrong.</summary>
    public static TorrentMetainfo Parse(ReadOnlyMemory<byte> data, MetainfoLimits? limits = null)
        => TryParse(data, out TorrentMetainfo? torrent, out MetainfoError error, limits) ? torrent : throw new MetainfoException(error);

    /// <summary>
    /// Parses and validates a .torrent. Its bencode is read as libtorrent reads it (leading zeros, <c>i-0e</c>,
    /// repeated keys: the first counts; bytes after the root dictionary are ignored); the info-hashes are always
    /// over the info dictionary's bytes exactly as they appear in <paramref name="data"/>.
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> data, [NotNullWhen(true)] out TorrentMetainfo? torrent, out MetainfoError error, MetainfoLimits? limits = null)
    {
        limits ??= MetainfoLimits.Default;
        torrent = null;
        if (data.Length > limits.MaxTorrentSize)
        {
            error = new MetainfoError(MetainfoErrorCode.TooLarge, -1, $"file is {data.Length} bytes, over the {limits.MaxTorrentSize}-byte limit");
            return false;
        }

        if (!BencodeDocument.TryParseTorrent(data, out BencodeDocument? document, out _, out BencodeError bencodeError))
        {
            error = new MetainfoError(MetainfoErrorCode.InvalidBencode, bencodeError.Offset, "not valid bencode: " + bencodeError.Message) { Bencode = bencodeError };
            return false;
        }

        using (document)
        {
            try
            {
                torrent = new MetainfoParser(document.Root, limits).Parse();
                error = default;
                return true;
            }
            catch (MetainfoException e)
            {
                error = e.Error;
                return false;
            }
        }
    }

    /// <summary>
    /// Parses only an info dictionary (as fetched from peers by BEP 9): exactly one bencoded dictionary, nothing
    /// after it, read as a .torrent's info dictionary is (so metadata fetched for a magnet loads exactly when the
    /// .torrent holding the same bytes does). The caller compares <see cref="InfoHashes"/> with the info-hash it
    /// asked for. Piece layers, trackers and web seeds are absent: they live outside the info dictionary.
    /// </summary>
    public static bool TryParseInfoDictionary(ReadOnlyMemory<byte> info, [NotNullWhen(true)] out TorrentMetainfo? torrent, out MetainfoError error, MetainfoLimits? limits = null)
    {
        limits ??= MetainfoLimits.Default;
        if (info.Length > limits.MaxTorrentSize)
        {
            torrent = null;
            error = new MetainfoError(MetainfoErrorCode.TooLarge, -1, $"info dictionary is {info.Length} bytes, over the {limits.MaxTorrentSize}-byte limit");
            return false;
        }

        // The bytes must be exactly one bencoded value: anything after it would become keys of the wrapping
        // dictionary below (trackers, web seeds, piece layers smuggled in with the metadata) and fall outside
        // InfoBytes and the info-hashes. Checked on the bytes as given, so a bencode error's offset is theirs.
        if (!BencodeDocument.TryParseTorrent(info, out BencodeDocument? document, out int consumed, out BencodeError bencodeError) || consumed != info.Length)
        {
            document?.Dispose();
            bencodeError = document is null ? bencodeError : new BencodeError(BencodeErrorCode.TrailingData, consumed);
            torrent = null;
            error = new MetainfoError(MetainfoErrorCode.InvalidBencode, bencodeError.Offset, bencodeError.Message) { Bencode = bencodeError };
            return false;
        }

        document.Dispose();

        // Wrap the info bytes in an outer dictionary so the one parser serves both cases; the info-hash is
        // computed over the inner bytes exactly as received.
        ReadOnlySpan<byte> prefix = "d4:info"u8;
        byte[] wrapped = new byte[info.Length + prefix.Length + 1];
        prefix.CopyTo(wrapped);
        info.Span.CopyTo(wrapped.AsSpan(prefix.Length));
        wrapped[^1] = (byte)'e';
        if (TryParse(wrapped, out torrent, out error, limits))
        {
            return true;
        }

        // Report where the problem is in the caller's bytes, not in the wrapper.
        if (error.Offset >= prefix.Length)
        {
            error = error with
            {
                Offset = error.Offset - prefix.Length,
                Bencode = error.Bencode is { } b ? b with { Offset = b.Offset - prefix.Length } : null,
            };
        }

        return false;
    }
}
