using System.Buffers;
using System.Net;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    private static readonly TimeSpan InactivityTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SnubTimeout = TimeSpan.FromSeconds(30);

    private readonly RateMeter _downloadRate;
    private readonly RateMeter _uploadRate;
    private readonly HashSet<IPEndPoint> _known = [];
    private readonly Queue<IPEndPoint> _candidates = new();
    private readonly HashSet<IPEndPoint> _connecting = [];
    private readonly HandshakeHashes _handshakeHashes;

    private int _ticks;

    /// <summary>Connected peers (a snapshot, for status and tests).</summary>
    public int PeerCount => Volatile.Read(ref _peerCount);

    internal int NextPeerId() => Interlocked.Increment(ref _nextPeerId);

    /// <summary>Whether a new connection (incoming or outgoing) may join this torrent.</summary>
    internal bool CanAccept(IPAddress address)
        => State is TorrentState.Downloading or TorrentState.Seeding && !_banned.ContainsKey(address)
            && Volatile.Read(ref _peerCount) + _connecting.Count < Options.MaxConnections;

    /// <summary>A peer that trackers or the DHT named under <paramref name="hash"/>, one of the torrent's swarm hashes.</summary>
    private void AddPeerFoundUnder(IPEndPoint peer, Sha1Hash hash)
    {
        _handshakeHashes.FoundUnder(peer, hash);
        AddPeerEndpoint(peer);
    }

    private void OnAddPeer(IPEndPoint endpoint)
    {
        if (_known.Add(endpoint) && _known.Count <= Options.MaxKnownPeers)
        {
            _candidates.Enqueue(endpoint);
            ConnectMore();
        }
    }

    private void ConnectMore()
    {
        while (_candidates.Count > 0 && State is TorrentState.Downloading or TorrentState.Seeding
            && _peers.Count + _connecting.Count < Options.MaxConnections)
        {
            IPEndPoint endpoint = _candidates.Dequeue();
            if (_banned.ContainsKey(endpoint.Address) || _peers.Values.Any(p => p.RemoteEndPoint.Equals(endpoint)) || !_connecting.Add(endpoint))
            {
                continue;
            }

            _ = ConnectAsync(endpoint);
        }
    }

    private async Task ConnectAsync(IPEndPoint endpoint)
    {
        try
        {
            await _session.ConnectAsync(this, endpoint, _stopping.Token, _handshakeHashes.For(endpoint)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException or InvalidDataException)
        {
            // Unreachable or wrong peers are normal; the endpoint stays known and may be retried later.
        }
        finally
        {
            Post(new SwarmEvent(SwarmEventKind.ConnectFinished, Payload: endpoint));
        }
    }

    /// <summary>Attaches a connection whose handshake succeeded; the loop takes it from here.</summary>
    internal void Attach(PeerConnection peer) => Post(new SwarmEvent(SwarmEventKind.PeerConnected, peer));

    private void OnPeerConnected(PeerConnection peer)
    {
        _connecting.Remove(peer.RemoteEndPoint);
        if (State is not (TorrentState.Downloading or TorrentState.Seeding) || _banned.ContainsKey(peer.RemoteEndPoint.Address))
        {
            // Never added to _peers, so OnPeerClosed will not release its session slot: release it here.
            peer.Close("not accepting peers");
            _session.OnPeerClosed();
            _ = peer.DisposeAsync().AsTask();
            return;
        }

        // Two nodes that learn of each other at once (LSD, PEX, trackers) dial each other, or one dials the other twice
        // (over IPv4 and IPv6): keep one connection, and the same one at both ends, or each end closes a different one
        // and none is left. Both ends see who dialed each connection and from which port, so both keep the same one.
        if (_peers.Values.FirstOrDefault(p => p.RemoteHandshake.PeerId == peer.RemoteHandshake.PeerId) is { } existing)
        {
            if (!existing.IsClosed && CompareDialers(peer, existing) >= 0)
            {
                peer.Close("already connected to this peer");
                _session.OnPeerClosed();
                _ = peer.DisposeAsync().AsTask();
                return;
            }

            existing.Close("the peer's other connection is kept instead");
        }

        _peers[peer.Id] = peer;
        Interlocked.Increment(ref _peerCount);
        SwarmMetrics.PeersConnected.Add(1);
        SwarmLog.PeerConnected(Log, Metainfo.Name, peer.RemoteEndPoint, peer.IsOutgoing ? "outgoing" : "incoming");
        if (peer.RemoteHandshake.SupportsExtensionProtocol)
        {
            peer.SendRaw(EncodeExtensionHandshake(peer));
        }

        SendPieceSet(peer);
        GrantAllowedFast(peer);
        peer.Start();
    }

    /// <summary>
    /// Orders two connections to one peer the same way at both ends: by the peer id of the side that dialed, then by the
    /// port it dialed from (its local port, our remote one).
    /// </summary>
    private int CompareDialers(PeerConnection a, PeerConnection b)
    {
        Span<byte> dialerA = stackalloc byte[PeerId.Length];
        Span<byte> dialerB = stackalloc byte[PeerId.Length];
        (a.IsOutgoing ? _session.LocalPeerId : a.RemoteHandshake.PeerId).CopyTo(dialerA);
        (b.IsOutgoing ? _session.LocalPeerId : b.RemoteHandshake.PeerId).CopyTo(dialerB);
        int byId = dialerA.SequenceCompareTo(dialerB);
        return byId != 0 ? byId : DialerPort(a).CompareTo(DialerPort(b));
    }

    private static int DialerPort(PeerConnection peer) => peer.IsOutgoing ? peer.LocalEndPoint.Port : peer.RemoteEndPoint.Port;

    private void SendPieceSet(PeerConnection peer)
    {
        if (TryStartSuperSeeding(peer))
        {
            return;
        }

        int have = _have.SetCount;
        if (peer.SupportsFast && have == 0)
        {
            peer.SendRaw(PeerMessageWriter.HaveNone);
        }
        else if (peer.SupportsFast && have == PieceCount)
        {
            peer.SendRaw(PeerMessageWriter.HaveAll);
        }
        else if (have > 0)
        {
            var buffer = new ArrayBufferWriter<byte>(PeerMessageWriter.BitfieldHeaderLength + ((PieceCount + 7) / 8));
            PeerMessageWriter.WriteBitfield(buffer, _have.ToBytes());
            peer.SendRaw(buffer.WrittenMemory);
        }
    }

    /// <summary>
    /// BEP 6: grants a peer its allowed-fast pieces among those we have, so a new peer can get its first pieces
    /// (and something to trade) before any unchoke. Granting is optional; we do it for every fast peer.
    /// </summary>
    private void GrantAllowedFast(PeerConnection peer)
    {
        if (!peer.SupportsFast || IsSuperSeeded(peer))
        {
            // A super-seeded peer is shown pieces one by one; allowed-fast grants would show it more (and BEP 6
            // derives them from the /24, so peers on one network would all fetch the same few).
            return;
        }

        int[] granted = [.. AllowedFastSet.Compute(peer.RemoteEndPoint.Address, Metainfo.InfoHashes.WireHash.ToArray(), PieceCount).Where(p => _have[p])];
        peer.GrantedFast = granted;
        foreach (int piece in granted)
        {
            peer.SendAllowedFast(piece);
        }
    }

    private ReadOnlyMemory<byte> EncodeExtensionHandshake(PeerConnection peer)
    {
        var handshake = new ExtensionHandshake
        {
            ClientName = SwarmSession.ClientName,
            ListenPort = _session.ListenPort,
            RequestQueueLength = Options.MaxRequestsPerPeer,
            YourIp = peer.RemoteEndPoint.Address,
            Messages = PexEnabled
                ? new Dictionary<string, byte> { [MetadataExtensionName] = LocalMetadataExtensionId, [PexExtensionName] = LocalPexExtensionId }
                : new Dictionary<string, byte> { [MetadataExtensionName] = LocalMetadataExtensionId },
            MetadataSize = Metainfo.InfoBytes.Length,
        };
        var buffer = new ArrayBufferWriter<byte>(160);
        handshake.WriteMessage(buffer);
        return buffer.WrittenMemory;
    }

    private void OnPeerClosed(PeerConnection peer)
    {
        if (!_peers.Remove(peer.Id))
        {
            return;
        }

        Interlocked.Decrement(ref _peerCount);
        SwarmMetrics.PeersConnected.Add(-1);
        SwarmLog.PeerClosed(Log, Metainfo.Name, peer.RemoteEndPoint, peer.CloseReason ?? "closed");
        peer.UntrackAllRequests();
        peer.Outstanding = 0;
        if (peer.InPicker)
        {
            _picker.RemovePeer(peer.Id);
        }

        SuperSeedOnPeerClosed(peer);

        _session.OnPeerClosed();
        _ = peer.DisposeAsync().AsTask();
        if (!peer.AmChoking)
        {
            RunChoker();
        }

        ConnectMore();
    }

    private void OnTick()
    {
        long now = Time.GetTimestamp();
        if (++_ticks % 10 == 0)
        {
            RunChoker();
        }

        RequestMissingLayers();
        SendPex();
        SuperSeedOnTick();

        foreach (PeerConnection peer in _peers.Values)
        {
            if (Time.GetElapsedTime(peer.LastReceivedAt, now) > InactivityTimeout)
            {
                peer.Close("inactive for two minutes");
                continue;
            }

            if (Time.GetElapsedTime(peer.LastSentAt, now) > KeepAliveInterval)
            {
                peer.SendRaw(PeerMessageWriter.KeepAlive);
            }

            // A peer that stops answering our requests is snubbed: its requests go to others, and the
            // choker stops counting on it (BEP 3 leaves timeouts to clients; libtorrent uses 60 s).
            if (peer.Outstanding > 0 && Time.GetElapsedTime(peer.LastBlockAt, now) > SnubTimeout)
            {
                peer.IsSnubbed = true;
                ReleaseRequests(peer);
            }
        }

        if (_ticks % 30 == 0 && _resumeDirty)
        {
            SaveResume();
        }

        ConnectMore();
    }
}
