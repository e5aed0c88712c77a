using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using PeerNet.Tracker;

namespace PeerNet.Engine.Tests.Trackers;

/// <summary>A UDP tracker request as the fake tracker decoded it.</summary>
internal sealed record FakeUdpRequest(UdpTrackerAction Action, long ConnectionId, uint TransactionId, byte[] Packet)
{
    public TrackerEvent Event => (TrackerEvent)BinaryPrimitives.ReadInt32BigEndian(Packet.AsSpan(80));

    public long Left => BinaryPrimitives.ReadInt64BigEndian(Packet.AsSpan(64));

    public int Port => BinaryPrimitives.ReadUInt16BigEndian(Packet.AsSpan(96));

    public uint Key => BinaryPrimitives.ReadUInt32BigEndian(Packet.AsSpan(88));

    /// <summary>Where the request came from (the client's UDP port).</summary>
    public IPEndPoint? From { get; init; }
}

/// <summary>
/// A BEP 15 tracker on loopback (IPv4 or IPv6) for client tests. By default it answers connects with a fixed
/// connection id and announces with <see cref="Announce"/>; <see cref="Intercept"/> can drop a request (return
/// null) or answer anything instead.
/// </summary>
internal sealed class FakeUdpTracker : IAsyncDisposable
{
    public const long ConnectionId = 0x0102030405060708;

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public FakeUdpTracker(bool ipv6 = false)
    {
        IPAddress address = ipv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(address, 0));
        _loop = RunAsync();
    }

    public ConcurrentQueue<FakeUdpRequest> Requests { get; } = new();

    /// <summary>The answer to an announce (default: interval 120 s, one peer).</summary>
    public Func<FakeUdpRequest, AnnounceResponse> Announce { get; set; } = _ => new AnnounceResponse
    {
        Interval = TimeSpan.FromSeconds(120),
        Complete = 1,
        Incomplete = 2,
        Peers = [IPEndPoint.Parse("10.1.2.3:4567"), IPEndPoint.Parse("[2001:db8::9]:99")],
    };

    /// <summary>Replaces the default answer: return the datagrams to send back (none drops the request).</summary>
    public Func<FakeUdpRequest, IEnumerable<byte[]>?>? Intercept { get; set; }

    public string Url => $"udp://{(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? "[::1]" : "127.0.0.1")}:{((IPEndPoint)_socket.LocalEndPoint!).Port}/announce";

    public int Count(UdpTrackerAction action) => Requests.Count(r => r.Action == action);

    /// <summary>The standard answer to a request, for interceptors that add to it.</summary>
    public byte[] Answer(FakeUdpRequest request)
    {
        var reply = new byte[20 + (18 * 50)];
        int length = request.Action switch
        {
            UdpTrackerAction.Connect => UdpTrackerPacket.WriteConnectResponse(reply, request.TransactionId, ConnectionId),
            UdpTrackerAction.Announce => UdpTrackerPacket.WriteAnnounceResponse(reply, request.TransactionId, Announce(request), _socket.AddressFamily == AddressFamily.InterNetworkV6),
            UdpTrackerAction.Scrape => UdpTrackerPacket.WriteScrapeResponse(reply, request.TransactionId, [.. Enumerable.Range(0, (request.Packet.Length - 16) / 20).Select(i => new ScrapeStats(i, 10 + i, 20 + i))]),
            _ => UdpTrackerPacket.WriteError(reply, request.TransactionId, "bad action"u8),
        };
        return reply[..length];
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var buffer = new byte[2048];
        EndPoint any = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stopping.Token);
            byte[] packet = buffer[..received.ReceivedBytes];
            if (packet.Length < 16)
            {
                continue;
            }

            var request = new FakeUdpRequest(
                (UdpTrackerAction)BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(8)),
                BinaryPrimitives.ReadInt64BigEndian(packet),
                BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(12)),
                packet)
            {
                From = (IPEndPoint)received.RemoteEndPoint,
            };
            Requests.Enqueue(request);
            IEnumerable<byte[]>? replies = Intercept is { } intercept ? intercept(request) : [Answer(request)];
            foreach (byte[] reply in replies ?? [])
            {
                await _socket.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint, _stopping.Token);
            }
        }
    }
}
