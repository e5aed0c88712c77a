namespace PeerNet.Creation;

/// <summary>A new torrent and what went into it.</summary>
/// <param name="Torrent">The encoded .torrent file.</param>
/// <param name="InfoHashes">Its v1 and/or v2 info-hash.</param>
/// <param name="Name">The torrent's <c>name</c>: the file or folder name.</param>
/// <param name="PieceLength">Bytes per piece (as chosen, when the options left it 0).</param>
/// <param name="TotalLength">Sum of the files' sizes, pads not counted.</param>
/// <param name="FileCount">Number of files, pads not counted.</param>
public sealed record TorrentCreationResult(byte[] Torrent, InfoHashes InfoHashes, string Name, long PieceLength, long TotalLength, int FileCount);
