using Google.Protobuf;
using PeerNet.Libp2p;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Fuzz;

/// <summary>
/// gossipsub RPCs from a peer: <see cref="GossipsubRpc.TryDecode"/> of the input as one RPC body, under tight limits
/// and under the default ones (what the tight ones accept, the default ones must too). A refusal names an error and
/// gives no RPC; an accepted RPC keeps every limit, encodes to a body that decodes to the same RPC, and framed (length
/// prefix) reads back to that body; each of its messages gets a message ID only with an 8-byte sequence number and an
/// author key, and <see cref="GossipsubRpc.Verify"/> gives an author exactly when valid and an error exactly when
/// invalid.
/// </summary>
public static class GossipsubTarget
{
    private static readonly GossipsubRpcLimits Tight = new()
    {
        MaxRpcLength = 4096,
        MaxSubscriptions = 4,
        MaxMessages = 4,
        MaxControlEntries = 4,
        MaxMessageIds = 8,
        MaxMessageIdLength = 48,
        MaxPeerExchange = 2,
        MaxSignedPeerRecordLength = 256,
        MaxTopicLength = 32,
    };

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        bool acceptedTight = DecodeAndCheck(data, Tight);
        bool acceptedDefault = DecodeAndCheck(data, GossipsubRpcLimits.Default);
        Check.That(acceptedDefault || !acceptedTight, "accepted under the tight limits but refused under the default ones");
    }

    private static bool DecodeAndCheck(ReadOnlySpan<byte> data, GossipsubRpcLimits limits)
    {
        if (!GossipsubRpc.TryDecode(data, limits, out Rpc? rpc, out string? error))
        {
            Check.That(!string.IsNullOrEmpty(error), "refused with no error");
            Check.That(rpc is null, "refused with an RPC");
            return false;
        }

        Check.That(error is null, "accepted with an error");
        CheckLimits(rpc, limits);

        // Re-encoding never grows an RPC (duplicate fields merge, varints come out minimal), so it fits the same limits.
        byte[] body = rpc.ToByteArray();
        Check.That(body.Length <= data.Length, "the RPC encodes longer than it was read");
        Check.That(GossipsubRpc.TryDecode(body, limits, out Rpc? again, out string? againError), $"its own encoding is refused: {againError}");
        Check.Equal(rpc, again, "RPC after an encode and decode");

        byte[] framed = GossipsubRpc.Framed(rpc);
        Check.That(LengthPrefixedMessage.TryRead(framed, limits.MaxRpcLength, out ReadOnlySpan<byte> unframed, out int consumed, out string? frameError) == VarintStatus.Ok, $"its frame does not read back: {frameError}");
        Check.Equal(framed.Length, consumed, "bytes consumed by its frame");
        Check.Bytes(body, unframed, "the framed body");

        foreach (PubsubWireMessage message in rpc.Publish)
        {
            CheckMessage(message);
        }

        return true;
    }

    private static void CheckLimits(Rpc rpc, GossipsubRpcLimits limits)
    {
        Check.That(rpc.Subscriptions.Count <= limits.MaxSubscriptions, "over the subscription limit");
        Check.That(rpc.Publish.Count <= limits.MaxMessages, "over the message limit");
        Check.That(rpc.Subscriptions.All(s => s.HasTopicid && TopicFits(s.Topicid, limits)), "a subscription without a topic, or over the topic limit");
        Check.That(rpc.Publish.All(m => !m.HasTopic || TopicFits(m.Topic, limits)), "a message over the topic limit");
        if (rpc.Control is not { } control)
        {
            return;
        }

        Check.That(new[] { control.Ihave.Count, control.Iwant.Count, control.Graft.Count, control.Prune.Count, control.Idontwant.Count }.All(n => n <= limits.MaxControlEntries), "over the control entry limit");
        foreach (IEnumerable<ByteString> ids in new[] { control.Ihave.SelectMany(i => i.MessageIDs), control.Iwant.SelectMany(i => i.MessageIDs), control.Idontwant.SelectMany(i => i.MessageIDs) })
        {
            List<ByteString> list = [.. ids];
            Check.That(list.Count <= limits.MaxMessageIds && list.All(id => id.Length <= limits.MaxMessageIdLength), "over the message ID limits");
        }

        Check.That(control.Ihave.All(i => i.HasTopicID && TopicFits(i.TopicID, limits)), "an IHAVE without a topic, or over the topic limit");
        Check.That(control.Graft.All(g => g.HasTopicID && TopicFits(g.TopicID, limits)), "a GRAFT without a topic, or over the topic limit");
        Check.That(control.Prune.All(p => p.HasTopicID && TopicFits(p.TopicID, limits)), "a PRUNE without a topic, or over the topic limit");
        Check.That(control.Prune.All(p => p.Peers.Count <= limits.MaxPeerExchange && p.Peers.All(x => x.SignedPeerRecord.Length <= limits.MaxSignedPeerRecordLength)), "over the peer exchange limits");
    }

    private static bool TopicFits(string topic, GossipsubRpcLimits limits) => System.Text.Encoding.UTF8.GetByteCount(topic) <= limits.MaxTopicLength;

    private static void CheckMessage(PubsubWireMessage message)
    {
        byte[]? id = GossipsubRpc.MessageId(message);
        if (id is not null)
        {
            Check.That(message.HasFrom && message.HasSeqno && message.Seqno.Length == 8, "a message ID without an author and an 8-byte sequence number");
            Check.Bytes(message.Seqno.Span, id.AsSpan(id.Length - 8), "the sequence number at the end of the message ID");
        }

        byte[] signed = GossipsubRpc.SignedBytes(message);
        Check.That(signed.AsSpan().StartsWith(GossipsubRpc.SignPrefix), "signed bytes without the prefix");

        PubsubSignatureStatus status = GossipsubRpc.Verify(message, out Libp2pPeerId? author, out string? verifyError);
        switch (status)
        {
            case PubsubSignatureStatus.Valid:
                Check.That(author is not null && verifyError is null, "valid without an author, or with an error");
                Check.That(id is not null, "a valid message without a message ID");
                Check.Bytes(author.Multihash.Span, message.From.Span, "the author of a valid message");
                break;
            case PubsubSignatureStatus.Invalid:
                Check.That(author is null && !string.IsNullOrEmpty(verifyError), "invalid with an author, or without an error");
                break;
            default:
                Check.That(author is null, "unsupported with an author");
                break;
        }
    }
}
