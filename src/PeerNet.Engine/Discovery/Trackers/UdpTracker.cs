using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using PeerNet.Tracker;
using PeerNet.Transport;

namespace PeerNet.Discovery.Trackers;

/// <summary>
/// A BEP 15 UDP tracker: asked from the node's UDP socket of its family when the node has one (replies are routed
/// here by the transaction ids issued, so the tracker sees the node's port), else from a connected UDP socket of its
/// own; one transaction at a time, a connection id kept for a
/// minute, and the spec's retransmission schedule (15 · 2^n seconds, n up to 8; both configurable). Replies with
/// another transaction id (late answers to an earlier try) are skipped, not taken as failures.
/// </summary>
internal sealed class UdpTracker : ITracker
{
    private readonly TrackerClientOptions _options;
    private readonly TimeProvider _time;
    private readonly string _host;
    private readonly int _port;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _receive = new byte[TrackerLimits.MaxUdpPacketBytes];
    private readonly IReadOnlyList<DatagramDemux> _datagrams;
    private Socket? _socket;
    private DatagramDemux? _shared;
    private IPEndPoint? _remote;
    private long _connectionId;
    private long _connectionIdAt;
    private bool _hasConnectionId;

    public UdpTracker(string url, TrackerClientOptions options, TimeProvider time, IReadOnlyList<DatagramDemux>? datagrams = null)
    {
        Url = url;
        _datagrams = datagrams ?? [];
        _options = options;
        _time = time;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme != "udp" || uri.Port <= 0 || uri.Host.Length == 0)
        {
            throw new ArgumentException($"'{url}' is not udp://HOST:PORT", nameof(url));
        }

        _host = uri.DnsSafeHost;
        _port = uri.Port;
    }

    public string Url { get; }

    /// <inheritdoc />
    public NetworkScope Scope { get; private set; } = NetworkScope.Global;

    /// <summary>True when the last reply came over IPv6, so announce replies carry 18-byte peers (for tests).</summary>
    internal bool IsIPv6 => _remote?.AddressFamily == AddressFamily.InterNetworkV6;

    public async Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await TransactAsync(
            (buffer, connectionId, transactionId) => UdpTrackerPacket.WriteAnnounce(buffer, connectionId, transactionId, request),
            (packet, transactionId) => UdpTrackerPacket.TryReadAnnounce(packet, transactionId, IsIPv6, out AnnounceResponse? response, out TrackerError error, _options.Limits)
                ? response
                : throw Failure("announce", error, packet),
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyDictionary<Sha1Hash, ScrapeStats>> ScrapeAsync(IReadOnlyList<Sha1Hash> infoHashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        Sha1Hash[] hashes = [.. infoHashes.Take(TrackerLimits.MaxUdpScrapeHashes)];
        IReadOnlyList<ScrapeStats> stats = await TransactAsync(
            (buffer, connectionId, transactionId) => UdpTrackerPacket.WriteScrape(buffer, connectionId, transactionId, hashes),
            (packet, transactionId) => UdpTrackerPacket.TryReadScrape(packet, transactionId, hashes.Length, out IReadOnlyList<ScrapeStats>? stats, out TrackerError error)
                ? stats
                : throw Failure("scrape", error, packet),
            cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<Sha1Hash, ScrapeStats>(stats.Count);
        for (int i = 0; i < stats.Count; i++)
        {
            result[hashes[i]] = stats[i];
        }

        return result;
    }

    public void Dispose()
    {
        DropSocket();
        _gate.Dispose();
    }

    private delegate int RequestWriter(Span<byte> buffer, long connectionId, uint transactionId);

    private delegate T ResponseReader<T>(ReadOnlySpan<byte> packet, uint transactionId);

    /// <summary>
    /// BEP 15: "If a response is not received after 15 * 2 ^ n seconds, the client should retransmit the request,
    /// where n starts at 0 and is increased up to 8 (3840 seconds) after every retransmission. Note that it is
    /// necessary to rerequest a connection ID when it has expired." One n counts the connect and the request alike.
    /// </summary>
    private async Task<T> TransactAsync<T>(RequestWriter write, ResponseReader<T> read, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ResolveAsync(cancellationToken).ConfigureAwait(false);
            byte[] request = new byte[UdpTrackerPacket.ScrapeRequestHeaderLength + (TrackerLimits.MaxUdpScrapeHashes * Sha1Hash.Length)];
            for (int n = 0; ; n++)
            {
                if (n > _options.UdpMaxRetransmissions)
                {
                    throw new TrackerException($"no answer after {_options.UdpMaxRetransmissions + 1} tries");
                }

                TimeSpan wait = _options.UdpBaseTimeout * Math.Pow(2, n);
                if (!HasFreshConnectionId())
                {
                    uint connectTx = NewTransactionId();
                    int connectLength = UdpTrackerPacket.WriteConnect(request, connectTx);
                    int replyLength = await ExchangeAsync(request.AsMemory(0, connectLength), connectTx, wait, cancellationToken).ConfigureAwait(false);
                    if (replyLength < 0)
                    {
                        continue;
                    }

                    if (!UdpTrackerPacket.TryReadConnect(_receive.AsSpan(0, replyLength), connectTx, out long connectionId, out TrackerError error))
                    {
                        throw Failure("connect", error, _receive.AsSpan(0, replyLength));
                    }

                    _connectionId = connectionId;
                    _connectionIdAt = _time.GetTimestamp();
                    _hasConnectionId = true;
                }

                uint tx = NewTransactionId();
                int length = write(request, _connectionId, tx);
                int received = await ExchangeAsync(request.AsMemory(0, length), tx, wait, cancellationToken).ConfigureAwait(false);
                if (received >= 0)
                {
                    return read(_receive.AsSpan(0, received), tx);
                }
            }
        }
        catch (SocketException e)
        {
            // A connected UDP socket reports an ICMP port unreachable as a refused connection: the tracker is not there.
            DropSocket();
            throw new TrackerException($"{e.SocketErrorCode}: {e.Message}", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool HasFreshConnectionId() => _hasConnectionId && _time.GetElapsedTime(_connectionIdAt) < _options.UdpConnectionIdLifetime;

    /// <summary>Sends one datagram and waits up to <paramref name="wait"/> for the reply to it; returns its length, or -1 on timeout.</summary>
    private async Task<int> ExchangeAsync(ReadOnlyMemory<byte> datagram, uint transactionId, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_shared is { } demux)
        {
            return await ExchangeSharedAsync(demux, _remote!, datagram, transactionId, wait, cancellationToken).ConfigureAwait(false);
        }

        Socket socket = _socket!;
        using var timeout = new CancellationTokenSource(wait, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        await socket.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                int length = await socket.ReceiveAsync(_receive, SocketFlags.None, linked.Token).ConfigureAwait(false);

                // BEP 15: "Check whether the transaction ID is equal to the one you chose." Another one is a late reply
                // to an earlier try (or noise): skip it and keep waiting for ours.
                if (UdpTrackerPacket.TryReadHeader(_receive.AsSpan(0, length), out _, out uint id) && id == transactionId)
                {
                    return length;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return -1;
        }
    }

    /// <summary>The same over the node's socket: the demultiplexer hands us the reply with our id from the tracker's address, and only that.</summary>
    private async Task<int> ExchangeSharedAsync(DatagramDemux demux, IPEndPoint remote, ReadOnlyMemory<byte> datagram, uint transactionId, TimeSpan wait, CancellationToken cancellationToken)
    {
        using DatagramDemux.TrackerTransaction? pending = demux.ExpectTrackerReply(transactionId, remote);
        if (pending is null)
        {
            // That id is someone else's right now, or too many are awaited: this try is lost, as a datagram can be, and
            // waits its turn like one (failing at once would burn the retries of every tracker while the node is busy).
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            return -1;
        }

        await demux.SendAsync(datagram, remote, cancellationToken).ConfigureAwait(false);
        try
        {
            byte[] reply = await pending.Reply.WaitAsync(wait, _time, cancellationToken).ConfigureAwait(false);
            reply.CopyTo(_receive, 0);
            return reply.Length;
        }
        catch (TimeoutException)
        {
            return -1;
        }
    }

    /// <summary>Finds the tracker's address, and the socket to ask it from: the node's of that family, or a connected one of our own.</summary>
    private async Task ResolveAsync(CancellationToken cancellationToken)
    {
        if (_socket is not null || _shared is not null)
        {
            return;
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(_host, out IPAddress? literal) ? [literal] : await Dns.GetHostAddressesAsync(_host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new TrackerException($"cannot resolve {_host}: {e.SocketErrorCode}", e);
        }

        if (addresses.Length == 0)
        {
            throw new TrackerException($"{_host} has no address");
        }

        // IPv4 first when the name has both: most UDP trackers answer there, and the peer size follows the family.
        IPAddress address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses[0];
        if (NetworkScopes.Of(address) == NetworkScope.Unroutable)
        {
            throw new TrackerException($"{_host} resolves to {address}, which is not a unicast address");
        }

        Scope = NetworkScopes.Of(address);
        var remote = new IPEndPoint(address, _port);
        _hasConnectionId = false;
        if (_datagrams.FirstOrDefault(d => d.Family == address.AddressFamily) is { } demux)
        {
            (_shared, _remote) = (demux, remote);
            return;
        }

        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        (_socket, _remote) = (socket, remote);
    }

    private void DropSocket()
    {
        _socket?.Dispose();
        (_socket, _shared, _remote) = (null, null, null);
        _hasConnectionId = false;
    }

    private static uint NewTransactionId()
    {
        Span<byte> bytes = stackalloc byte[4];
        RandomNumberGenerator.Fill(bytes);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    private static TrackerException Failure(string what, TrackerError error, ReadOnlySpan<byte> packet) => error == TrackerError.Failure
        ? new TrackerException($"tracker refused: {UdpTrackerPacket.ReadErrorMessage(packet)}") { IsRefusal = true }
        : new TrackerException(string.Create(CultureInfo.InvariantCulture, $"{what} response: {error.Describe()} ({packet.Length} bytes)"));
}
