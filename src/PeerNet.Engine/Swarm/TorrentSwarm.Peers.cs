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
    private readonly HandshakeHashes _handshakeHashes;

    private int _ticks;

    /// <summary>Connected peers (a snapshot, for status and tests).</summary>
    public int PeerCount => _peerSet.Count;

    /// <summary>Peer addresses known (for tests: a count read from another thread, which the loop may be changing).</summary>
    internal int KnownPeerCount => _peerSet.KnownCount;

    /// <summary>
    /// Ticks the loop has handled to their end (one a second): for tests, proof that the periodic work (peer exchange,
    /// choking, keep-alives, redials) had its turn, where checking that something did not happen needs one.
    /// </summary>
    internal int Ticks => Volatile.Read(ref _ticks);

    internal int NextPeerId() => Interlocked.Increment(ref _nextPeerId);

    /// <summary>Whether a new connection (incoming or outgoing) may join this torrent.</summary>
    internal bool CanAccept(IPAddress address)
        => State is TorrentState.Downloading or TorrentState.Seeding && _peerSet.HasRoomFor(address);

    /// <summary>Connections attached from (or to) <paramref name="address"/> (safe from any thread).</summary>
    internal int ConnectionsFrom(IPAddress address) => _peerSet.ConnectionsFrom(address);

    /// <summary>A peer that trackers or the DHT named under <paramref name="hash"/>, one of the torrent's swarm hashes.</summary>
    private void AddPeerFoundUnder(IPEndPoint peer, Sha1Hash hash)
    {
        _handshakeHashes.FoundUnder(peer, hash);
        AddPeerEndpoint(peer);
    }

    /// <summary>
    /// A candidate from any source (the user, trackers, the DHT, LSD, PEX: those that name peers for others have been
    /// held to <see cref="Transport.NetworkScopes.MayName(IPAddress, IPAddress)"/> already). Never port 0, an address
    /// that cannot be a peer (unspecified, multicast, broadcast, reserved), or our own listening address.
    /// </summary>
    private void OnAddPeer(IPEndPoint endpoint)
    {
        if (endpoint.Port == 0 || Transport.NetworkScopes.Of(endpoint.Address) == Transport.NetworkScope.Unroutable)
        {
            Metrics.Refused("unroutable");
            return;
        }

        if (endpoint.Equals(_session.LocalEndPoint))
        {
            Metrics.Refused("self");
            return;
        }

        if (_peerSet.AddKnown(endpoint))
        {
            ConnectMore();
        }
    }

    private void ConnectMore()
    {
        while (State is TorrentState.Downloading or TorrentState.Seeding
            && _peerSet.HasRoom
            && _session.CanDial
            && _peerSet.TryTakeDue(out IPEndPoint endpoint))
        {
            if (!_peerSet.TryStartDial(endpoint))
            {
                continue;
            }

            _session.CountDial();
            _ = ConnectAsync(endpoint);
        }
    }

    private async Task ConnectAsync(IPEndPoint endpoint)
    {
        bool connected = false;
        try
        {
            await _session.ConnectAsync(this, endpoint, _stopping.Token, _handshakeHashes.For(endpoint)).ConfigureAwait(false);
            connected = true;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException or InvalidDataException)
        {
            // Unreachable or wrong peers are normal: the peer list dials the address again after a backoff.
        }
        finally
        {
            Post(new SwarmEvent(SwarmEventKind.ConnectFinished, A: connected ? 1 : 0, Payload: endpoint));
        }
    }

    private void OnConnectFinished(IPEndPoint endpoint, bool connected)
    {
        _peerSet.DialFinished(endpoint, connected);
        if (!connected)
        {
            TryRendezvous(endpoint); // BEP 55: a peer PEX named with the holepunch flag may be reached through a relay
        }
    }

    /// <summary>Attaches a connection whose handshake succeeded; the loop takes it from here.</summary>
    internal void Attach(PeerConnection peer) => Post(new SwarmEvent(SwarmEventKind.PeerConnected, peer));

    private void OnPeerConnected(PeerConnection peer)
    {
        _peerSet.Handshaken(peer.RemoteEndPoint);
        bool overCap = _peerSet.IsAtAddressCap(peer.RemoteEndPoint.Address);
        if (overCap)
        {
            Metrics.Refused("address_cap");
        }

        if (State is not (TorrentState.Downloading or TorrentState.Seeding) || _bans.IsBanned(peer.RemoteEndPoint.Address) || overCap)
        {
            // Never added to the peer set, so OnPeerClosed will not release its session slot: release it here.
            peer.Close("not accepting peers");
            _session.OnPeerClosed();
            _ = peer.DisposeAsync().AsTask();
            return;
        }

        // Two nodes that learn of each other at once (LSD, PEX, trackers) dial each other, or one dials the other twice
        // (over IPv4 and IPv6): keep one connection, and the same one at both ends, or each end closes a different one
        // and none is left. The rule is libtorrent's (bt_peer_connection.cpp, on the peer id), so a libtorrent peer
        // keeps the same one as we do.
        if (_peerSet.FindByPeerId(peer.RemoteHandshake.PeerId) is { } existing)
        {
            Span<byte> local = stackalloc byte[PeerId.Length];
            Span<byte> remote = stackalloc byte[PeerId.Length];
            _session.LocalPeerId.CopyTo(local);
            peer.RemoteHandshake.PeerId.CopyTo(remote);
            if (!existing.IsClosed && !ReplacesExisting(peer.IsOutgoing, local, remote))
            {
                peer.Close("already connected to this peer");
                _session.OnPeerClosed();
                _ = peer.DisposeAsync().AsTask();
                return;
            }

            existing.Close("the peer's other connection is kept instead");
        }

        _peerSet.Add(peer);
        Metrics.PeersConnected.Add(1);
        SwarmLog.PeerConnected(Log, _logName, peer.RemoteEndPoint, peer.IsOutgoing ? "outgoing" : "incoming");
        Observer?.PeerConnected(peer.RemoteEndPoint, peer.IsOutgoing);
        if (peer.RemoteHandshake.SupportsExtensionProtocol)
        {
            peer.SendRaw(EncodeExtensionHandshake(peer));
        }

        SendPieceSet(peer);
        GrantAllowedFast(peer);
        peer.Start();
    }

    /// <summary>
    /// Whether a new connection to a peer we are already connected to replaces the existing one: yes if the new one
    /// was dialled by whichever of the two has the greater peer id. Both ends decide alike whatever the directions:
    /// the greater id keeps the connection it dialled, and when one side dialled both, the greater id keeps the
    /// newer, the lesser the older. This is libtorrent's rule (<c>(pid &lt; our_id) == is_outgoing()</c> keeps the new
    /// connection), so against libtorrent, the commonest peer, both ends keep the same connection.
    /// </summary>
    internal static bool ReplacesExisting(bool newIsOutgoing, ReadOnlySpan<byte> localPeerId, ReadOnlySpan<byte> remotePeerId)
        => (remotePeerId.SequenceCompareTo(localPeerId) < 0) == newIsOutgoing;

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
            RequestQueueLength = Math.Max(1, PeerLimits.MaxQueuedUploads), // BEP 10: at least 1
            YourIp = peer.RemoteEndPoint.Address,
            Messages = HolepunchEnabled
                ? new Dictionary<string, byte> { [MetadataExtensionName] = LocalMetadataExtensionId, [PexExtensionName] = LocalPexExtensionId, [HolepunchMessage.ExtensionName] = LocalHolepunchExtensionId }
                : PexEnabled
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
        if (!_peerSet.Remove(peer))
        {
            return;
        }

        Metrics.PeersConnected.Add(-1);
        SwarmLog.PeerClosed(Log, _logName, peer.RemoteEndPoint, peer.CloseReason ?? "closed");
        Observer?.PeerDisconnected(peer.RemoteEndPoint, peer.CloseReason ?? "closed");
        peer.UntrackAllRequests();
        peer.Outstanding = 0;
        if (peer.InPicker)
        {
            _picker.RemovePeer(peer.Id);
        }

        SuperSeedOnPeerClosed(peer);
        _layers.OnPeerGone(peer.Id);

        _session.OnPeerClosed();
        _ = peer.DisposeAsync().AsTask();
        if (!peer.AmChoking)
        {
            RunChoker();
        }

        ConnectMore();
    }

    /// <summary>
    /// An idle torrent (see the end of <see cref="OnTick"/>) is ticked once in this many timer ticks: a node seeding
    /// 1,000 torrents nobody asks for does not wake 1,000 loops a second. Any event makes it tick every second again.
    /// </summary>
    private const int IdleTickEvery = 10;

    private bool _idle;
    private int _timerTicks;

    private void OnTick()
    {
        long now = Time.GetTimestamp();
        int tick = _ticks + 1;
        if (tick % 10 == 0)
        {
            RunChoker();
        }

        _layers.RequestMissing();
        SendPex();
        Volatile.Write(ref _seedCount, _peerSet.Connected.Count(p => p.IsSeed));
        SuperSeedOnTick();

        foreach (PeerConnection peer in _peerSet.Connected)
        {
            if (Time.GetElapsedTime(peer.LastReceivedAt, now) > InactivityTimeout)
            {
                peer.Close("inactive for two minutes");
                continue;
            }

            if (peer.SendStalledFor(now) > PeerLimits.SendStallTimeout)
            {
                peer.CloseOverLimit("send_stall", $"stopped reading: a send waited {PeerLimits.SendStallTimeout.TotalSeconds:0} s for it to take data");
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

        if (tick % 30 == 0 && _resumeDirty)
        {
            SaveResume();
        }

        if (_peerSet.HasRoom)
        {
            _peerSet.QueueRetries(State == TorrentState.Seeding);
        }

        ConnectMore();

        // Nothing for a tick to look after: no peer, no dial, no address to try, no resume data or piece in flight.
        Volatile.Write(ref _idle, _peerSet.Count == 0 && _peerSet.ConnectingCount == 0 && _peerSet.KnownCount == 0 && !_resumeDirty
            && _pieceWriter.BufferCount == 0 && _pieceWriter.HashingCount == 0);
        Volatile.Write(ref _ticks, tick); // counted once handled: see Ticks
    }
}
