namespace PeerNet.PeerWire;

/// <summary>
/// The 8 reserved handshake bytes as one big-endian integer: <c>reserved[0]</c> is the most significant byte,
/// so the bit <c>reserved[i] &amp; m</c> is <c>m &lt;&lt; (8 * (7 - i))</c>.
/// </summary>
[Flags]
internal enum HandshakeReserved : ulong
{
    /// <summary>No extension advertised.</summary>
    None = 0,

    /// <summary>BEP 5: DHT, <c>reserved[7] &amp; 0x01</c>.</summary>
    Dht = 0x01,

    /// <summary>BEP 6: fast extension, <c>reserved[7] &amp; 0x04</c>.</summary>
    FastExtension = 0x04,

    /// <summary>BEP 52: upgrade to v2 for a hybrid torrent, <c>reserved[7] &amp; 0x10</c>.</summary>
    V2Upgrade = 0x10,

    /// <summary>BEP 10: extension protocol, <c>reserved[5] &amp; 0x10</c>.</summary>
    ExtensionProtocol = 0x10UL << 16,
}
