using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// A node's dialer over both transports, as libtorrent dials: a peer is tried over uTP first (when outgoing uTP is on and
/// the node has a UDP socket of the peer's family), and over TCP when that fails or times out (uTP's connect timeout:
/// 3 s, the SYN sent three times). A peer that failed over uTP is dialed straight over TCP for the next ten minutes (a
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
            catch (SocketException) when (outgoingTcp)
            {
                Remember(remote);
            }
        }

        if (!outgoingTcp)
        {
            throw new SocketException((int)(manager is null ? SocketError.AddressFamilyNotSupported : SocketError.ConnectionRefused));
        }

        return await tcp.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
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
