using System.Buffers;
using System.Net;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>
/// BEP 55 ut_holepunch: two peers behind NATs that cannot dial each other, both connected to a third (the relay), meet
/// over uTP. The initiator, whose dial to a peer it learned by PEX failed, sends a rendezvous for that peer's endpoint to
/// the peer that told it of it; the relay sends each side a connect naming the other's endpoint as the relay sees it;
/// both dial over uTP at once, so each NAT has an outgoing mapping for the other's SYN to come in through. Simultaneous
/// SYNs make two uTP connections; the duplicate rule on the peer id (<see cref="ReplacesExisting"/>) keeps the same one
/// at both ends. Only for public torrents (it rides on PEX) and only when the session allows it.
/// </summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>Our id for ut_holepunch in the extension handshake (BEP 55).</summary>
    public const byte LocalHolepunchExtensionId = 4;

    /// <summary>Most endpoints remembered per peer as introduced by it (PEX with the holepunch flag).</summary>
    internal const int MaxIntroducedPerPeer = 200;

    /// <summary>
    /// Rendezvous and connect messages a peer may send per <see cref="RendezvousWindow"/>; more are dropped (counted): a
    /// relay cannot make us dial endpoints of its choosing faster than this, nor an initiator make us send more.
    /// </summary>
    internal const int MaxRendezvousPerWindow = 8;

    /// <summary>The window the rendezvous rate limit counts in.</summary>
    internal static readonly TimeSpan RendezvousWindow = TimeSpan.FromSeconds(60);

    /// <summary>Holepunch dials in progress at once, over every relay; a connect beyond them is dropped.</summary>
    internal const int MaxHolepunchDials = 8;

    /// <summary>A target is asked for through a relay at most once in this long (its dials back off meanwhile anyway).</summary>
    private static readonly TimeSpan RendezvousRetry = TimeSpan.FromMinutes(2);

    /// <summary>Most (target, relay) pairs remembered as refused, and targets as recently asked; cleared when full.</summary>
    private const int MaxRemembered = 1024;

    private readonly Dictionary<IPEndPoint, long> _rendezvousAsked = [];
    private readonly HashSet<(IPEndPoint Target, IPEndPoint Relay)> _rendezvousRefused = [];
    private readonly HashSet<IPEndPoint> _holepunchDialing = [];

    /// <summary>Whether this torrent speaks ut_holepunch: the session allows it and the torrent is public (PEX).</summary>
    internal bool HolepunchEnabled => _session.Options.Holepunch && PexEnabled;

    private HolepunchCounters Holepunch => _session.Holepunch;

    /// <summary>Whether the peer offered ut_holepunch in its extension handshake.</summary>
    private static bool SupportsHolepunch(PeerConnection peer) => (peer.Extensions?.GetMessageId(HolepunchMessage.ExtensionName) ?? 0) != 0;

    /// <summary>
    /// Where another peer should dial this one over uTP: the connection's own endpoint when it is uTP (that is the
    /// peer's UDP mapping), else its address with the port it announced, else the connection's endpoint.
    /// </summary>
    private static IPEndPoint HolepunchEndPoint(PeerConnection peer)
        => peer.IsUtp ? peer.RemoteEndPoint : PeerSet.ListenEndPoint(peer) ?? peer.RemoteEndPoint;

    private void OnHolepunchReceived(PeerConnection peer, HolepunchMessage message)
    {
        Metrics.Holepunch("in", message);
        if (message.Type == HolepunchMessageType.Rendezvous)
        {
            Holepunch.OnRendezvousReceived();
        }

        if (message.Type != HolepunchMessageType.Error && !WithinHolepunchRate(peer))
        {
            Holepunch.OnRateLimited();
            Metrics.Refused("holepunch_rate");
            return;
        }

        switch (message.Type)
        {
            case HolepunchMessageType.Rendezvous:
                OnRendezvous(peer, message.EndPoint);
                break;
            case HolepunchMessageType.Connect:
                OnHolepunchConnect(peer, message.EndPoint);
                break;
            case HolepunchMessageType.Error:
                Holepunch.OnErrorReceived();
                SwarmLog.HolepunchError(Log, _logName, peer.RemoteEndPoint, message.EndPoint, message.Error.Describe());
                if (_rendezvousRefused.Count >= MaxRemembered)
                {
                    _rendezvousRefused.Clear();
                }

                // Not through this relay again: it said why it cannot (no such peer, not connected, no support, no self).
                _rendezvousRefused.Add((message.EndPoint, peer.RemoteEndPoint));
                break;
        }
    }

    /// <summary>Counts a rendezvous or connect from <paramref name="peer"/>; false once it is over the rate.</summary>
    private bool WithinHolepunchRate(PeerConnection peer)
    {
        long now = Time.GetTimestamp();
        if (peer.RendezvousWindowStart == 0 || Time.GetElapsedTime(peer.RendezvousWindowStart, now) >= RendezvousWindow)
        {
            peer.RendezvousWindowStart = now;
            peer.RendezvousInWindow = 0;
        }

        return ++peer.RendezvousInWindow <= MaxRendezvousPerWindow;
    }

    /// <summary>As a relay: connect both sides, or tell the initiator why not (BEP 55's error codes, in libtorrent's order).</summary>
    private void OnRendezvous(PeerConnection initiator, IPEndPoint target)
    {
        target = Transport.TransportDefaults.Normalize(target);
        PeerConnection? found = null;
        foreach (PeerConnection candidate in _peerSet.Connected)
        {
            if (target.Equals(PeerSet.ListenEndPoint(candidate)) || target.Equals(candidate.RemoteEndPoint))
            {
                found = candidate;
                break;
            }
        }

        HolepunchError error = found switch
        {
            _ when found == initiator || target.Equals(HolepunchEndPoint(initiator)) || target.Equals(PeerSet.ListenEndPoint(initiator)) => HolepunchError.NoSelf,
            null => _peerSet.IsKnown(target) ? HolepunchError.NotConnected : HolepunchError.NoSuchPeer,
            _ when !SupportsHolepunch(found) => HolepunchError.NoSupport,
            _ => HolepunchError.None,
        };
        if (error != HolepunchError.None)
        {
            Holepunch.OnErrorSent();
            SendHolepunch(initiator, new HolepunchMessage(HolepunchMessageType.Error, target, error));
            return;
        }

        Holepunch.OnRelayed();
        SwarmLog.HolepunchRelayed(Log, _logName, initiator.RemoteEndPoint, found!.RemoteEndPoint);
        SendHolepunch(initiator, new HolepunchMessage(HolepunchMessageType.Connect, HolepunchEndPoint(found)));
        SendHolepunch(found, new HolepunchMessage(HolepunchMessageType.Connect, HolepunchEndPoint(initiator)));
    }

    /// <summary>
    /// A relay says connect: dial over uTP now (libtorrent does too, with its holepunch mode), unless connected or
    /// dialing it already. The endpoint is held to the relay's scope as PEX is: a relay cannot point us inside.
    /// </summary>
    private void OnHolepunchConnect(PeerConnection relay, IPEndPoint endpoint)
    {
        Holepunch.OnConnectReceived();
        endpoint = Transport.TransportDefaults.Normalize(endpoint);
        if (!Transport.NetworkScopes.MayName(relay.RemoteEndPoint.Address, endpoint.Address)
            || Transport.NetworkScopes.Of(endpoint.Address) == Transport.NetworkScope.Unroutable
            || endpoint.Equals(_session.LocalEndPoint))
        {
            Metrics.Refused("scope");
            return;
        }

        if (_peerSet.IsConnectedTo(endpoint) || _bans.IsBanned(endpoint.Address) || _holepunchDialing.Count >= MaxHolepunchDials || !_holepunchDialing.Add(endpoint)
            || State is not (TorrentState.Downloading or TorrentState.Seeding))
        {
            return;
        }

        _peerSet.AddKnown(endpoint);
        SwarmLog.HolepunchConnecting(Log, _logName, endpoint, relay.RemoteEndPoint);
        _ = HolepunchConnectAsync(endpoint);
    }

    private async Task HolepunchConnectAsync(IPEndPoint endpoint)
    {
        bool connected = false;
        try
        {
            await _session.ConnectAsync(this, endpoint, _stopping.Token, _handshakeHashes.For(endpoint), utpOnly: true).ConfigureAwait(false);
            connected = true;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException or InvalidDataException)
        {
            // The other side's SYN may still come in: the connection is then an incoming one.
        }
        finally
        {
            Post(new SwarmEvent(SwarmEventKind.Invoke, Payload: (Action)(() => OnHolepunchDialed(endpoint, connected))));
        }
    }

    private void OnHolepunchDialed(IPEndPoint endpoint, bool connected)
    {
        _holepunchDialing.Remove(endpoint);
        if (connected)
        {
            Holepunch.OnConnected();
        }
        else
        {
            Holepunch.OnConnectFailed();
        }

        Metrics.HolepunchConnect(connected);
        SwarmLog.HolepunchDialed(Log, _logName, endpoint, connected ? "connected over uTP" : "failed");
    }

    /// <summary>
    /// A dial failed: if the peer came by PEX with the holepunch flag from a peer still connected that speaks
    /// ut_holepunch (libtorrent's introducer), ask that peer to relay a rendezvous, once per target per two minutes and
    /// never again through a relay that answered with an error for it.
    /// </summary>
    private void TryRendezvous(IPEndPoint target)
    {
        if (!HolepunchEnabled || _peerSet.IsConnectedTo(target) || _holepunchDialing.Contains(target))
        {
            return;
        }

        long now = Time.GetTimestamp();
        if (_rendezvousAsked.TryGetValue(target, out long asked) && Time.GetElapsedTime(asked, now) < RendezvousRetry)
        {
            return;
        }

        foreach (PeerConnection relay in _peerSet.Connected)
        {
            if (relay.HolepunchIntroduced?.Contains(target) == true && SupportsHolepunch(relay) && !_rendezvousRefused.Contains((target, relay.RemoteEndPoint)))
            {
                if (_rendezvousAsked.Count >= MaxRemembered)
                {
                    _rendezvousAsked.Clear();
                }

                _rendezvousAsked[target] = now;
                Holepunch.OnRendezvousSent();
                SwarmLog.HolepunchRendezvous(Log, _logName, target, relay.RemoteEndPoint);
                SendHolepunch(relay, new HolepunchMessage(HolepunchMessageType.Rendezvous, target));
                return;
            }
        }
    }

    /// <summary>PEX named <paramref name="peer"/> with the holepunch flag: <paramref name="source"/> can relay to it.</summary>
    private static void NoteIntroduced(PeerConnection source, PexPeer peer)
    {
        if ((peer.Flags & PexFlags.SupportsHolepunch) == 0)
        {
            return;
        }

        source.HolepunchIntroduced ??= [];
        if (source.HolepunchIntroduced.Count < MaxIntroducedPerPeer)
        {
            source.HolepunchIntroduced.Add(Transport.TransportDefaults.Normalize(peer.EndPoint));
        }
    }

    /// <summary>The BEP 11 flags we give a peer in PEX: uTP when it is connected over uTP or speaks ut_holepunch (BEP 55 is uTP's), and holepunch.</summary>
    private static PexFlags HolepunchFlags(PeerConnection peer)
    {
        bool holepunch = SupportsHolepunch(peer);
        return (holepunch ? PexFlags.SupportsHolepunch : PexFlags.None) | (holepunch || peer.IsUtp ? PexFlags.SupportsUtp : PexFlags.None);
    }

    private void SendHolepunch(PeerConnection peer, HolepunchMessage message)
    {
        byte id = peer.Extensions?.GetMessageId(HolepunchMessage.ExtensionName) ?? 0;
        if (id == 0)
        {
            return;
        }

        Metrics.Holepunch("out", message);
        var output = new ArrayBufferWriter<byte>(PeerMessageWriter.ExtendedHeaderLength + HolepunchMessage.MaxLength);
        message.WriteMessage(output, id);
        peer.SendRaw(output.WrittenMemory);
    }
}
