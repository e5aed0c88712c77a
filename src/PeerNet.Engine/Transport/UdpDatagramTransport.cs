using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// Datagram sockets over real UDP. Binding <see cref="IPAddress.IPv6Any"/> makes a dual-mode socket that serves
/// IPv4 too; addresses of IPv4 senders on it are reported as plain IPv4, not IPv4-mapped IPv6.
/// </summary>
internal sealed class UdpDatagramTransport : IDatagramTransport
{
    /// <summary>The shared instance; it holds no state.</summary>
    public static UdpDatagramTransport Instance { get; } = new();

    /// <inheritdoc />
    public IDatagramSocket Bind(IPEndPoint localEndPoint) => Bind(localEndPoint, dualMode: localEndPoint?.Address.Equals(IPAddress.IPv6Any) == true);

    /// <summary>
    /// Binds a socket at <paramref name="localEndPoint"/>; an IPv6 one serves IPv4 too when <paramref name="dualMode"/>, or
    /// only IPv6 (so an IPv4 socket can have the same port: the node's one socket per family).
    /// </summary>
    public static IDatagramSocket Bind(IPEndPoint localEndPoint, bool dualMode)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        var socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (localEndPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = dualMode;
            }

            socket.Bind(localEndPoint);
            GrowBuffers(socket);
            return Wrap(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Kernel buffers of 4 MiB each way (as far as the system allows: Linux caps them at net.core.rmem_max/wmem_max): uTP
    /// keeps a window of packets in flight on this one socket, and a burst that overflows the default ~200 KiB is lost.
    /// </summary>
    private static void GrowBuffers(Socket socket)
    {
        try
        {
            socket.ReceiveBufferSize = Math.Max(socket.ReceiveBufferSize, 4 * 1024 * 1024);
            socket.SendBufferSize = Math.Max(socket.SendBufferSize, 4 * 1024 * 1024);
        }
        catch (SocketException)
        {
            // the defaults then
        }
    }

    /// <summary>Wraps a bound socket (set up by the caller, as <see cref="UdpMulticastTransport"/> does); disposing it closes the socket.</summary>
    internal static IDatagramSocket Wrap(Socket socket) => new UdpDatagramSocket(socket);

    /// <summary>
    /// A UDP socket. On Linux it also reports the ICMP errors its sends draw (<see cref="UdpErrorQueue"/>): a uTP SYN to a
    /// port nobody listens on comes back as "port unreachable" at once, instead of the connect waiting out its timeout.
    /// Elsewhere (and where the kernel refuses <c>IP_RECVERR</c>) such errors are ignored, as before.
    /// </summary>
    private sealed class UdpDatagramSocket : IDatagramSocket, IReportsUnreachable
    {
        /// <summary>Sends tried again at most when they fail for an earlier send's ICMP error (each failure consumes one).</summary>
        private const int SendAttempts = 4;

        private readonly Socket _socket;
        private readonly IPEndPoint _any;
        private readonly bool _errorQueue;
        private readonly Lock _drainGate = new();
        private volatile bool _disposed;

        public UdpDatagramSocket(Socket socket)
        {
            _socket = socket;
            _any = new(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
            _errorQueue = OperatingSystem.IsLinux() && UdpErrorQueue.Enable(socket);
        }

        public IPEndPoint LocalEndPoint { get; }

        public Action<DatagramUnreachable>? Unreachable { get; set; }

        public async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_socket.DualMode && remote.AddressFamily == AddressFamily.InterNetwork)
            {
                remote = new IPEndPoint(remote.Address.MapToIPv6(), remote.Port);
            }

            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await _socket.SendToAsync(datagram, SocketFlags.None, remote, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (SocketException e) when (_errorQueue && attempt < SendAttempts && !_disposed && (IsIcmpError(e.SocketErrorCode) || e.SocketErrorCode == SocketError.MessageSize))
                {
                    // With IP_RECVERR an earlier send's ICMP error fails the next send or receive once, and this datagram
                    // was not sent: read the queue (so the error reaches its owner) and send again. A local error (a
                    // datagram too large) is queued too: read, it fails again and is thrown after the last attempt.
                    DrainErrors();
                }
            }
        }

        public async ValueTask<DatagramReceived> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            while (true)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                SocketReceiveFromResult result;
                try
                {
                    result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, _any, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException) when (_disposed)
                {
                    throw new ObjectDisposedException(nameof(UdpDatagramSocket));
                }
                catch (SocketException e) when (IsIcmpError(e.SocketErrorCode) || e.SocketErrorCode == SocketError.MessageSize)
                {
                    // An ICMP error for an earlier send, or an oversized datagram: neither ends the socket.
                    if (_errorQueue)
                    {
                        DrainErrors();
                    }

                    continue;
                }

                var remote = (IPEndPoint)result.RemoteEndPoint;
                if (remote.Address.IsIPv4MappedToIPv6)
                {
                    remote = new IPEndPoint(remote.Address.MapToIPv4(), remote.Port);
                }

                return new DatagramReceived(result.ReceivedBytes, remote);
            }
        }

        private static bool IsIcmpError(SocketError error)
            => error is SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.HostUnreachable or SocketError.NetworkUnreachable;

        /// <summary>
        /// Empties the error queue (it counts against the receive buffer, so it is emptied even with nobody listening)
        /// and hands the errors to <see cref="Unreachable"/> on the thread pool: the send that found them may hold a
        /// uTP connection's lock, and the handler takes another's.
        /// </summary>
        private void DrainErrors()
        {
            if (!OperatingSystem.IsLinux())
            {
                return;
            }

            var errors = new List<DatagramUnreachable>();
            lock (_drainGate)
            {
                UdpErrorQueue.Drain(_socket, errors);
            }

            if (errors.Count > 0 && Unreachable is { } handler)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static state =>
                {
                    foreach (DatagramUnreachable error in state.Errors)
                    {
                        state.Handler(error);
                    }
                }, (Errors: errors, Handler: handler), preferLocal: false);
            }
        }

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
