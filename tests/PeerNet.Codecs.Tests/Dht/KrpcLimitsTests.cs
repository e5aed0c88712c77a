using PeerNet.Dht;
using static PeerNet.Codecs.Tests.Dht.Krpc;

namespace PeerNet.Codecs.Tests.Dht;

/// <summary>Every DHT limit, at the limit (accepted) and one past it (refused with the limit's code).</summary>
public sealed class KrpcLimitsTests
{
    [Fact]
    public void Packet_AtMaxLength_IsAcceptedAndOneMoreIsRefused()
    {
        var limits = new DhtLimits { MaxPacketLength = 200 };
        string Packet(int length)
        {
            string head = $"d1:ad2:id20:{IdA}1:x";
            string tail = "e1:q4:ping1:t2:aa1:y1:qe";
            int fill = length - head.Length - tail.Length;
            int n = fill - 4; // a three-digit length, its colon, then n bytes
            string body = $"{n}:" + new string('z', n);
            return head + body + tail;
        }

        Assert.Equal(200, Packet(200).Length);
        Decode(Packet(200), limits);
        Assert.Equal(KrpcDecodeError.PacketTooLarge, Refuse(Packet(201), limits).Error);
    }

    [Fact]
    public void TransactionId_AtMaxLength_IsAcceptedAndOneMoreIsRefused()
    {
        string Ping(int n) => $"d1:ad2:id20:{IdA}e1:q4:ping1:t{n}:{new string('t', n)}1:y1:qe";
        Decode(Ping(DhtLimits.DefaultMaxTransactionIdLength));
        Assert.Equal(KrpcDecodeError.TransactionIdInvalid, Refuse(Ping(DhtLimits.DefaultMaxTransactionIdLength + 1)).Error);
    }

    [Fact]
    public void Token_AtMaxLength_IsAcceptedAndOneMoreIsRefused()
    {
        string Response(int n) => ResponseWith("5:token", $"{n}:{new string('k', n)}");
        Decode(Response(DhtLimits.DefaultMaxTokenLength));
        Assert.Equal(KrpcDecodeError.TokenInvalid, Refuse(Response(DhtLimits.DefaultMaxTokenLength + 1)).Error);
    }

    [Theory]
    [InlineData("5:nodes", DhtContact.V4Length)]
    [InlineData("6:nodes6", DhtContact.V6Length)]
    public void Nodes_AtMaxCount_AreAcceptedAndOneMoreIsRefused(string key, int entryLength)
    {
        string Response(int count) => ResponseWith(key, $"{count * entryLength}:{new string('n', count * entryLength)}");
        Assert.Equal(DhtLimits.DefaultMaxNodes, Decode(Response(DhtLimits.DefaultMaxNodes)).Nodes.Count + Decode(Response(DhtLimits.DefaultMaxNodes)).Nodes6.Count);
        Assert.Equal(KrpcDecodeError.TooManyNodes, Refuse(Response(DhtLimits.DefaultMaxNodes + 1)).Error);
    }

    [Fact]
    public void Values_AtMaxCount_AreAcceptedAndOneMoreIsRefused()
    {
        string Response(int count) => ResponseWith("6:values", "l" + string.Concat(Enumerable.Repeat("6:abcdef", count)) + "e");
        Assert.Equal(DhtLimits.DefaultMaxValues, Decode(Response(DhtLimits.DefaultMaxValues)).Values.Count);
        Assert.Equal(KrpcDecodeError.TooManyValues, Refuse(Response(DhtLimits.DefaultMaxValues + 1)).Error);
    }

    [Fact]
    public void Samples_AtMaxCount_AreAcceptedAndOneMoreIsRefused()
    {
        var limits = new DhtLimits { MaxPacketLength = 4000 };
        string Response(int count) => ResponseWith("7:samples", $"{count * 20}:{new string('s', count * 20)}");
        Assert.Equal(DhtLimits.DefaultMaxSamples, Decode(Response(DhtLimits.DefaultMaxSamples), limits).Samples!.Count);
        Assert.Equal(KrpcDecodeError.SamplesInvalid, Refuse(Response(DhtLimits.DefaultMaxSamples + 1), limits).Error);
    }

    [Fact]
    public void ItemValue_AtMaxLength_IsAcceptedAndOneMoreIsRefused()
    {
        // "996:" + 996 bytes = 1000 bytes of bencoded v.
        string Put(int encodedLength)
        {
            int n = encodedLength - 4;
            return $"d1:ad2:id20:{IdA}5:token1:x1:v{n}:{new string('v', n)}e1:q3:put1:t2:aa1:y1:qe";
        }

        var limits = new DhtLimits { MaxPacketLength = 2000 };
        Assert.Equal(DhtLimits.MaxItemValueLength, Decode(Put(DhtLimits.MaxItemValueLength), limits).ItemValue!.Length);
        Assert.Equal(KrpcDecodeError.ItemValueInvalid, Refuse(Put(DhtLimits.MaxItemValueLength + 1), limits).Error);
    }

    [Fact]
    public void Salt_AtMaxLength_IsAcceptedAndOneMoreIsRefused()
    {
        string Put(int n) => $"d1:ad2:id20:{IdA}4:salt{n}:{new string('s', n)}5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe";
        Decode(Put(DhtLimits.MaxSaltLength));
        Assert.Equal(KrpcDecodeError.SaltInvalid, Refuse(Put(DhtLimits.MaxSaltLength + 1)).Error);
    }

    [Fact]
    public void Tokens_AtMaxCount_AreAcceptedAndOneMoreIsRefused()
    {
        // A ping has 9 values (root, 4 keys + values... ) plus the filler list: fill the rest with empty integers.
        string Ping(int fillers) => $"d1:ad2:id20:{IdA}1:xl{string.Concat(Enumerable.Repeat("i0e", fillers))}ee1:q4:ping1:t2:aa1:y1:qe";
        int baseTokens = 13; // d, a, d, id, <id>, x, l, q, ping, t, aa, y, q
        var limits = new DhtLimits { MaxTokens = 100 };
        Decode(Ping(100 - baseTokens), limits);
        Assert.Equal(KrpcDecodeError.NotBencode, Refuse(Ping(100 - baseTokens + 1), limits).Error);
    }

    [Fact]
    public void HugeValuesList_IsRefusedBeforeItIsCopied()
    {
        string packet = ResponseWith("6:values", "l" + string.Concat(Enumerable.Repeat("6:abcdef", 5000)) + "e");
        Assert.Equal(KrpcDecodeError.PacketTooLarge, Refuse(packet).Error);
        Assert.Equal(KrpcDecodeError.TooManyValues, Refuse(packet, new DhtLimits { MaxPacketLength = 100_000, MaxTokens = 10_000 }).Error);
    }
}
