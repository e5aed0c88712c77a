namespace PeerNet.Lsd;

/// <summary>
/// A BEP 14 announce: the sender takes part in the torrents of <see cref="InfoHashes"/> and accepts peer connections
/// on <see cref="Port"/> at the address the datagram came from.
/// </summary>
/// <param name="Host">The <c>Host</c> header (the multicast group it was sent to), or null when it had none.</param>
/// <param name="Port">The sender's BitTorrent listening port, 1 to 65535.</param>
/// <param name="InfoHashes">
/// One or more distinct info-hashes, in the message's order: a v1 info-hash, or the truncated (20-byte) v2 info-hash
/// of a v2 torrent, as libtorrent announces it.
/// </param>
/// <param name="Cookie">The <c>cookie</c> header (lets a sender recognise its own announces), or null.</param>
internal sealed record LsdAnnounce(string? Host, int Port, IReadOnlyList<Sha1Hash> InfoHashes, string? Cookie)
{
    /// <summary>Equal when every field is, info-hashes compared in order.</summary>
    public bool Equals(LsdAnnounce? other)
        => other is not null && Host == other.Host && Port == other.Port && Cookie == other.Cookie
            && InfoHashes.SequenceEqual(other.InfoHashes);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Host, Port, Cookie, InfoHashes.Count);
}
