using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>The kinds of Kademlia RPC (the spec's <c>MessageType</c>; the values are the wire's).</summary>
internal enum KadMessageType
{
    /// <summary>Store a record at the receiver.</summary>
    PutValue = 0,

    /// <summary>Ask for a record and closer peers.</summary>
    GetValue = 1,

    /// <summary>Announce the sender as a provider of a key.</summary>
    AddProvider = 2,

    /// <summary>Ask for providers of a key and closer peers.</summary>
    GetProviders = 3,

    /// <summary>Ask for the peers closest to a key.</summary>
    FindNode = 4,

    /// <summary>Echoed back; never sent by js or go.</summary>
    Ping = 5,
}

/// <summary>A peer in a Kademlia message: its ID and the addresses this side can read (others skipped).</summary>
/// <param name="Id">The peer.</param>
/// <param name="Addresses">Its addresses, at most <see cref="KadCodec.MaxAddressesPerPeer"/>.</param>
internal sealed record KadPeer(Libp2pPeerId Id, IReadOnlyList<Multiaddr> Addresses);

/// <summary>A Kademlia record: a key, its value, and when the receiver stored it (RFC 3339 text, as sent).</summary>
/// <param name="Key">The record's key (e.g. <c>/pk/</c> and a peer ID's multihash).</param>
/// <param name="Value">The value.</param>
/// <param name="TimeReceived">When it was stored, as the storing peer wrote it; empty when not given.</param>
internal sealed record KadValue(byte[] Key, byte[] Value, string TimeReceived);

/// <summary>One Kademlia RPC message, checked and bounded (<see cref="KadCodec"/>).</summary>
/// <param name="Type">What it asks or answers.</param>
/// <param name="Key">The key (a peer ID's multihash for FIND_NODE, a multihash for providers, a record key); may be empty.</param>
/// <param name="Record">The record of PUT_VALUE and GET_VALUE, if any.</param>
/// <param name="CloserPeers">Peers closer to the key (answers).</param>
/// <param name="ProviderPeers">Providers of the key (ADD_PROVIDER, GET_PROVIDERS' answer).</param>
/// <param name="ClusterLevel">Unused by the spec; echoed.</param>
internal sealed record KadRpc(
    KadMessageType Type,
    byte[] Key,
    KadValue? Record,
    IReadOnlyList<KadPeer> CloserPeers,
    IReadOnlyList<KadPeer> ProviderPeers,
    int ClusterLevel = 0)
{
    /// <summary>A request of <paramref name="type"/> for <paramref name="key"/>, with nothing else.</summary>
    public static KadRpc Request(KadMessageType type, ReadOnlySpan<byte> key) => new(type, key.ToArray(), null, [], []);
}

/// <summary>
/// The Kademlia DHT's messages (<c>Protos/dht.proto</c>), varint-length-prefixed on the stream: encoding ours, reading a
/// peer's with hard limits on the message, key, value, peers and addresses. Pure.
/// </summary>
internal static class KadCodec
{
    /// <summary>The protocol.</summary>
    public const string ProtocolId = "/ipfs/kad/1.0.0";

    /// <summary>
    /// Longest message read or written: 256 KiB (js-libp2p reads up to 4 MiB; 20 peers of 16 addresses and a 16 KiB
    /// record fit well under this).
    /// </summary>
    public const int MaxMessageLength = 256 * 1024;

    /// <summary>Longest key: 1 KiB (a peer ID is at most 44 bytes, a multihash 34, <c>/pk/</c> keys 48).</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>Longest record value: 16 KiB (a public key or an IPNS record is a few hundred bytes to 10 KiB).</summary>
    public const int MaxValueLength = 16 * 1024;

    /// <summary>Most closer or provider peers in a message: more is refused (an answer has at most k = 20, plus the exact match).</summary>
    public const int MaxPeersPerMessage = 40;

    /// <summary>Most addresses listed for one peer: more is refused.</summary>
    public const int MaxListedAddressesPerPeer = 128;

    /// <summary>Most readable addresses kept for one peer.</summary>
    public const int MaxAddressesPerPeer = 16;

    /// <summary>Longest <c>timeReceived</c> kept (an RFC 3339 time with nanoseconds is 30 characters).</summary>
    public const int MaxTimeLength = 64;

    /// <summary>Encodes <paramref name="rpc"/> (without the length prefix).</summary>
    public static byte[] Encode(KadRpc rpc)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        var message = new KadMessage
        {
            Type = (KadMessage.Types.MessageType)rpc.Type,
            Key = ByteString.CopyFrom(rpc.Key),
            ClusterLevelRaw = rpc.ClusterLevel,
        };
        if (rpc.Record is { } record)
        {
            message.Record = new KadRecord
            {
                Key = ByteString.CopyFrom(record.Key),
                Value = ByteString.CopyFrom(record.Value),
                TimeReceived = record.TimeReceived,
            };
        }

        message.CloserPeers.AddRange(rpc.CloserPeers.Select(ToProto));
        message.ProviderPeers.AddRange(rpc.ProviderPeers.Select(ToProto));
        return message.ToByteArray();
    }

    /// <summary>Appends <paramref name="rpc"/> with its length prefix; throws when it is over <see cref="MaxMessageLength"/>.</summary>
    public static void Write(KadRpc rpc, IBufferWriter<byte> output)
    {
        byte[] body = Encode(rpc);
        if (body.Length > MaxMessageLength)
        {
            throw new ArgumentException($"The message is {body.Length} bytes, over {MaxMessageLength}.", nameof(rpc));
        }

        LengthPrefixedMessage.Write(body, output);
    }

    /// <summary>
    /// Reads one length-prefixed message at the start of <paramref name="input"/>: Ok with the message and the bytes
    /// used, NeedMore, or Invalid with <paramref name="error"/> (framing or content).
    /// </summary>
    public static VarintStatus TryRead(ReadOnlySpan<byte> input, out KadRpc? rpc, out int consumed, out string? error)
    {
        rpc = null;
        VarintStatus status = LengthPrefixedMessage.TryRead(input, MaxMessageLength, out ReadOnlySpan<byte> body, out consumed, out error);
        if (status != VarintStatus.Ok)
        {
            return status;
        }

        if (!TryDecode(body, out rpc, out error))
        {
            consumed = 0;
            return VarintStatus.Invalid;
        }

        return VarintStatus.Ok;
    }

    /// <summary>
    /// Reads a peer's message (without the prefix). Refused, with <paramref name="error"/>: over
    /// <see cref="MaxMessageLength"/>, not the protobuf message, an unknown type, a key over <see cref="MaxKeyLength"/>,
    /// a record whose key or value is over its limit, over <see cref="MaxPeersPerMessage"/> closer or provider peers, a
    /// peer whose ID is not a peer ID's multihash or that lists over <see cref="MaxListedAddressesPerPeer"/> addresses.
    /// Addresses this side cannot read are skipped, and at most <see cref="MaxAddressesPerPeer"/> are kept.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out KadRpc? rpc, [NotNullWhen(false)] out string? error)
    {
        rpc = null;
        if (bytes.Length > MaxMessageLength)
        {
            error = $"the message is {bytes.Length} bytes, over {MaxMessageLength}";
            return false;
        }

        KadMessage message;
        try
        {
            message = KadMessage.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"not a Kademlia message: {e.Message}";
            return false;
        }

        if (!Enum.IsDefined((KadMessageType)message.Type))
        {
            error = $"unknown message type {(int)message.Type}";
            return false;
        }

        if (message.Key.Length > MaxKeyLength)
        {
            error = $"a {message.Key.Length}-byte key, over {MaxKeyLength}";
            return false;
        }

        KadValue? record = null;
        if (message.Record is { } r)
        {
            if (r.Key.Length > MaxKeyLength || r.Value.Length > MaxValueLength)
            {
                error = $"a record of a {r.Key.Length}-byte key and a {r.Value.Length}-byte value, over {MaxKeyLength} and {MaxValueLength}";
                return false;
            }

            string time = r.TimeReceived.Length <= MaxTimeLength ? DisplayText.Sanitize(r.TimeReceived, MaxTimeLength) : "";
            record = new KadValue(r.Key.ToByteArray(), r.Value.ToByteArray(), time);
        }

        if (!TryReadPeers(message.CloserPeers, "closer", out List<KadPeer>? closer, out error)
            || !TryReadPeers(message.ProviderPeers, "provider", out List<KadPeer>? providers, out error))
        {
            return false;
        }

        rpc = new KadRpc((KadMessageType)message.Type, message.Key.ToByteArray(), record, closer, providers, message.ClusterLevelRaw);
        return true;
    }

    private static bool TryReadPeers(Google.Protobuf.Collections.RepeatedField<KadMessage.Types.Peer> peers, string what, [NotNullWhen(true)] out List<KadPeer>? read, [NotNullWhen(false)] out string? error)
    {
        read = null;
        if (peers.Count > MaxPeersPerMessage)
        {
            error = $"{peers.Count} {what} peers, over {MaxPeersPerMessage}";
            return false;
        }

        var list = new List<KadPeer>(peers.Count);
        foreach (KadMessage.Types.Peer peer in peers)
        {
            if (!Libp2pPeerId.TryFromMultihash(peer.Id.Span, out Libp2pPeerId? id, out string? idError))
            {
                error = $"a {what} peer whose ID is not one: {idError}";
                return false;
            }

            if (peer.Addrs.Count > MaxListedAddressesPerPeer)
            {
                error = $"{what} peer {id} lists {peer.Addrs.Count} addresses, over {MaxListedAddressesPerPeer}";
                return false;
            }

            var addresses = new List<Multiaddr>();
            foreach (ByteString raw in peer.Addrs)
            {
                if (addresses.Count < MaxAddressesPerPeer && Multiaddr.TryDecode(raw.Span, out Multiaddr? address, out _) && !addresses.Contains(address))
                {
                    addresses.Add(address);
                }
            }

            list.Add(new KadPeer(id, addresses));
        }

        read = list;
        error = null;
        return true;
    }

    private static KadMessage.Types.Peer ToProto(KadPeer peer)
    {
        var proto = new KadMessage.Types.Peer { Id = ByteString.CopyFrom(peer.Id.Multihash.Span) };
        proto.Addrs.AddRange(peer.Addresses.Select(a => ByteString.CopyFrom(a.ToBytes())));
        return proto;
    }
}
