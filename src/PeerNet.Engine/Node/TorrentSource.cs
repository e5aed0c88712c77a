using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet;

/// <summary>
/// Where a torrent comes from when it is added to a node: a .torrent file or its bytes, a parsed
/// <see cref="TorrentMetainfo"/>, or a magnet link (the info dictionary is then fetched from peers).
/// </summary>
public sealed class TorrentSource
{
    private TorrentSource(TorrentMetainfo? metainfo, MagnetLink? magnet)
    {
        Metainfo = metainfo;
        Magnet = magnet;
    }

    /// <summary>The parsed torrent; null for a magnet link.</summary>
    public TorrentMetainfo? Metainfo { get; }

    /// <summary>The magnet link; null for a torrent.</summary>
    public MagnetLink? Magnet { get; }

    /// <summary>The info-hashes the torrent is known by.</summary>
    public InfoHashes InfoHashes => Metainfo?.InfoHashes ?? Magnet!.InfoHashes;

    /// <summary>A parsed torrent.</summary>
    public static TorrentSource FromMetainfo(TorrentMetainfo metainfo)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        return new TorrentSource(metainfo, null);
    }

    /// <summary>A .torrent file's bytes. Throws <see cref="MetainfoException"/> (with the reason and byte offset) if it is malformed or unsafe.</summary>
    public static TorrentSource FromBytes(ReadOnlyMemory<byte> torrent) => new(TorrentMetainfo.Parse(torrent), null);

    /// <summary>
    /// A .torrent file. Throws <see cref="FileNotFoundException"/> or another <see cref="IOException"/> if it cannot be
    /// read or is over <see cref="MetainfoLimits.MaxTorrentSize"/>, <see cref="MetainfoException"/> if it is malformed or unsafe.
    /// </summary>
    public static async Task<TorrentSource> FromFileAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        int limit = MetainfoLimits.Default.MaxTorrentSize;
        if (info.Exists && info.Length > limit)
        {
            // Refused before reading: a .torrent is small, and a huge file is not loaded to find that out.
            throw new IOException($"'{path}' is {info.Length} bytes, over the {limit}-byte limit for a .torrent.");
        }

        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return FromBytes(bytes);
    }

    /// <summary>A magnet link.</summary>
    public static TorrentSource FromMagnet(MagnetLink magnet)
    {
        ArgumentNullException.ThrowIfNull(magnet);
        return new TorrentSource(null, magnet);
    }

    /// <summary>A magnet link's text. Throws <see cref="MagnetException"/> if it is malformed.</summary>
    public static TorrentSource FromMagnet(string magnet) => FromMagnet(MagnetLink.Parse(magnet));

    /// <summary>A magnet link (text starting with <c>magnet:</c>) or the path of a .torrent file, as a user types either.</summary>
    public static Task<TorrentSource> FromFileOrMagnetAsync(string fileOrMagnet, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileOrMagnet);
        return fileOrMagnet.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase)
            ? Task.FromResult(FromMagnet(fileOrMagnet))
            : FromFileAsync(fileOrMagnet, cancellationToken);
    }
}
