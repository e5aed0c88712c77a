using System.Buffers;
using PeerNet.PeerWire;
using PeerNet.Storage;

namespace PeerNet.Swarm;

/// <summary>BEP 52 hash requests: answering peers that verify v2 blocks or lack a file's piece layer.</summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>Hash requests one peer may have in progress; more are refused with hash reject.</summary>
    public const int MaxHashRequestsPerPeer = 4;

    private MerkleHashServer? _hashServer;

    /// <summary>
    /// BEP 52: "Hash requests MUST be answered with either a 'hashes' or 'hash reject' message." We serve what
    /// the torrent's layers and our verified pieces prove; anything else, or more than
    /// <see cref="MaxHashRequestsPerPeer"/> at once, gets a reject. Nodes at or above the piece layer come from memory
    /// and are answered at once; nodes below it need a piece read, done off the loop on the hashing queue. Replies
    /// overtake queued blocks (<see cref="PeerConnection.SendUrgent"/>).
    /// </summary>
    private void OnHashRequest(PeerConnection peer, HashRequest request)
    {
        _hashServer ??= Metainfo.InfoHashes.V2 is null ? null : new MerkleHashServer(Storage.Map);
        if (_hashServer is null || !_hashServer.TryPlan(request, out int piece) || (piece >= 0 && !_have[piece])
            || peer.HashRequestsInProgress >= MaxHashRequestsPerPeer)
        {
            SendHashReject(peer, request);
            return;
        }

        MerkleHashServer server = _hashServer;
        if (piece < 0)
        {
            SendHashes(peer, request, server.GetHashes(request, Storage));
            return;
        }

        peer.HashRequestsInProgress++;
        _ = _session.Hashing.RunAsync(() => server.GetHashes(request, Storage), _stopping.Token).ContinueWith(
            t => Post(new SwarmEvent(SwarmEventKind.HashesReady, peer, Payload: t.IsCompletedSuccessfully ? new HashReply(request, t.Result) : new HashReply(request, null))),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static void OnHashesReady(PeerConnection peer, HashReply reply)
    {
        peer.HashRequestsInProgress--;
        if (reply.Hashes is null)
        {
            SendHashReject(peer, reply.Request);
            return;
        }

        SendHashes(peer, reply.Request, reply.Hashes);
    }

    private static void SendHashes(PeerConnection peer, in HashRequest request, Sha256Hash[] hashes)
    {
        var encoded = new ArrayBufferWriter<byte>(PeerMessageWriter.HashRequestLength + (hashes.Length * Sha256Hash.Length));
        PeerMessageWriter.WriteHashes(encoded, request, hashes);
        peer.SendUrgent(encoded.WrittenMemory);
    }

    private static void SendHashRequest(PeerConnection peer, in HashRequest request)
    {
        byte[] message = new byte[PeerMessageWriter.HashRequestLength];
        PeerMessageWriter.WriteHashRequest(message, request);
        peer.SendRaw(message);
    }

    private static void SendHashReject(PeerConnection peer, in HashRequest request)
    {
        byte[] reject = new byte[PeerMessageWriter.HashRequestLength];
        PeerMessageWriter.WriteHashReject(reject, request);
        peer.SendUrgent(reject);
    }

    /// <summary>A computed answer (or null when the piece could not be read) to a peer's hash request.</summary>
    private sealed record HashReply(HashRequest Request, Sha256Hash[]? Hashes);
}
