using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using PeerNet.Diagnostics;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>
/// A torrent's peers: the connections attached, the addresses being dialled, every address known (<see cref="PeerList"/>:
/// backoff and redials), and the connections per remote address. The loop owns it; the accept path of other threads
/// reads only <see cref="Count"/>, <see cref="ConnectionsFrom"/> and <see cref="HasRoomFor"/>, which hold
/// <see cref="PeerLimits.MaxConnectionsPerAddress"/> and the torrent's connection limit for incoming peers too.
/// </summary>
internal sealed class PeerSet
{
    private readonly Dictionary<int, PeerConnection> _connected = [];
    private readonly ConcurrentDictionary<IPAddress, int> _connectionsByAddress = new(concurrencyLevel: 1, capacity: 4); // small: one per torrent, rarely written, and a node may host thousands of torrents
    private readonly HashSet<IPEndPoint> _connecting = [];
    private readonly PeerList _known;
    private readonly PeerBans _bans;
    private readonly int _maxConnections;
    private readonly int _maxConnectionsPerAddress;
    private readonly PeerNetMetrics _metrics;
    private int _count;

    /// <param name="known">The addresses known, with their dial backoff.</param>
    /// <param name="bans">Banned addresses are neither dialled nor kept.</param>
    /// <param name="maxConnections">The torrent's connection limit (<see cref="TorrentOptions.MaxConnections"/>).</param>
    /// <param name="maxConnectionsPerAddress">The session's per-address cap (<see cref="PeerLimits.MaxConnectionsPerAddress"/>).</param>
    /// <param name="metrics">Where refusals are counted.</param>
    public PeerSet(PeerList known, PeerBans bans, int maxConnections, int maxConnectionsPerAddress, PeerNetMetrics metrics)
    {
        _known = known;
        _bans = bans;
        _maxConnections = maxConnections;
        _maxConnectionsPerAddress = maxConnectionsPerAddress;
        _metrics = metrics;
    }

    /// <summary>Connected peers (safe from any thread).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The connected peers (on the loop).</summary>
    public Dictionary<int, PeerConnection>.ValueCollection Connected => _connected.Values;

    /// <summary>Dials in progress.</summary>
    public int ConnectingCount => _connecting.Count;

    /// <summary>Addresses known (a count that may be changing when read from another thread).</summary>
    public int KnownCount => _known.Count;

    /// <summary>Whether connections and dials together are under the torrent's limit (on the loop).</summary>
    public bool HasRoom => _connected.Count + _connecting.Count < _maxConnections;

    public bool TryGet(int id, [NotNullWhen(true)] out PeerConnection? peer) => _connected.TryGetValue(id, out peer);

    public bool Contains(int id) => _connected.ContainsKey(id);

    /// <summary>Connections attached from (or to) <paramref name="address"/> (safe from any thread).</summary>
    public int ConnectionsFrom(IPAddress address) => _connectionsByAddress.TryGetValue(address, out int count) ? count : 0;

    /// <summary>Whether a new connection from or to <paramref name="address"/> may join: not banned, under the torrent's limit and the per-address cap (safe from any thread).</summary>
    public bool HasRoomFor(IPAddress address)
        => !_bans.IsBanned(address) && Count + _connecting.Count < _maxConnections && ConnectionsFrom(address) < _maxConnectionsPerAddress;

    /// <summary>Whether <paramref name="address"/> has as many connections as the per-address cap allows.</summary>
    public bool IsAtAddressCap(IPAddress address) => ConnectionsFrom(address) >= _maxConnectionsPerAddress;

    /// <summary>Whether <paramref name="endpoint"/> is among the addresses known (connected or not).</summary>
    public bool IsKnown(IPEndPoint endpoint) => _known.Contains(endpoint);

    /// <summary>Adds a candidate; true if it is new.</summary>
    public bool AddKnown(IPEndPoint endpoint) => _known.Add(endpoint);

    /// <summary>The next known address due for a dial, if any.</summary>
    public bool TryTakeDue(out IPEndPoint endpoint) => _known.TryTakeDue(out endpoint);

    /// <summary>Makes addresses whose backoff has passed due again.</summary>
    public void QueueRetries(bool seeding) => _known.QueueRetries(seeding);

    /// <summary>
    /// Whether a due address is dialled now; if so it counts as connecting until <see cref="DialFinished"/>. A banned
    /// address is forgotten; one already connected or being dialled is marked connected; one at the per-address cap
    /// (connections and dials together) is tried again later, like an address whose dial failed.
    /// </summary>
    public bool TryStartDial(IPEndPoint endpoint)
    {
        if (_bans.IsBanned(endpoint.Address))
        {
            _known.Remove(endpoint);
            return false;
        }

        if (_connecting.Contains(endpoint) || IsConnectedTo(endpoint))
        {
            _known.Connected(endpoint);
            return false;
        }

        if (ConnectionsFrom(endpoint.Address) + DialsTo(endpoint.Address) >= _maxConnectionsPerAddress)
        {
            _metrics.Refused("address_cap");
            _known.DialFailed(endpoint);
            return false;
        }

        _connecting.Add(endpoint);
        return true;
    }

    /// <summary>A dial ended, with a kept connection or without one.</summary>
    public void DialFinished(IPEndPoint endpoint, bool connected)
    {
        _connecting.Remove(endpoint);
        if (!connected)
        {
            _known.DialFailed(endpoint);
        }
        else if (!IsConnectedTo(endpoint))
        {
            // The handshake worked but the connection was not kept (another connection to the same peer was, or the
            // torrent stopped taking peers): the address may be dialled again later, as after any ended connection.
            _known.Disconnected(endpoint, wasSeed: false);
        }
    }

    /// <summary>A connection's handshake is done: it no longer counts as a dial in progress.</summary>
    public void Handshaken(IPEndPoint endpoint) => _connecting.Remove(endpoint);

    /// <summary>The connected peer with this peer id, if any.</summary>
    public PeerConnection? FindByPeerId(PeerId id)
    {
        foreach (PeerConnection peer in _connected.Values)
        {
            if (peer.RemoteHandshake.PeerId == id)
            {
                return peer;
            }
        }

        return null;
    }

    /// <summary>Attaches a connection (the loop has decided to keep it).</summary>
    public void Add(PeerConnection peer)
    {
        _connected[peer.Id] = peer;
        CountConnection(peer.RemoteEndPoint.Address, 1);
        if (peer.IsOutgoing)
        {
            _known.Connected(peer.RemoteEndPoint);
        }

        Interlocked.Increment(ref _count);
    }

    /// <summary>Detaches a closed connection; false if it was never attached. Its listen address may be redialled later.</summary>
    public bool Remove(PeerConnection peer)
    {
        if (!_connected.Remove(peer.Id))
        {
            return false;
        }

        CountConnection(peer.RemoteEndPoint.Address, -1);
        if (ListenEndPoint(peer) is { } endpoint && !_bans.IsBanned(endpoint.Address))
        {
            _known.Disconnected(endpoint, peer.IsSeed);
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>An incoming peer said where it listens (BEP 10 <c>p</c>): not dialled there while this connection lasts, redialled after it ends.</summary>
    public void ListenPortLearned(PeerConnection peer)
    {
        if (!peer.IsOutgoing && _connected.ContainsKey(peer.Id) && ListenEndPoint(peer) is { } endpoint)
        {
            _known.Connected(endpoint);
        }
    }

    /// <summary>Takes every connection out of the set (at shutdown).</summary>
    public PeerConnection[] TakeAll()
    {
        PeerConnection[] peers = [.. _connected.Values];
        _connected.Clear();
        return peers;
    }

    /// <summary>Whether a connected peer listens at <paramref name="endpoint"/> (we dialled it there, or it announced that port).</summary>
    public bool IsConnectedTo(IPEndPoint endpoint)
    {
        foreach (PeerConnection peer in _connected.Values)
        {
            if (endpoint.Equals(ListenEndPoint(peer)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where a peer accepts connections: the address we dialled, or its address and the port it announced (BEP 10 <c>p</c>).</summary>
    public static IPEndPoint? ListenEndPoint(PeerConnection peer)
        => peer.IsOutgoing ? peer.RemoteEndPoint
            : peer.Extensions?.ListenPort is int port ? new IPEndPoint(peer.RemoteEndPoint.Address, port) : null;

    private int DialsTo(IPAddress address)
    {
        int n = 0;
        foreach (IPEndPoint endpoint in _connecting)
        {
            if (endpoint.Address.Equals(address))
            {
                n++;
            }
        }

        return n;
    }

    private void CountConnection(IPAddress address, int delta)
    {
        int count = _connectionsByAddress.AddOrUpdate(address, delta, (_, c) => c + delta);
        if (count <= 0)
        {
            _connectionsByAddress.TryRemove(address, out _);
        }
    }
}
