namespace PeerNet.Transport;

/// <summary>How a <see cref="UtpSocketManager"/> runs its connections (the node fills it from <see cref="PeerNet.UtpOptions"/>).</summary>
internal sealed record UtpSettings
{
    /// <summary>Accept incoming uTP connections (libtorrent's <c>enable_incoming_utp</c>); when off a SYN is answered with a reset.</summary>
    public bool Incoming { get; init; } = true;

    /// <summary>LEDBAT's target queuing delay (BEP 29 and libtorrent: 100 ms).</summary>
    public TimeSpan TargetDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Bytes of cwnd growth per round trip at zero queuing delay (libtorrent's <c>utp_gain_factor</c>, 3,000).</summary>
    public int GainBytesPerRtt { get; init; } = 3000;

    /// <summary>Incoming SYNs remembered at once while their senders have not yet shown they receive (a bounded table).</summary>
    public int MaxHalfOpen { get; init; } = 128;

    /// <summary>Of those, from one address at most.</summary>
    public int MaxHalfOpenPerAddress { get; init; } = 8;

    /// <summary>How long a half-open entry waits for the initiator's first data packet.</summary>
    public TimeSpan HalfOpenTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Established incoming connections waiting to be accepted at most; more are reset.</summary>
    public int AcceptBacklog { get; init; } = 64;

    /// <summary>How long a connect waits for the SYN's answer (SYN resent at 1 s and 2 s) before it fails with TimedOut.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Least retransmission timeout (libtorrent's <c>utp_min_timeout</c>: 500 ms).</summary>
    public TimeSpan MinTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Retransmission timeouts in a row after which the connection is dead (libtorrent: <c>utp_num_resends</c>, 6).</summary>
    public int MaxTimeouts { get; init; } = 6;

    /// <summary>Nothing sent for this long: an ack goes out as a keepalive (so NATs keep the mapping).</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(29);

    /// <summary>Nothing received for this long: the connection is dead.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a closing connection waits for its data and FIN to be acked before it resets.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Bytes received but not yet read by the application (plus those held out of order) at most: the receive window
    /// advertised is what is left of it, so a slow reader stops the sender.
    /// </summary>
    public int ReceiveBufferBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Largest datagram on a loopback path when the peer offers to receive it (PeerNet's extension): far fewer packets per
    /// byte, the key to loopback throughput. 0 keeps every path at the Ethernet-sized packets.
    /// </summary>
    public int LoopbackDatagramBytes { get; init; } = 32 * 1024;

    /// <summary>The largest uTP datagram over IPv4 elsewhere: 1,500 (Ethernet) less the IP and UDP headers.</summary>
    public int Ipv4DatagramBytes { get; init; } = 1472;

    /// <summary>The largest uTP datagram over IPv6 elsewhere: 1,500 less the IPv6 and UDP headers.</summary>
    public int Ipv6DatagramBytes { get; init; } = 1452;

    /// <summary>RESETs sent per second at most in answer to junk or unknown connections (the rest are dropped silently).</summary>
    public int ResetsPerSecond { get; init; } = 20;

    /// <summary>Period of the one timer that serves every connection of a manager.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);
}
