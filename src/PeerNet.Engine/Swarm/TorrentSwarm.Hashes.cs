using PeerNet.PeerWire;
using PeerNet.Storage;

namespace PeerNet.Swarm;

/// <summary>BEP 52 hash requests: answering peers that verify v2 blocks or lack a file's piece layer.</summary>
internal sealed partial class TorrentSwarm
{
    private MerkleHashServer? _hashServer;

    /// <summary>
    /// BEP 52: "Hash requests MUST be answered with either a 'hashes' or 'hash reject' message." We serve what
    /// the torrent's layers and our verified pieces prove; anything else, or more than
    /// <see cref="PeerLimits.MaxHashRequests"/> in progress at once (computed, or queued and not yet taken by the peer),
    /// gets a reject. Nodes at or above the piece layer come from memory and are answered at once; nodes below it need
    /// a piece read, done off the loop on the hashing queue. Replies overtake queued blocks
    /// (<see cref="PeerConnection.SendHashes"/>).
    /// </summary>
    private void OnHashRequest(PeerConnection peer, HashRequest request)
    {
        _hashServer ??= Metainfo.InfoHashes.V2 is null ? null : new MerkleHashServer(Storage.Map);
        if (_hashServer is null || !_hashServer.TryPlan(request, out int piece) || (piece >= 0 && !_have[piece])
            || !peer.TryBeginHashRequest(PeerLimits.MaxHashRequests))
        {
            Refuse(peer, "hash request");
            SendHashReject(peer, request);
            return;
        }

        MerkleHashServer server = _hashServer;
        if (piece < 0)
        {
            peer.SendHashes(new HashReply(request, server.GetHashes(request, Storage)));
            return;
        }

        _ = _session.Hashing.RunAsync(() => server.GetHashes(request, Storage), _stopping.Token).ContinueWith(
            t => Post(new SwarmEvent(SwarmEventKind.HashesReady, peer, Payload: new HashReply(request, t.IsCompletedSuccessfully ? t.Result : null))),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static void OnHashesReady(PeerConnection peer, HashReply reply)
    {
        if (reply.Hashes is null)
        {
            peer.EndHashRequest();
            SendHashReject(peer, reply.Request);
            return;
        }

        peer.SendHashes(reply);
    }

    /// <summary>Sends a hash request we will accept exactly one reply to; false if the peer has too many of ours (or this one) outstanding.</summary>
    private static bool SendHashRequest(PeerConnection peer, in HashRequest request)
    {
        if (!peer.TrackHashRequest(request, MaxHashRequestsSentPerPeer))
        {
            return false;
        }

        byte[] message = new byte[PeerMessageWriter.HashRequestLength];
        PeerMessageWriter.WriteHashRequest(message, request);
        peer.SendRaw(message);
        return true;
    }

    private static void SendHashReject(PeerConnection peer, in HashRequest request)
    {
        byte[] reject = new byte[PeerMessageWriter.HashRequestLength];
        PeerMessageWriter.WriteHashReject(reject, request);
        peer.SendUrgent(reject);
    }

    /// <summary>Our own BEP 52 requests outstanding to one peer at most (layer runs and block-hash requests).</summary>
    internal const int MaxHashRequestsSentPerPeer = 64;
}

/// <summary>
/// A BEP 52 reply: the request it answers and its hashes (the run, then its uncles), or null hashes when a request of a
/// peer's could not be answered (the piece could not be read).
/// </summary>
internal sealed record HashReply(HashRequest Request, Sha256Hash[]? Hashes);
