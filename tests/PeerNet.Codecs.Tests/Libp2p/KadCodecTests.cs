using System.Buffers;
using Google.Protobuf;
using PeerNet.Libp2p;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Codecs.Tests.Libp2p;

public sealed class KadCodecTests
{
    private static readonly Libp2pPeerId Peer = Libp2pPeerId.Parse("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");

    [Fact]
    public void A_find_node_request_is_the_spec_s_protobuf()
    {
        byte[] key = [1, 2, 3];
        byte[] bytes = KadCodec.Encode(KadRpc.Request(KadMessageType.FindNode, key));

        // type (field 1) = 4, key (field 2) = 01 02 03; a zero cluster level is left out, as js does.
        Assert.Equal("08041203010203", Convert.ToHexStringLower(bytes));
    }

    [Fact]
    public void An_answer_with_peers_and_a_record_reads_back()
    {
        var addresses = new[] { Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001"), Multiaddr.Parse("/ip6/::1/tcp/4002") };
        var rpc = new KadRpc(
            KadMessageType.GetValue,
            [.. "/pk/"u8],
            new KadValue([.. "/pk/"u8], [9, 8, 7], "2026-12-07T06:00:00.000000000Z"),
            [new KadPeer(Peer, addresses)],
            [new KadPeer(Peer, [addresses[0]])],
            ClusterLevel: 3);

        var output = new ArrayBufferWriter<byte>();
        KadCodec.Write(rpc, output);
        Assert.Equal(VarintStatus.Ok, KadCodec.TryRead(output.WrittenSpan, out KadRpc? read, out int consumed, out string? error));

        Assert.Null(error);
        Assert.Equal(output.WrittenCount, consumed);
        Assert.Equal(KadMessageType.GetValue, read!.Type);
        Assert.Equal(rpc.Key, read.Key);
        Assert.Equal(rpc.Record!.Value, read.Record!.Value);
        Assert.Equal(rpc.Record.TimeReceived, read.Record.TimeReceived);
        Assert.Equal(Peer, Assert.Single(read.CloserPeers).Id);
        Assert.Equal(addresses, read.CloserPeers[0].Addresses);
        Assert.Equal([addresses[0]], Assert.Single(read.ProviderPeers).Addresses);
        Assert.Equal(3, read.ClusterLevel);
    }

    [Fact]
    public void A_message_cut_short_needs_more()
    {
        var output = new ArrayBufferWriter<byte>();
        KadCodec.Write(KadRpc.Request(KadMessageType.GetProviders, Libp2pDhtKey()), output);

        Assert.Equal(VarintStatus.NeedMore, KadCodec.TryRead(output.WrittenSpan[..^1], out _, out _, out _));
    }

    [Fact]
    public void A_length_over_the_limit_is_refused_on_its_prefix()
    {
        byte[] prefix = new byte[UnsignedVarint.MaxLength];
        int n = UnsignedVarint.Write(KadCodec.MaxMessageLength + 1, prefix);

        Assert.Equal(VarintStatus.Invalid, KadCodec.TryRead(prefix.AsSpan(0, n), out _, out _, out string? error));
        Assert.Contains("limit", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_many_peers_are_refused()
    {
        var message = new KadMessage { Type = KadMessage.Types.MessageType.FindNode };
        for (int i = 0; i <= KadCodec.MaxPeersPerMessage; i++)
        {
            message.CloserPeers.Add(new KadMessage.Types.Peer { Id = ByteString.CopyFrom(Peer.Multihash.Span) });
        }

        Assert.False(KadCodec.TryDecode(message.ToByteArray(), out _, out string? error));
        Assert.Contains($"{KadCodec.MaxPeersPerMessage + 1} closer peers", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Peers_keep_only_readable_addresses_up_to_the_limit()
    {
        var peer = new KadMessage.Types.Peer { Id = ByteString.CopyFrom(Peer.Multihash.Span) };
        peer.Addrs.Add(ByteString.CopyFrom([0x36, 0x03, (byte)'a', (byte)'.', (byte)'b'])); // /dns4/a.b: not read here
        for (int port = 1; port <= 40; port++)
        {
            peer.Addrs.Add(ByteString.CopyFrom(Multiaddr.Parse($"/ip4/10.0.0.1/tcp/{port}").ToBytes()));
        }

        var message = new KadMessage { Type = KadMessage.Types.MessageType.GetProviders };
        message.ProviderPeers.Add(peer);

        Assert.True(KadCodec.TryDecode(message.ToByteArray(), out KadRpc? rpc, out string? error), error);
        Assert.Equal(KadCodec.MaxAddressesPerPeer, rpc.ProviderPeers[0].Addresses.Count);
        Assert.Equal("/ip4/10.0.0.1/tcp/1", rpc.ProviderPeers[0].Addresses[0].ToString());
    }

    [Theory]
    [InlineData("garbage", "not a Kademlia message")]
    [InlineData("badpeer", "ID is not one")]
    [InlineData("longkey", "key, over")]
    [InlineData("bigvalue", "value, over")]
    [InlineData("type9", "unknown message type 9")]
    public void Hostile_messages_are_refused_with_a_reason(string what, string reason)
    {
        byte[] bytes = what switch
        {
            "garbage" => [0x0a, 0xff, 0xff, 0x01],
            "badpeer" => Message(m => m.CloserPeers.Add(new KadMessage.Types.Peer { Id = ByteString.CopyFrom([0x12, 0x03, 1, 2, 3]) })),
            "longkey" => Message(m => m.Key = ByteString.CopyFrom(new byte[KadCodec.MaxKeyLength + 1])),
            "bigvalue" => Message(m => m.Record = new KadRecord { Key = ByteString.CopyFrom([1]), Value = ByteString.CopyFrom(new byte[KadCodec.MaxValueLength + 1]) }),
            _ => Message(m => m.Type = (KadMessage.Types.MessageType)9),
        };

        Assert.False(KadCodec.TryDecode(bytes, out KadRpc? rpc, out string? error));
        Assert.Null(rpc);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Public_key_records_are_checked_against_their_key_and_other_namespaces_refused()
    {
        byte[] rsa = new PublicKey { Type = KeyType.Rsa, Data = ByteString.CopyFrom(new byte[64]) }.ToByteArray();
        Libp2pPeerId owner = Libp2pPeerId.FromPublicKey(rsa);
        byte[] key = KadRecords.PublicKeyKey(owner);

        Assert.True(KadRecords.Validate(key, rsa, out string? error), error);
        Assert.False(KadRecords.Validate(KadRecords.PublicKeyKey(Peer), rsa, out error));
        Assert.Contains("not the key's", error, StringComparison.Ordinal);
        Assert.False(KadRecords.Validate(key, [1, 2, 3], out error));
        Assert.Contains("not a public key", error, StringComparison.Ordinal);
        Assert.False(KadRecords.Validate("/ipns/abc"u8, rsa, out error));
        Assert.Contains("no validator for the record namespace \"ipns\"", error, StringComparison.Ordinal);
        Assert.False(KadRecords.Validate("no-namespace"u8, rsa, out error));
        Assert.Contains("no namespace", error, StringComparison.Ordinal);
    }

    private static byte[] Libp2pDhtKey() => [0x12, 0x20, .. new byte[32]];

    private static byte[] Message(Action<KadMessage> fill)
    {
        var message = new KadMessage { Type = KadMessage.Types.MessageType.PutValue };
        fill(message);
        return message.ToByteArray();
    }
}
