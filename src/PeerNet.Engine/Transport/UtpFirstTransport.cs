using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// A node's dialer over both transports: a peer is tried over uTP first (when outgoing uTP is on and the node has a UDP
/// socket of the peer's family), as libtorrent dials, and over TCP as well once uTP has not answered within
/// <paramref name="tcpFallbackDelay"/> (the two race; the first connected wins and the other is closed). A peer that
/// refuses uTP fails fast: its closed UDP port answers the SYN with an ICMP port unreachable, which the socket reports on
/// Linux (<see cref="UdpErrorQueue"/>), and a PeerNet node without uTP answers with a reset; then TCP goes at once. A
/// peer whose UDP is silently dropped (libtorrent or aria2 with uTP off: their UDP socket is open for the DHT) costs
/// the head start, not uTP's 3 s connect timeout, which is what libtorrent waits before its TCP fallback. A peer that
/// failed over uTP, or lost the race to TCP, is dialed straight over TCP for the next ten minutes (a bounded memory),
/// as libtorrent marks such a peer as not supporting uTP. Listening is TCP's; incoming uTP arrives through each
/// manager's listener.
/// </summary>
internal sealed class UtpFirstTransport(IPeerTransport tcp, bool outgoingUtp, bool outgoingTcp, TimeSpan tcpFallbackDelay, TimeProvider time) : IPeerTransport
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

    /// <summary>Dials that TCP won because uTP had not answered (within the head start, then before TCP connected).</summary>
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
            if (!outgoingTcp)
            {
                IDuplexConnection only = await manager.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _utpConnects);
                return only;
            }

            if (await RaceAsync(manager, remote, cancellationToken).ConfigureAwait(false) is { } connection)
            {
                return connection;
            }
        }
        else if (!outgoingTcp)
        {
            throw new SocketException((int)(manager is null ? SocketError.AddressFamilyNotSupported : SocketError.ConnectionRefused));
        }

        return await tcp.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// uTP alone for the head start, then uTP and TCP side by side; the first connection made wins and the other attempt
    /// is cancelled (or closed, should it connect anyway). Null when uTP was refused within the head start: the caller
    /// dials TCP on its own. When both fail, TCP's error is thrown (TCP is what the peer was last tried over).
    /// </summary>
    private async Task<IDuplexConnection?> RaceAsync(UtpSocketManager manager, IPEndPoint remote, CancellationToken cancellationToken)
    {
        using var utpCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var tcpCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<IDuplexConnection> utp = manager.ConnectAsync(remote, utpCancel.Token).AsTask();
        Task<IDuplexConnection>? overTcp = null;
        IDuplexConnection? won = null;
        try
        {
            if (!utp.IsCompleted)
            {
                using var headStart = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(utp, Task.Delay(tcpFallbackDelay, time, headStart.Token)).ConfigureAwait(false);
                await headStart.CancelAsync().ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (utp.IsCompleted)
            {
                return won = await UtpOutcomeAsync(utp, remote).ConfigureAwait(false); // null: refused, TCP goes alone
            }

            overTcp = tcp.ConnectAsync(remote, tcpCancel.Token).AsTask();
            Task<IDuplexConnection> first = await Task.WhenAny(utp, overTcp).ConfigureAwait(false);
            if (first.IsCompletedSuccessfully)
            {
                if (first == utp)
                {
                    Interlocked.Increment(ref _utpConnects);
                }
                else
                {
                    Remember(remote);
                    Interlocked.Increment(ref _tcpAfterTimeout);
                }

                return won = first.Result;
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (first == utp)
            {
                // uTP gave up (refused or timed out) while TCP was still connecting: TCP is all that is left.
                _ = await UtpOutcomeAsync(utp, remote).ConfigureAwait(false);
                return won = await overTcp.ConfigureAwait(false);
            }

            // TCP failed first: uTP may still connect; if it fails too, TCP's error is the one to report.
            try
            {
                won = await utp.ConfigureAwait(false);
                Interlocked.Increment(ref _utpConnects);
                return won;
            }
            catch (SocketException)
            {
                Remember(remote);
                return won = await overTcp.ConfigureAwait(false);
            }
        }
        finally
        {
            // Whatever lost, or was left running by an error, is cancelled, and closed should it connect anyway.
            if (!Won(utp, won))
            {
                await utpCancel.CancelAsync().ConfigureAwait(false);
                CloseIfConnected(utp);
            }

            if (overTcp is not null && !Won(overTcp, won))
            {
                await tcpCancel.CancelAsync().ConfigureAwait(false);
                CloseIfConnected(overTcp);
            }
        }
    }

    private static bool Won(Task<IDuplexConnection> attempt, IDuplexConnection? won) =>
        won is not null && attempt.IsCompletedSuccessfully && ReferenceEquals(attempt.Result, won);

    /// <summary>A finished uTP attempt: its connection, or null (remembered, counted) when the peer refused or timed out.</summary>
    private async Task<IDuplexConnection?> UtpOutcomeAsync(Task<IDuplexConnection> utp, IPEndPoint remote)
    {
        try
        {
            IDuplexConnection connection = await utp.ConfigureAwait(false);
            Interlocked.Increment(ref _utpConnects);
            return connection;
        }
        catch (SocketException e)
        {
            Remember(remote);
            Interlocked.Increment(ref e.SocketErrorCode == SocketError.TimedOut ? ref _tcpAfterTimeout : ref _tcpAfterRefused);
            return null;
        }
    }

    /// <summary>The losing attempt of a race: closed if it connects after all; its failure (it was cancelled) observed.</summary>
    private static void CloseIfConnected(Task<IDuplexConnection> loser) =>
        _ = loser.ContinueWith(
            static t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    _ = t.Result.DisposeAsync().AsTask();
                }
                else
                {
                    _ = t.Exception;
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

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
            _utpFailed.Clear(); // bounded: forgetting only costs a uTP try of the head start
        }

        _utpFailed[remote] = time.GetTimestamp();
    }

    public ValueTask DisposeAsync() => tcp.DisposeAsync();
}
