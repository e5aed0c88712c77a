namespace PeerNet;

/// <summary>Whether peer connections use Message Stream Encryption (MSE/PE), as libtorrent's <c>in_enc_policy</c>/<c>out_enc_policy</c>.</summary>
public enum EncryptionPolicy
{
    /// <summary>Plain BitTorrent only: incoming MSE handshakes are closed, outgoing connections are never encrypted.</summary>
    Disabled,

    /// <summary>
    /// Both: incoming connections may be plain or encrypted; outgoing ones try MSE first and, when the peer does not
    /// complete it, connect again in plain (libtorrent's default).
    /// </summary>
    Enabled,

    /// <summary>Encrypted only: plain incoming connections are closed, outgoing ones never fall back to plain.</summary>
    Forced,
}

/// <summary>What an MSE connection may carry after its (always encrypted) handshake, as libtorrent's <c>allowed_enc_level</c>.</summary>
public enum EncryptionLevel
{
    /// <summary>The handshake is encrypted (hiding the info-hash and the protocol), the payload goes in the clear.</summary>
    Plaintext,

    /// <summary>Everything stays RC4-encrypted.</summary>
    Rc4,

    /// <summary>Either, as the two sides agree (see <see cref="EncryptionOptions.PreferRc4"/>).</summary>
    Both,
}

/// <summary>The node's peer-connection encryption: policy, allowed levels and preference. Defaults as libtorrent's.</summary>
public sealed record EncryptionOptions
{
    /// <summary>Whether connections are encrypted: plain only, both (default), or encrypted only.</summary>
    public EncryptionPolicy Policy { get; init; } = EncryptionPolicy.Enabled;

    /// <summary>What an encrypted connection may carry after its handshake. Default: <see cref="EncryptionLevel.Both"/>.</summary>
    public EncryptionLevel Level { get; init; } = EncryptionLevel.Both;

    /// <summary>
    /// When both levels are allowed and the initiator offers both, choose RC4 rather than plaintext payload. Default
    /// off (as libtorrent: the handshake is hidden, the bulk data is not worth the cipher's cost).
    /// </summary>
    public bool PreferRc4 { get; init; }
}
