namespace PeerNet.Transport;

/// <summary>Settings of a <see cref="TcpTransport"/>.</summary>
internal sealed record TcpTransportOptions
{
    /// <summary>The defaults.</summary>
    public static TcpTransportOptions Default { get; } = new();

    /// <summary>How long a connect may take before it fails with <see cref="System.Net.Sockets.SocketError.TimedOut"/> (default 10 s).</summary>
    public TimeSpan ConnectTimeout
    {
        get;
        init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), value, "Must be positive.");
    } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long <c>DisposeAsync</c> of a connection waits for already-flushed data to reach the socket before it
    /// aborts instead (default 5 s). Only a peer that stops reading makes this wait at all.
    /// </summary>
    public TimeSpan CloseTimeout
    {
        get;
        init => field = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(CloseTimeout), value, "Must not be negative.");
    } = TimeSpan.FromSeconds(5);

    /// <summary>Inbound connections the kernel queues before <c>AcceptAsync</c> takes them (default 512).</summary>
    public int ListenBacklog
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(ListenBacklog), value, "Must not be negative.");
    } = 512;

    /// <summary>
    /// SO_RCVBUF for every socket, or null (default) to leave the kernel's value. On Linux the kernel tunes an
    /// unset buffer to the connection's bandwidth-delay product (up to <c>net.ipv4.tcp_rmem</c>); setting one turns
    /// that tuning off, so set it only to cap memory per connection.
    /// </summary>
    public int? SocketReceiveBufferSize { get; init; }

    /// <summary>
    /// The address outgoing connections are made from (the port is left to the system), or null (default) to let the
    /// routing table choose. Peers identify (and ban) one another by address, so nodes sharing a machine give each
    /// its own loopback address (127.0.0.0/8) to be told apart. Ignored for a remote of another address family.
    /// </summary>
    public System.Net.IPAddress? LocalAddress { get; init; }

    /// <summary>SO_SNDBUF for every socket, or null (default) to leave the kernel's auto-tuned value.</summary>
    public int? SocketSendBufferSize { get; init; }
}
