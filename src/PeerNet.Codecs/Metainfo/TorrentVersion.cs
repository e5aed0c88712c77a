namespace PeerNet.Metainfo;

/// <summary>Which BitTorrent metainfo format a torrent uses.</summary>
public enum TorrentVersion
{
    /// <summary>BEP 3: SHA-1 piece hashes, <c>files</c> list.</summary>
    V1 = 1,

    /// <summary>BEP 52: SHA-256 merkle trees per file, <c>file tree</c>.</summary>
    V2 = 2,

    /// <summary>Both, describing the same data (BEP 52 "Upgrade path").</summary>
    Hybrid = 3,
}
