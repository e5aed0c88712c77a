namespace PeerNet.Metainfo;

public sealed partial class TorrentMetainfo
{
    /// <summary>Parses and validates a .torrent, or throws <see cref="MetainfoException"/> naming what is wrong.</summary>
    public static TorrentMetainfo Parse(ReadOnlyMemory<byte> data, MetainfoLimits? limits = null)
        => TryParse(data, out TorrentMetainfo? torrent, out MetainfoError error, limits) ? torrent : throw new MetainfoException(error);

    /// <summary>Parses and validates a .torrent.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> data, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TorrentMetainfo? torrent, out MetainfoError error, MetainfoLimits? limits = null)
        => throw new NotImplementedException();
}
