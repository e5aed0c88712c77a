using System.Net;
using PeerNet.Transport;

namespace PeerNet.Libp2p;

/// <summary>A libp2p peer as this node knows it: the connection, and what the peer said about itself in identify.</summary>
public sealed record Libp2pPeerInfo
{
    /// <summary>The peer's ID (authenticated by the Noise handshake when connected).</summary>
    public required Libp2pPeerId PeerId { get; init; }

    /// <summary>Whether this node has a connection to it now.</summary>
    public bool IsConnected { get; init; }

    /// <summary>Whether this node dialled it (of the first connection, when several).</summary>
    public bool Outbound { get; init; }

    /// <summary>Its address as this node sees it, while connected.</summary>
    public IPEndPoint? RemoteEndPoint { get; init; }

    /// <summary>The protocols it said it speaks (identify), empty before identify answered.</summary>
    public IReadOnlyList<string> Protocols { get; init; } = [];

    /// <summary>The addresses it said it listens on (identify).</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses { get; init; } = [];

    /// <summary>Its software (identify's <c>agentVersion</c>, e.g. <c>js-libp2p/3.3.11</c>).</summary>
    public string? AgentVersion { get; init; }

    /// <summary>Identify's <c>protocolVersion</c>.</summary>
    public string? ProtocolVersion { get; init; }

    /// <summary>This node's address as the peer sees it (identify's <c>observedAddr</c>).</summary>
    public Multiaddr? ObservedAddress { get; init; }
}

/// <summary>
/// The node's libp2p side (<see cref="PeerNetNode.Libp2p"/>), on the node's own TCP port: incoming dialers that open with
/// <c>/multistream/1.0.0</c> are secured with Noise (their peer ID authenticated), multiplexed with yamux, and served
/// ping, identify, identify/push and the protocols registered with <see cref="SetStreamHandler"/>. Outgoing: dial a
/// multiaddr, ping a peer, open a stream of a protocol to it.
/// </summary>
public sealed partial class Libp2pService
{
    private readonly Libp2pHost _host;
    private readonly IPeerTransport _transport;
    private readonly NodeIdentity _identity;
    private readonly CancellationToken _stopping;
    private readonly TimeSpan _timeout;

    internal Libp2pService(Libp2pHost host, IPeerTransport transport, NodeIdentity identity, IReadOnlyList<Multiaddr> listenAddresses, TimeSpan timeout, CancellationToken stopping, Libp2pDhtOptions? dhtOptions = null)
    {
        _host = host;
        _transport = transport;
        _identity = identity;
        ListenAddresses = listenAddresses;
        _timeout = timeout;
        _stopping = stopping;
        Dht = new Libp2pDht(host, ConnectAsync, () => ListenAddresses, dhtOptions, stopping);
    }

    /// <summary>The Kademlia DHT (<c>/ipfs/kad/1.0.0</c>): peer and content routing with js- and go-libp2p peers.</summary>
    public Libp2pDht Dht { get; }

    /// <summary>This node's peer ID (from <see cref="PeerNetNode.Identity"/>).</summary>
    public Libp2pPeerId PeerId => _identity.PeerId;

    /// <summary>Where other libp2p peers can dial this node: each ends in <c>/p2p/</c> and <see cref="PeerId"/>.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses { get; }

    /// <summary>
    /// What the libp2p resource manager holds now (a snapshot): connections, streams and reserved stream memory for the
    /// node, each peer and each protocol, its limits (<see cref="PeerNetNodeOptions.Libp2pLimits"/>) and the refusals
    /// so far by limit.
    /// </summary>
    public Libp2pResourceUsage Resources => _host.Resources.Snapshot();

    /// <summary>The protocols this node serves on streams (ping and identify, and those registered), sorted.</summary>
    public IReadOnlyList<string> Protocols => _host.Protocols;

    /// <summary>The peers connected now, with what identify said of each.</summary>
    public IReadOnlyList<Libp2pPeerInfo> ConnectedPeers =>
        [.. _host.Connections.GroupBy(c => c.RemotePeer).Select(g => Describe(g.Key, g.First()))];

    /// <summary>What this node knows of <paramref name="peer"/>: connected or not, identify's record if it ran; null if nothing.</summary>
    public Libp2pPeerInfo? FindPeer(Libp2pPeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        Libp2pConnection? connection = Find(peer);
        return connection is not null || _host.Peers.Get(peer) is not null ? Describe(peer, connection) : null;
    }

    /// <summary>
    /// Dials <paramref name="address"/> (<c>/ip4|ip6/ADDRESS/tcp/PORT</c>, and <c>/p2p/PEERID</c> to have the peer's ID
    /// checked in the Noise handshake), or reuses a connection to that peer; returns once identify answered (or failed).
    /// Throws <see cref="IOException"/> when the dial, Noise or yamux fails, with the reason
    /// (<see cref="Libp2pResourceLimitException"/> when the connection would go over a limit).
    /// </summary>
    public async Task<Libp2pPeerInfo> ConnectAsync(Multiaddr address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        (IPEndPoint endPoint, Libp2pPeerId? expected) = EndPointOf(address);
        if (expected is not null && Find(expected) is { } existing)
        {
            return Describe(expected, existing);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping);
        linked.CancelAfter(_timeout);
        IDuplexConnection raw;
        try
        {
            raw = await _transport.ConnectAsync(endPoint, linked.Token).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new IOException($"libp2p dial of {address} failed: {e.Message}", e);
        }

        Libp2pConnection connection;
        try
        {
            SecuredLibp2pConnection secured = await Libp2pSecurity.SecureOutboundAsync(raw, _identity, expected, linked.Token).ConfigureAwait(false);
            connection = await _host.AddConnectionAsync(secured.Connection, secured.RemotePeer, initiator: true, _stopping).WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch
        {
            await raw.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        try
        {
            await connection.Identified.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Connected, but identify is slow: the peer is described with what is known.
        }

        return Describe(connection.RemotePeer, connection);
    }

    /// <summary>Pings <paramref name="peer"/> (<c>/ipfs/ping/1.0.0</c>) over its connection and returns the round trip.</summary>
    public Task<TimeSpan> PingAsync(Libp2pPeerId peer, CancellationToken cancellationToken = default) =>
        _host.PingAsync(Connected(peer), cancellationToken);

    /// <summary>
    /// Opens a stream of <paramref name="protocol"/> to <paramref name="peer"/> (connected first with
    /// <see cref="ConnectAsync"/>); throws <see cref="IOException"/> when the peer does not speak it, and
    /// <see cref="Libp2pResourceLimitException"/> (naming the limit) when the stream would go over one. Write, then
    /// <see cref="Libp2pStream.CompleteWrites"/> when done sending, read the answer; dispose it at the end.
    /// </summary>
    public async Task<Libp2pStream> OpenStreamAsync(Libp2pPeerId peer, string protocol, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        return await _host.OpenStreamAsync(Connected(peer), [protocol], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves <paramref name="protocol"/> (e.g. <c>/myapp/chat/1.0.0</c>): each stream a peer opens for it is handed to
    /// <paramref name="handler"/> with the peer's authenticated ID; the stream is disposed when the handler returns.
    /// Replaces an earlier handler of the same protocol.
    /// </summary>
    public void SetStreamHandler(string protocol, Func<Libp2pStream, Libp2pPeerId, CancellationToken, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        ArgumentNullException.ThrowIfNull(handler);
        _host.SetHandler(protocol, (stream, connection, ct) => handler(stream, connection.RemotePeer, ct));
    }

    /// <summary>Stops serving <paramref name="protocol"/>; false when it was not served.</summary>
    public bool RemoveStreamHandler(string protocol) => _host.RemoveHandler(protocol);

    internal Libp2pHost Host => _host;

    /// <summary>
    /// Publish/subscribe over gossipsub v1.1 with the libp2p peers this node is connected to: subscribe to topics,
    /// publish signed messages, validate what arrives (see <see cref="Libp2pPubsub"/>).
    /// </summary>
    public Libp2pPubsub Pubsub => _pubsub ?? throw new InvalidOperationException("pubsub has not started");

    internal GossipsubRouter? PubsubRouter { get; private set; }

    private Libp2pPubsub? _pubsub;

    /// <summary>Starts the gossipsub router (its protocols served, its heartbeat on <paramref name="time"/>); PX dials through <see cref="ConnectAsync"/>.</summary>
    internal void StartPubsub(TimeProvider time, GossipsubOptions? options = null)
    {
        var router = new GossipsubRouter(_host, _identity, options, time, dial: (address, ct) => ConnectAsync(address, ct));
        router.Start();
        PubsubRouter = router;
        _pubsub = new Libp2pPubsub(router);
    }

    /// <summary>Stops the gossipsub router: subscriptions end, its streams close.</summary>
    internal ValueTask StopPubsubAsync() => PubsubRouter?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Takes an incoming connection Noise has secured: yamux, identify, the handlers (the node's hook).</summary>
    internal async Task AcceptAsync(SecuredLibp2pConnection secured, CancellationToken cancellationToken) =>
        await _host.AddConnectionAsync(secured.Connection, secured.RemotePeer, initiator: false, _stopping).WaitAsync(cancellationToken).ConfigureAwait(false);

    private Libp2pConnection? Find(Libp2pPeerId peer) => _host.Connections.FirstOrDefault(c => c.RemotePeer.Equals(peer));

    private Libp2pConnection Connected(Libp2pPeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return Find(peer) ?? throw new InvalidOperationException($"no libp2p connection to {peer}: ConnectAsync first");
    }

    private Libp2pPeerInfo Describe(Libp2pPeerId peer, Libp2pConnection? connection)
    {
        Libp2pPeerRecord? record = _host.Peers.Get(peer);
        return new Libp2pPeerInfo
        {
            PeerId = peer,
            IsConnected = connection is not null,
            Outbound = connection?.IsInitiator ?? false,
            RemoteEndPoint = connection?.RemoteEndPoint,
            Protocols = record?.Protocols ?? [],
            ListenAddresses = record?.ListenAddrs ?? [],
            AgentVersion = record?.AgentVersion,
            ProtocolVersion = record?.ProtocolVersion,
            ObservedAddress = record?.ObservedAddr,
        };
    }

    /// <summary>The TCP endpoint and the expected peer of a dialable multiaddr; <see cref="ArgumentException"/> otherwise.</summary>
    private static (IPEndPoint EndPoint, Libp2pPeerId? Peer) EndPointOf(Multiaddr address)
    {
        IReadOnlyList<MultiaddrComponent> parts = address.Components;
        if (parts.Count is < 2 or > 3
            || parts[0].Protocol is not (MultiaddrProtocol.Ip4 or MultiaddrProtocol.Ip6)
            || parts[1].Protocol != MultiaddrProtocol.Tcp
            || (parts.Count == 3 && parts[2].Protocol != MultiaddrProtocol.P2p))
        {
            throw new ArgumentException($"{address} is not a TCP address this node can dial (/ip4|ip6/ADDRESS/tcp/PORT[/p2p/PEERID])", nameof(address));
        }

        var endPoint = new IPEndPoint(IPAddress.Parse(parts[0].Value), int.Parse(parts[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        return (endPoint, address.PeerId);
    }
}
