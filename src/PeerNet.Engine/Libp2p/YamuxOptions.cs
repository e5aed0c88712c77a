namespace PeerNet.Libp2p;

/// <summary>Limits and settings of a <see cref="YamuxSession"/>; the defaults follow the spec and js-libp2p's yamux.</summary>
internal sealed record YamuxOptions
{
    /// <summary>The spec's initial stream window, and the receive window this side keeps for each stream: 256 KiB.</summary>
    public const int SpecInitialWindow = 256 * 1024;

    /// <summary>The largest window the peer is known to accept on a stream (js-libp2p's <c>maxStreamWindowSize</c>, this side's default <see cref="MaxSendWindow"/>): 16 MiB.</summary>
    public const int PeerMaxSendWindow = 16 * 1024 * 1024;

    /// <summary>The defaults.</summary>
    public static YamuxOptions Default { get; } = new();

    /// <summary>
    /// Bytes the peer may send on a stream before this side's reader consumes them (at least the spec's 256 KiB, which
    /// the peer assumes at the start; a larger one is announced with the stream's first frame).
    /// </summary>
    public int ReceiveWindow { get; init; } = SpecInitialWindow;

    /// <summary>
    /// The most a stream's receive window grows to when its reader keeps up with a link whose bandwidth-delay product
    /// is larger than the window (auto-tuning; set to <see cref="ReceiveWindow"/> to turn it off): 16 MiB, the largest
    /// window js-libp2p and this side's <see cref="MaxSendWindow"/> accept, and no more is allowed. Growth also needs
    /// the resource manager's memory; a session without one keeps <see cref="ReceiveWindow"/>.
    /// </summary>
    public int MaxReceiveWindow { get; init; } = PeerMaxSendWindow;

    /// <summary>Largest data frame this side sends (js-libp2p: 64 KiB); a write is split into frames of at most this.</summary>
    public int MaxFramePayload { get; init; } = 64 * 1024;

    /// <summary>Streams the peer may have open at once; its next SYN is answered with RST.</summary>
    public int MaxInboundStreams { get; init; } = 256;

    /// <summary>Streams this side may have opened without the peer's ACK; the next open waits.</summary>
    public int MaxUnackedOutboundStreams { get; init; } = 256;

    /// <summary>Control frames (window updates, ping replies, RSTs) queued but not written; more means the peer does not read, and the session ends.</summary>
    public int MaxPendingControlFrames { get; init; } = 4096;

    /// <summary>Largest window the peer may grant a stream of ours (a larger one is a protocol error): 16 MiB as js-libp2p's maximum.</summary>
    public long MaxSendWindow { get; init; } = PeerMaxSendWindow;

    /// <summary>Pings of ours awaiting an answer at once.</summary>
    public int MaxOutstandingPings { get; init; } = 16;

    /// <summary>When set, a ping this often; no answer within the interval ends the session.</summary>
    public TimeSpan? KeepAliveInterval { get; init; }

    /// <summary>How long closing waits for the GoAway to be written before dropping the connection.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveWindow, SpecInitialWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReceiveWindow, ReceiveWindow);

        // A window the peer would refuse ends the session, so growth stops at what js-libp2p (and this side) accepts.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxReceiveWindow, PeerMaxSendWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFramePayload, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInboundStreams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxUnackedOutboundStreams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingControlFrames, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSendWindow, SpecInitialWindow);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxSendWindow, int.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOutstandingPings, 1);
    }
}
