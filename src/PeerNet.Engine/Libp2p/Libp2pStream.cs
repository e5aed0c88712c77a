namespace PeerNet.Libp2p;

/// <summary>
/// A libp2p protocol stream (a yamux stream over a Noise-secured connection): read and write as any
/// <see cref="Stream"/>; <see cref="CompleteWrites"/> half-closes it (the peer reads to the end and may still answer),
/// <see cref="Abort"/> resets both directions. Disposing completes writes and, when the peer has not finished its side,
/// resets reading, as QUIC streams do: read to the end first for a graceful close. Failures are
/// <see cref="IOException"/>s with the reason.
/// </summary>
public abstract class Libp2pStream : Stream
{
    private protected Libp2pStream()
    {
    }

    /// <summary>The protocol negotiated on the stream (e.g. <c>/ipfs/ping/1.0.0</c>).</summary>
    public string? Protocol { get; internal set; }

    /// <summary>Ends this side's writing (FIN): the peer reads to the end; reading goes on. Idempotent.</summary>
    public abstract void CompleteWrites();

    /// <summary>Resets both directions (RST): pending and later reads and writes fail; buffered data is dropped.</summary>
    public abstract void Abort();
}
