using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using NSec.Cryptography;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>The bounds a peer's RPC is read within; every count is checked before anything acts on the RPC.</summary>
internal sealed record GossipsubRpcLimits
{
    /// <summary>The usual bounds (go-libp2p's 1 MiB message size; js-libp2p's counts, tighter where it costs nothing).</summary>
    public static GossipsubRpcLimits Default { get; } = new();

    /// <summary>Longest RPC read (its length prefix is refused beyond it): 1 MiB, go-libp2p's default.</summary>
    public int MaxRpcLength { get; init; } = 1 << 20;

    /// <summary>Most subscription changes in one RPC.</summary>
    public int MaxSubscriptions { get; init; } = 1000;

    /// <summary>Most messages in one RPC.</summary>
    public int MaxMessages { get; init; } = 1000;

    /// <summary>Most control entries (IHAVE, IWANT, GRAFT, PRUNE, IDONTWANT each) in one RPC.</summary>
    public int MaxControlEntries { get; init; } = 1000;

    /// <summary>Most message IDs in one RPC's IHAVEs together, and likewise IWANTs and IDONTWANTs (js's GossipsubMaxIHaveLength).</summary>
    public int MaxMessageIds { get; init; } = 5000;

    /// <summary>Longest message ID.</summary>
    public int MaxMessageIdLength { get; init; } = 256;

    /// <summary>Most peers in one PRUNE's peer exchange (js's GossipsubPrunePeers).</summary>
    public int MaxPeerExchange { get; init; } = 16;

    /// <summary>Longest signed peer record kept from peer exchange.</summary>
    public int MaxSignedPeerRecordLength { get; init; } = 4096;

    /// <summary>Longest topic, in UTF-8 bytes.</summary>
    public int MaxTopicLength { get; init; } = 512;
}

/// <summary>How a message's StrictSign fields checked out.</summary>
internal enum PubsubSignatureStatus
{
    /// <summary>Signed by its author, whose peer ID is in <c>from</c>.</summary>
    Valid,

    /// <summary>Missing or malformed fields, a key that is not the author's, or a signature that does not verify.</summary>
    Invalid,

    /// <summary>Signed with a key type this side cannot check (only Ed25519 is); neither valid nor held against the sender.</summary>
    Unsupported,
}

/// <summary>
/// libp2p pubsub's wire format (specs/pubsub: the <c>RPC</c> protobuf, length-prefixed on a long-lived stream) and its
/// StrictSign rules: a message carries its author's peer ID (<c>from</c>), an 8-byte sequence number, and an Ed25519
/// signature over <c>"libp2p-pubsub:"</c> and the message's own encoding without <c>signature</c> and <c>key</c>.
/// Pure: decoding checks every count against <see cref="GossipsubRpcLimits"/>; signing takes the signer as a function.
/// </summary>
internal static class GossipsubRpc
{
    /// <summary>gossipsub v1.1's protocol.</summary>
    public const string MeshsubV11 = "/meshsub/1.1.0";

    /// <summary>gossipsub v1.0's protocol.</summary>
    public const string MeshsubV10 = "/meshsub/1.0.0";

    /// <summary>floodsub's protocol (no mesh, no control messages).</summary>
    public const string Floodsub = "/floodsub/1.0.0";

    /// <summary>A sequence number's length under StrictSign.</summary>
    public const int SeqnoLength = 8;

    /// <summary>The protocols served and dialled, most preferred first.</summary>
    public static IReadOnlyList<string> Protocols { get; } = [MeshsubV11, MeshsubV10, Floodsub];

    /// <summary>What the signature covers before the message: <c>libp2p-pubsub:</c>.</summary>
    public static ReadOnlySpan<byte> SignPrefix => "libp2p-pubsub:"u8;

    /// <summary>
    /// Reads one RPC body (without its length prefix). Refused, with <paramref name="error"/>: over the length limit,
    /// not the protobuf message, or any count or length over <paramref name="limits"/>.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> body, GossipsubRpcLimits limits, [NotNullWhen(true)] out Rpc? rpc, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        rpc = null;
        if (body.Length > limits.MaxRpcLength)
        {
            error = $"the RPC is {body.Length} bytes, over {limits.MaxRpcLength}";
            return false;
        }

        Rpc parsed;
        try
        {
            parsed = Rpc.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"not a pubsub RPC: {e.Message}";
            return false;
        }

        error = Check(parsed, limits);
        if (error is not null)
        {
            return false;
        }

        rpc = parsed;
        return true;
    }

    /// <summary>Appends <paramref name="rpc"/> with its length prefix (what goes on the stream).</summary>
    public static void WriteFramed(Rpc rpc, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        LengthPrefixedMessage.Write(rpc.ToByteArray(), output);
    }

    /// <summary>Frames <paramref name="rpc"/> into a new array.</summary>
    public static byte[] Framed(Rpc rpc)
    {
        var output = new ArrayBufferWriter<byte>();
        WriteFramed(rpc, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The message ID js-libp2p's gossipsub uses under StrictSign: the author's protobuf public key, then the 8-byte
    /// sequence number (go-libp2p's default takes the <c>from</c> bytes instead; both identify the same message).
    /// Null when the message lacks what it needs (its checks refuse it first).
    /// </summary>
    public static byte[]? MessageId(PubsubWireMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!message.HasFrom || !message.HasSeqno || message.Seqno.Length != SeqnoLength)
        {
            return null;
        }

        byte[]? key = AuthorKey(message);
        return key is null ? null : [.. key, .. message.Seqno.Span];
    }

    /// <summary>The bytes a StrictSign signature covers: the prefix, then the message encoded without signature and key.</summary>
    public static byte[] SignedBytes(PubsubWireMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var unsigned = new PubsubWireMessage();
        if (message.HasFrom)
        {
            unsigned.From = message.From;
        }

        if (message.HasData)
        {
            unsigned.Data = message.Data;
        }

        if (message.HasSeqno)
        {
            unsigned.Seqno = message.Seqno;
        }

        if (message.HasTopic)
        {
            unsigned.Topic = message.Topic;
        }

        byte[] body = unsigned.ToByteArray();
        byte[] signed = new byte[SignPrefix.Length + body.Length];
        SignPrefix.CopyTo(signed);
        body.CopyTo(signed.AsSpan(SignPrefix.Length));
        return signed;
    }

    /// <summary>
    /// A message signed by <paramref name="author"/> (an Ed25519 peer): <c>from</c>, the sequence number big-endian,
    /// the topic and data, the signature <paramref name="sign"/> makes, and the author's public key.
    /// </summary>
    public static PubsubWireMessage Sign(Libp2pPeerId author, ulong seqno, string topic, ReadOnlySpan<byte> data, Func<byte[], byte[]> sign)
    {
        ArgumentNullException.ThrowIfNull(author);
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(sign);
        byte[] key = author.Ed25519PublicKey ?? throw new ArgumentException("Only an Ed25519 peer signs here.", nameof(author));
        byte[] seq = new byte[SeqnoLength];
        BinaryPrimitives.WriteUInt64BigEndian(seq, seqno);
        var message = new PubsubWireMessage
        {
            From = ByteString.CopyFrom(author.Multihash.Span),
            Data = ByteString.CopyFrom(data),
            Seqno = ByteString.CopyFrom(seq),
            Topic = topic,
        };
        message.Signature = ByteString.CopyFrom(sign(SignedBytes(message)));
        message.Key = ByteString.CopyFrom(Libp2pKeys.EncodeEd25519PublicKey(key));
        return message;
    }

    /// <summary>
    /// Checks StrictSign: a topic, an 8-byte sequence number, a <c>from</c> that is a peer ID, a <c>key</c> (when sent)
    /// that is that peer's, and an Ed25519 signature that verifies. <paramref name="author"/> is set when valid.
    /// </summary>
    public static PubsubSignatureStatus Verify(PubsubWireMessage message, out Libp2pPeerId? author, out string? error)
    {
        ArgumentNullException.ThrowIfNull(message);
        author = null;
        if (!message.HasTopic)
        {
            error = "the message has no topic";
            return PubsubSignatureStatus.Invalid;
        }

        if (!message.HasSeqno || message.Seqno.Length != SeqnoLength)
        {
            error = "the message has no 8-byte sequence number";
            return PubsubSignatureStatus.Invalid;
        }

        if (!message.HasSignature)
        {
            error = "the message is not signed";
            return PubsubSignatureStatus.Invalid;
        }

        if (!message.HasFrom)
        {
            error = "the message has no author";
            return PubsubSignatureStatus.Invalid;
        }

        if (!Libp2pPeerId.TryFromMultihash(message.From.Span, out Libp2pPeerId? from, out string? fromError))
        {
            error = $"its author is not a peer ID: {fromError}";
            return PubsubSignatureStatus.Invalid;
        }

        byte[]? keyMessage = AuthorKey(message);
        if (keyMessage is null)
        {
            error = "its key is not its author's, or its author's key is not known";
            return PubsubSignatureStatus.Invalid;
        }

        Protos.PublicKey? key = Libp2pKeys.TryDecodePublicKey(keyMessage, out string? keyError);
        if (key is null)
        {
            error = $"its key is not one: {keyError}";
            return PubsubSignatureStatus.Invalid;
        }

        if (key.Type != KeyType.Ed25519)
        {
            error = $"it is signed with a {key.Type} key, which this node does not check";
            return PubsubSignatureStatus.Unsupported;
        }

        if (!NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, key.Data.Span, KeyBlobFormat.RawPublicKey, out NSec.Cryptography.PublicKey? ed25519)
            || !SignatureAlgorithm.Ed25519.Verify(ed25519!, SignedBytes(message), message.Signature.Span))
        {
            error = "its signature does not verify";
            return PubsubSignatureStatus.Invalid;
        }

        author = from;
        error = null;
        return PubsubSignatureStatus.Valid;
    }

    /// <summary>
    /// The author's serialized public key: the <c>key</c> field when it matches <c>from</c>, else the key inlined in
    /// <c>from</c>; null when neither holds.
    /// </summary>
    private static byte[]? AuthorKey(PubsubWireMessage message)
    {
        if (!Libp2pPeerId.TryFromMultihash(message.From.Span, out Libp2pPeerId? from, out _))
        {
            return null;
        }

        if (message.HasKey)
        {
            if (message.Key.Length > Libp2pKeys.MaxKeyMessageLength)
            {
                return null;
            }

            byte[] key = message.Key.ToByteArray();
            try
            {
                return Libp2pPeerId.FromPublicKey(key).Equals(from) ? key : null;
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        ReadOnlySpan<byte> multihash = from.Multihash.Span;
        return multihash[0] == 0x00 ? multihash[2..].ToArray() : null; // identity multihash: code, length, key
    }

    private static string? Check(Rpc rpc, GossipsubRpcLimits limits)
    {
        if (rpc.Subscriptions.Count > limits.MaxSubscriptions)
        {
            return $"{rpc.Subscriptions.Count} subscription changes, over {limits.MaxSubscriptions}";
        }

        if (rpc.Publish.Count > limits.MaxMessages)
        {
            return $"{rpc.Publish.Count} messages, over {limits.MaxMessages}";
        }

        foreach (Rpc.Types.SubOpts sub in rpc.Subscriptions)
        {
            if (TopicError(sub.HasTopicid ? sub.Topicid : null, limits) is { } e)
            {
                return e;
            }
        }

        foreach (PubsubWireMessage message in rpc.Publish)
        {
            if (message.HasTopic && TopicError(message.Topic, limits) is { } e)
            {
                return e;
            }
        }

        if (rpc.Control is not { } control)
        {
            return null;
        }

        int entries = Math.Max(Math.Max(control.Ihave.Count, control.Iwant.Count), Math.Max(Math.Max(control.Graft.Count, control.Prune.Count), control.Idontwant.Count));
        if (entries > limits.MaxControlEntries)
        {
            return $"{entries} control entries of one kind, over {limits.MaxControlEntries}";
        }

        if (IdsError("IHAVE", control.Ihave.SelectMany(i => i.MessageIDs), limits) is { } ihave)
        {
            return ihave;
        }

        if (IdsError("IWANT", control.Iwant.SelectMany(i => i.MessageIDs), limits) is { } iwant)
        {
            return iwant;
        }

        if (IdsError("IDONTWANT", control.Idontwant.SelectMany(i => i.MessageIDs), limits) is { } idontwant)
        {
            return idontwant;
        }

        foreach (string? topic in control.Ihave.Select(i => i.HasTopicID ? i.TopicID : null)
            .Concat(control.Graft.Select(g => g.HasTopicID ? g.TopicID : null))
            .Concat(control.Prune.Select(p => p.HasTopicID ? p.TopicID : null)))
        {
            if (TopicError(topic, limits) is { } e)
            {
                return e;
            }
        }

        foreach (ControlPrune prune in control.Prune)
        {
            if (prune.Peers.Count > limits.MaxPeerExchange)
            {
                return $"a PRUNE exchanges {prune.Peers.Count} peers, over {limits.MaxPeerExchange}";
            }

            if (prune.Peers.Any(p => p.SignedPeerRecord.Length > limits.MaxSignedPeerRecordLength || p.PeerID.Length > 2 + Libp2pKeys.MaxKeyMessageLength))
            {
                return "a PRUNE's exchanged peer is over the size limits";
            }
        }

        return null;
    }

    private static string? TopicError(string? topic, GossipsubRpcLimits limits)
    {
        if (topic is null)
        {
            return "an entry has no topic";
        }

        int bytes = System.Text.Encoding.UTF8.GetByteCount(topic);
        return bytes > limits.MaxTopicLength ? $"a {bytes}-byte topic, over {limits.MaxTopicLength}" : null;
    }

    private static string? IdsError(string kind, IEnumerable<ByteString> ids, GossipsubRpcLimits limits)
    {
        int count = 0;
        foreach (ByteString id in ids)
        {
            if (++count > limits.MaxMessageIds)
            {
                return $"{kind} lists over {limits.MaxMessageIds} message IDs";
            }

            if (id.Length > limits.MaxMessageIdLength)
            {
                return $"{kind} lists a {id.Length}-byte message ID, over {limits.MaxMessageIdLength}";
            }
        }

        return null;
    }
}
