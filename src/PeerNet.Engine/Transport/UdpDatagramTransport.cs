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

    private sealed class UdpDatagramSocket(Socket socket) : IDatagramSocket
    {
        private readonly IPEndPoint _any = new(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        private volatile bool _disposed;

        public IPEndPoint LocalEndPoint { get; } = (IPEndPoint)socket.LocalEndPoint!;

        public async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (socket.DualMode && remote.AddressFamily == AddressFamily.InterNetwork)
            {
                remote = new IPEndPoint(remote.Address.MapToIPv6(), remote.Port);
            }

            await socket.SendToAsync(datagram, SocketFlags.None, remote, cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask<DatagramReceived> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            while (true)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                SocketReceiveFromResult result;
                try
                {
                    result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, _any, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException) when (_disposed)
                {
                    throw new ObjectDisposedException(nameof(UdpDatagramSocket));
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.MessageSize)
                {
                    // An ICMP error for an earlier send, or an oversized datagram: neither ends the socket.
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

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
