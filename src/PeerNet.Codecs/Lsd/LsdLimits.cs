namespace PeerNet.Lsd;

/// <summary>
/// Hard limits on BEP 14 announces, checked by <see cref="LsdMessage.TryParse"/> before anything is kept. A message
/// at a limit is accepted; one past it is refused. Real announces (libtorrent's: one info-hash, about 150 bytes) are
/// far below them.
/// </summary>
internal static class LsdLimits
{
    /// <summary>
    /// Longest datagram read: 2,048 bytes, refused before it is scanned. BEP 14 asks senders to stay under 1,400
    /// bytes (<see cref="TargetDatagramLength"/>); a little slack accepts a sender that does not.
    /// </summary>
    public const int MaxMessageLength = 2048;

    /// <summary>
    /// Longest datagram written: 1,400 bytes. BEP 14: "When sending multiple infohashes the packet length should not
    /// exceed 1400 bytes to avoid MTU/fragmentation problems."
    /// </summary>
    public const int TargetDatagramLength = 1400;

    /// <summary>Longest line, without its line end: 256 characters (an <c>Infohash</c> line is 50).</summary>
    public const int MaxLineLength = 256;

    /// <summary>Most header lines, known or not, <c>Infohash</c> lines included: 40.</summary>
    public const int MaxHeaders = 40;

    /// <summary>Most <c>Infohash</c> headers in one message: 32 (24 fit in <see cref="TargetDatagramLength"/>).</summary>
    public const int MaxInfoHashes = 32;

    /// <summary>Longest <c>cookie</c> value: 64 characters (libtorrent's is 8 hexadecimal digits at most).</summary>
    public const int MaxCookieLength = 64;
}
