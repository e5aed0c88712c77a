using System.Buffers;
using System.Net;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>
/// BEP 11 peer exchange: every <see cref="TorrentOptions.PexInterval"/> each ut_pex peer hears which peers we
/// connected to and lost since our last message (at most 50 of each), and the peers it tells us about become
/// candidates. Never for private torrents (BEP 27: peers come from the private tracker only).
/// </summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>Our id for ut_pex in the extension handshake (BEP 11).</summary>
    public const byte LocalPexExtensionId = 1;

    /// <summary>The name peers use for BEP 11 in the extension handshake.</summary>
    public const string PexExtensionName = "ut_pex";

    /// <summary>Peers taken from one received message; the rest are dropped (a message may list up to 200).</summary>
    private const int MaxPexPeersTaken = 50;

    private bool PexEnabled => !Metainfo.IsPrivate;

    /// <summary>
    /// Whether a peer is due a ut_pex message: each peer on its own clock, as libtorrent's ut_pex: the first as soon as
    /// there is something to tell it (so two peers meeting through a third learn of each other in seconds, which BEP 55
    /// holepunching needs), then one per <see cref="TorrentOptions.PexInterval"/>.
    /// </summary>
    private bool PexDue(PeerConnection peer, long now)
        => peer.LastPexSentAt == 0 || Time.GetElapsedTime(peer.LastPexSentAt, now) >= Options.PexInterval;

    /// <summary>Sends each ut_pex peer that is due what changed in our peer list since the last message to it.</summary>
    private void SendPex()
    {
        long now = Time.GetTimestamp();
        if (!PexEnabled || !_peerSet.Connected.Any(p => PexDue(p, now) && (p.Extensions?.GetMessageId(PexExtensionName) ?? 0) != 0))
        {
            return;
        }

        Dictionary<IPEndPoint, PexFlags> current = [];
        foreach (PeerConnection peer in _peerSet.Connected)
        {
            if (PeerSet.ListenEndPoint(peer) is { } endpoint)
            {
                current[endpoint] = (peer.IsSeed ? PexFlags.Seed : PexFlags.None) | (peer.IsOutgoing ? PexFlags.Reachable : PexFlags.None) | HolepunchFlags(peer);
            }
        }

        foreach (PeerConnection peer in _peerSet.Connected)
        {
            byte id = peer.Extensions?.GetMessageId(PexExtensionName) ?? 0;
            if (id == 0 || !PexDue(peer, now))
            {
                continue;
            }

            IPEndPoint? self = PeerSet.ListenEndPoint(peer);
            peer.PexSent ??= [];
            PexPeer[] added = [.. current.Where(c => !c.Key.Equals(self) && !peer.PexSent.Contains(c.Key)).Take(PexMessage.MaxPeersPerMessage).Select(c => new PexPeer(c.Key, c.Value))];
            IPEndPoint[] dropped = [.. peer.PexSent.Where(e => !current.ContainsKey(e)).Take(PexMessage.MaxPeersPerMessage)];
            if (added.Length == 0 && dropped.Length == 0)
            {
                if (peer.LastPexSentAt != 0)
                {
                    peer.LastPexSentAt = now; // nothing new: look again an interval later
                }

                continue;
            }

            peer.LastPexSentAt = now;

            foreach (PexPeer p in added)
            {
                peer.PexSent.Add(p.EndPoint);
            }

            foreach (IPEndPoint e in dropped)
            {
                peer.PexSent.Remove(e);
            }

            var output = new ArrayBufferWriter<byte>(64 + ((added.Length + dropped.Length) * 20));
            new PexMessage { Added = added, Dropped = dropped }.WriteMessage(output, id);
            peer.SendRaw(output.WrittenMemory);
        }
    }

    /// <summary>
    /// Peers a ut_pex message names become candidates: at most <see cref="MaxPexPeersTaken"/> a message (and the reader
    /// takes one message per 30 s of a peer), and only addresses as wide as the sender's own, so a peer on the internet
    /// cannot point us at our loopback or private networks. The dial rate and the per-address cap bound the rest.
    /// </summary>
    private void OnPexReceived(PeerConnection source, PexMessage message)
    {
        if (!PexEnabled)
        {
            return;
        }

        foreach (PexPeer peer in message.Added.Take(MaxPexPeersTaken))
        {
            if (!Transport.NetworkScopes.MayName(source.RemoteEndPoint.Address, peer.EndPoint.Address))
            {
                Metrics.Refused("scope");
                continue;
            }

            NoteIntroduced(source, peer);
            OnAddPeer(peer.EndPoint);
        }
    }
}
