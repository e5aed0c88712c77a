namespace PeerNet.Metainfo;

/// <summary>
/// A validated .torrent (BEP 3, 52): v1, v2 or hybrid. Construction by <see cref="Parse"/> proves that every
/// path is safe, every size and count within limits, and (v2) every piece layer consistent with its root.
/// </summary>
public sealed partial class TorrentMetainfo
{
    internal TorrentMetainfo()
    {
    }

    /// <summary>The info-hash(es): SHA-1 and/or SHA-256 over the exact bytes of the info dictionary.</summary>
    public InfoHashes InfoHashes { get; internal set; }

    /// <summary>v1, v2 or hybrid.</summary>
    public TorrentVersion Version { get; internal set; }

    /// <summary>Sanitized name: the single file's name, or the root folder of a multi-file torrent.</summary>
    public string Name { get; internal set; } = "";

    /// <summary>True when the files live under a folder named <see cref="Name"/>.</summary>
    public bool IsMultiFile { get; internal set; }

    /// <summary>Bytes per piece.</summary>
    public long PieceLength { get; internal set; }

    /// <summary>Number of pieces.</summary>
    public int PieceCount { get; internal set; }

    /// <summary>Sum of the lengths of all real files (pad files excluded).</summary>
    public long TotalSize { get; internal set; }

    /// <summary>Size of the piece space: real files plus pad files (v1, hybrid) or piece-aligned files (v2).</summary>
    public long PieceSpaceSize { get; internal set; }

    /// <summary>Every file in torrent order, pad files included (see <see cref="TorrentFile.IsPadFile"/>).</summary>
    public IReadOnlyList<TorrentFile> Files { get; internal set; } = [];

    /// <summary>BEP 27 <c>private</c>: no DHT, PEX or LSD for this torrent.</summary>
    public bool IsPrivate { get; internal set; }

    /// <summary>Tracker tiers (BEP 12 <c>announce-list</c>, or the single <c>announce</c> as one tier).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Trackers { get; internal set; } = [];

    /// <summary>BEP 19 web seeds (<c>url-list</c>).</summary>
    public IReadOnlyList<string> WebSeeds { get; internal set; } = [];

    /// <summary>Free-text <c>comment</c>.</summary>
    public string? Comment { get; internal set; }

    /// <summary><c>created by</c>.</summary>
    public string? CreatedBy { get; internal set; }

    /// <summary><c>creation date</c>.</summary>
    public DateTimeOffset? CreationDate { get; internal set; }

    /// <summary>The exact bytes of the info dictionary (what the info-hash is computed over).</summary>
    public ReadOnlyMemory<byte> InfoBytes { get; internal set; }

    /// <summary>v1 piece hashes: 20 bytes per piece, concatenated (empty for v2-only).</summary>
    public ReadOnlyMemory<byte> PieceHashesV1 { get; internal set; }

    /// <summary>v2 piece layers keyed by a file's pieces root (only files longer than one piece have one).</summary>
    public IReadOnlyDictionary<Sha256Hash, ReadOnlyMemory<byte>> PieceLayers { get; internal set; } = new Dictionary<Sha256Hash, ReadOnlyMemory<byte>>();

    /// <summary>The v1 SHA-1 hash of piece <paramref name="index"/>.</summary>
    public Sha1Hash GetPieceHashV1(int index) => new(PieceHashesV1.Span.Slice(index * Sha1Hash.Length, Sha1Hash.Length));

    /// <summary>Length of piece <paramref name="index"/> (the last one may be short).</summary>
    public long GetPieceSize(int index) => index == PieceCount - 1 ? PieceSpaceSize - ((long)index * PieceLength) : PieceLength;
}
