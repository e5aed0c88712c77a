namespace PeerNet.PeerWire;

/// <summary>Size limits for peer-wire messages, checked against the length prefix before a payload is buffered.</summary>
internal static class PeerWireLimits
{
    /// <summary>The block size every modern client requests: 16 KiB (BEP 3, BEP 52 leaf size).</summary>
    public const int BlockLength = 16 * 1024;

    /// <summary>
    /// A message limit that does not depend on the torrent: room for a 128 KiB block (the largest old clients
    /// request), a BEP 52 <c>hashes</c> reply of 8,192 hashes with proofs, and any extension message.
    /// </summary>
    public const int BaseMaxMessageLength = 512 * 1024;

    /// <summary>
    /// The limit before the piece count is known (a magnet link): the bitfield of the largest torrent
    /// <see cref="Metainfo.MetainfoLimits"/> accepts (2^24 pieces, 2 MiB) plus its id byte.
    /// </summary>
    public const int DefaultMaxMessageLength = (1 << 24) / 8 + 1;

    /// <summary>The tightest sound limit for a torrent of <paramref name="pieceCount"/> pieces.</summary>
    public static int MaxMessageLengthFor(int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        return Math.Max(BaseMaxMessageLength, 1 + Bitfield.GetWireLength(pieceCount));
    }
}
