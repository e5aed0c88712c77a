using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// A node's dialer over both transports, as libtorrent dials: a peer is tried over uTP first (when outgoing uTP is on and
/// the node has a UDP socket of the peer's family), and over TCP when that fails or times out (uTP's connect timeout:
/// 3 s, the SYN sent three times). A peer that speaks only TCP fails fast: its closed UDP port answers the SYN with an
/// ICMP port unreachable, which the socket reports on Linux (<see cref="UdpErrorQueue"/>), and a PeerNet node without
/// uTP answers with a reset; only a peer whose UDP is silently dropped costs the timeout. A peer that failed over uTP is dialed straight over TCP for the next ten minutes (a
/// bounded memory), as libtorrent marks such a peer as not supporting uTP. Listening is TCP's; incoming uTP arrives
/// through each manager's listener.
/// </summary>
internal sealed class UtpFirstTransport(IPeerTransport tcp, bool outgoingUtp, bool outgoingTcp, TimeProvider time) : IPeerTransport
{
    private const int MaxRemembered = 4096;
    private static readonly TimeSpan RememberFailure = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<IPEndPoint, long> _utpFailed = new();
    private volatile UtpSocketManager[] _managers = [];

    /// <summary>The uTP managers of the node's UDP sockets (set once they are bound).</summary>
    public IReadOnlyList<UtpSocketManager> Managers
    {
        get => _managers;
        set => _managers = [.. value];
    }

    /// <summary>Connections made over uTP so far (for tests and diagnostics).</summary>
    public long UtpConnects => Interlocked.Read(ref _utpConnects);

    private long _utpConnects;

    /// <summary>Dials that went on over TCP because the peer refused uTP (a reset, or ICMP port unreachable) at once.</summary>
    public long TcpAfterUtpRefused => Interlocked.Read(ref _tcpAfterRefused);

    /// <summary>Dials that went on over TCP after uTP's connect timed out (nothing came back).</summary>
    public long TcpAfterUtpTimeout => Interlocked.Read(ref _tcpAfterTimeout);

    private long _tcpAfterRefused;
    private long _tcpAfterTimeout;

    public ValueTask<IPeerListener> ListenAsync(IPEndPoint localEndPoint, CancellationToken cancellationToken) => tcp.ListenAsync(localEndPoint, cancellationToken);

    public async ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        remote = TransportDefaults.Normalize(remote);
        UtpSocketManager? manager = outgoingUtp ? Array.Find(_managers, m => m.LocalEndPoint.AddressFamily == remote.AddressFamily) : null;
        if (manager is not null && !FailedRecently(remote))
        {
            try
            {
                IDuplexConnection connection = await manager.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _utpConnects);
                return connection;
            }
            catch (SocketException e) when (outgoingTcp)
            {
                Remember(remote);
                Interlocked.Increment(ref e.SocketErrorCode == SocketError.TimedOut ? ref _tcpAfterTimeout : ref _tcpAfterRefused);
            }
        }

        if (!outgoingTcp)
        {
            throw new SocketException((int)(manager is null ? SocketError.AddressFamilyNotSupported : SocketError.ConnectionRefused));
        }

        return await tcp.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Dials over uTP only, whatever <see cref="FailedRecently"/> says: the BEP 55 holepunch dial, which must send its
    /// SYN from the node's UDP socket (the NAT mapping the relay saw) even to a peer whose direct dial just failed.
    /// </summary>
    /// <exception cref="SocketException">No UDP socket of the peer's family, refused, or timed out.</exception>
    public async ValueTask<IDuplexConnection> ConnectUtpAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        remote = TransportDefaults.Normalize(remote);
        UtpSocketManager manager = Array.Find(_managers, m => m.LocalEndPoint.AddressFamily == remote.AddressFamily)
            ?? throw new SocketException((int)SocketError.AddressFamilyNotSupported);
        IDuplexConnection connection = await manager.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _utpConnects);
        return connection;
    }

    private bool FailedRecently(IPEndPoint remote)
    {
        if (!_utpFailed.TryGetValue(remote, out long at))
        {
            return false;
        }

        if (time.GetElapsedTime(at) < RememberFailure)
        {
            return true;
        }

        _utpFailed.TryRemove(new KeyValuePair<IPEndPoint, long>(remote, at));
        return false;
    }

    private void Remember(IPEndPoint remote)
    {
        if (_utpFailed.Count >= MaxRemembered)
        {
            _utpFailed.Clear(); // bounded: forgetting only costs a 3 s uTP try
        }

        _utpFailed[remote] = time.GetTimestamp();
    }

    public ValueTask DisposeAsync() => tcp.DisposeAsync();
}
