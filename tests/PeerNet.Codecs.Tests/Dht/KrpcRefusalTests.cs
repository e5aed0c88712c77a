using PeerNet.Dht;
using static PeerNet.Codecs.Tests.Dht.Krpc;

namespace PeerNet.Codecs.Tests.Dht;

/// <summary>Malformed packets: wrong types, bad compact lengths, missing fields. Each is refused with its own code.</summary>
public sealed class KrpcRefusalTests
{
    private const string FindNodeArgs = "6:target20:" + IdB;

    public static TheoryData<string, string> Malformed => new()
    {
        { "", nameof(KrpcDecodeError.NotBencode) },
        { "d1:t2:aa", nameof(KrpcDecodeError.NotBencode) },
        { "le", nameof(KrpcDecodeError.NotDictionary) },
        { "i5e", nameof(KrpcDecodeError.NotDictionary) },
        { "d1:y1:qe", nameof(KrpcDecodeError.TransactionIdInvalid) },
        { "d1:ti1e1:y1:qe", nameof(KrpcDecodeError.TransactionIdInvalid) },
        { "d1:t2:aa1:y1:xe", nameof(KrpcDecodeError.MessageTypeInvalid) },
        { "d1:t2:aa1:yi1ee", nameof(KrpcDecodeError.MessageTypeInvalid) },
        { "d1:t2:aae", nameof(KrpcDecodeError.MessageTypeInvalid) },
        { $"d1:ad2:id20:{IdA}e1:t2:aa1:y1:qe", nameof(KrpcDecodeError.MethodNameInvalid) },
        { $"d1:ad2:id20:{IdA}e1:qi1e1:t2:aa1:y1:qe", nameof(KrpcDecodeError.MethodNameInvalid) },
        { "d1:q4:ping1:t2:aa1:y1:qe", nameof(KrpcDecodeError.BodyMissing) },
        { "d1:al2:ide1:q4:ping1:t2:aa1:y1:qe", nameof(KrpcDecodeError.BodyMissing) },
        { "d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", nameof(KrpcDecodeError.NodeIdInvalid) },
        { "d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe", nameof(KrpcDecodeError.NodeIdInvalid) },
        { "d1:ade1:q4:ping1:t2:aa1:y1:qe", nameof(KrpcDecodeError.NodeIdInvalid) },
        { $"d1:ad2:id20:{IdA}e1:q9:find_node1:t2:aa1:y1:qe", nameof(KrpcDecodeError.TargetInvalid) },
        { $"d1:ad2:id20:{IdA}6:target3:abce1:q9:find_node1:t2:aa1:y1:qe", nameof(KrpcDecodeError.TargetInvalid) },
        { $"d1:ad2:id20:{IdA}9:info_hashi1ee1:q9:get_peers1:t2:aa1:y1:qe", nameof(KrpcDecodeError.TargetInvalid) },
        { $"d1:ad2:id20:{IdA}{FindNodeArgs}4:want2:n4e1:q9:find_node1:t2:aa1:y1:qe", nameof(KrpcDecodeError.WantInvalid) },
        { $"d1:ad2:id20:{IdA}{FindNodeArgs}4:wantli4eee1:q9:find_node1:t2:aa1:y1:qe", nameof(KrpcDecodeError.WantInvalid) },
        { $"d1:ad2:id20:{IdA}9:info_hash20:{IdB}4:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe", nameof(KrpcDecodeError.TokenInvalid) },
        { $"d1:ad2:id20:{IdA}9:info_hash20:{IdB}4:porti1e5:tokeni1ee1:q13:announce_peer1:t2:aa1:y1:qe", nameof(KrpcDecodeError.TokenInvalid) },
        { $"d1:ad2:id20:{IdA}9:info_hash20:{IdB}5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", nameof(KrpcDecodeError.PortInvalid) },
        { $"d1:ad2:id20:{IdA}9:info_hash20:{IdB}4:porti65536e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", nameof(KrpcDecodeError.PortInvalid) },
        { $"d1:ad2:id20:{IdA}9:info_hash20:{IdB}4:porti-1e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", nameof(KrpcDecodeError.PortInvalid) },
        { $"d1:ad2:id20:{IdA}9:info_hash20:{IdB}4:port4:68815:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", nameof(KrpcDecodeError.PortInvalid) },
        { $"d1:ad2:id20:{IdA}12:implied_port1:19:info_hash20:{IdB}4:porti1e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", nameof(KrpcDecodeError.PortInvalid) },
        { $"d1:rd2:id20:{IdB}5:nodes25:abcdefghij0123456789abcdee1:t2:aa1:y1:re", nameof(KrpcDecodeError.NodesInvalid) },
        { $"d1:rd2:id20:{IdB}5:nodesi1ee1:t2:aa1:y1:re", nameof(KrpcDecodeError.NodesInvalid) },
        { $"d1:rd2:id20:{IdB}6:nodes626:abcdefghij0123456789abcdefe1:t2:aa1:y1:re", nameof(KrpcDecodeError.NodesInvalid) },
        { $"d1:rd2:id20:{IdB}6:values6:abcdefe1:t2:aa1:y1:re", nameof(KrpcDecodeError.ValuesInvalid) },
        { $"d1:rd2:id20:{IdB}6:valuesl5:abcdeee1:t2:aa1:y1:re", nameof(KrpcDecodeError.ValuesInvalid) },
        { $"d1:rd2:id20:{IdB}6:valuesli1eee1:t2:aa1:y1:re", nameof(KrpcDecodeError.ValuesInvalid) },
        { $"d1:rd2:id20:{IdB}6:valuesl19:abcdefghij012345678ee1:t2:aa1:y1:re", nameof(KrpcDecodeError.ValuesInvalid) },
        { $"d1:rd2:id20:{IdB}5:token2:xxe1:t2:aa1:y1:r1:vi1ee", nameof(KrpcDecodeError.FieldTypeInvalid) },
        { $"d1:ad2:id20:{IdA}e1:q4:ping2:ro1:11:t2:aa1:y1:qe", nameof(KrpcDecodeError.FieldTypeInvalid) },
        { $"d2:ip5:abcde1:rd2:id20:{IdB}e1:t2:aa1:y1:re", nameof(KrpcDecodeError.AddressInvalid) },
        { $"d2:ipi1e1:rd2:id20:{IdB}e1:t2:aa1:y1:re", nameof(KrpcDecodeError.AddressInvalid) },
        { "d1:e4:oops1:t2:aa1:y1:ee", nameof(KrpcDecodeError.ErrorInvalid) },
        { "d1:el4:oopse1:t2:aa1:y1:ee", nameof(KrpcDecodeError.ErrorInvalid) },
        { "d1:t2:aa1:y1:ee", nameof(KrpcDecodeError.ErrorInvalid) },
        { "d1:r4:oops1:t2:aa1:y1:re", nameof(KrpcDecodeError.BodyMissing) },
        { $"d1:ad2:id20:{IdA}5:token1:xe1:q3:put1:t2:aa1:y1:qe", nameof(KrpcDecodeError.ItemValueInvalid) },
        { $"d1:ad2:id20:{IdA}1:k3:abc5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe", nameof(KrpcDecodeError.ItemKeyInvalid) },
        { $"d1:ad2:id20:{IdA}3:sig2:ab5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe", nameof(KrpcDecodeError.ItemKeyInvalid) },
        { $"d1:ad2:id20:{IdA}4:salti1e5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe", nameof(KrpcDecodeError.SaltInvalid) },
        { $"d1:ad2:id20:{IdA}3:seqi-1e5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe", nameof(KrpcDecodeError.SequenceInvalid) },
        { $"d1:ad2:id20:{IdA}3:cas1:15:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe", nameof(KrpcDecodeError.SequenceInvalid) },
        { $"d1:rd2:id20:{IdB}7:samples19:abcdefghij012345678e1:t2:aa1:y1:re", nameof(KrpcDecodeError.SamplesInvalid) },
        { $"d1:rd2:id20:{IdB}8:interval2:10e1:t2:aa1:y1:re", nameof(KrpcDecodeError.SamplesInvalid) },
        { $"d1:rd2:id20:{IdB}3:numi-1ee1:t2:aa1:y1:re", nameof(KrpcDecodeError.SamplesInvalid) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Decode_MalformedPacket_IsRefusedWithItsCode(string packet, string expected)
    {
        Assert.Equal(expected, Refuse(packet).Error.ToString());
    }

    [Fact]
    public void Decode_MalformedQueryWithReadableTransaction_OffersA203Reply()
    {
        KrpcDecodeFailure failure = Refuse($"d1:ad2:id20:{IdA}e1:q9:find_node1:t2:xy1:y1:qe");
        Assert.True(failure.ShouldReply);
        Assert.Equal("xy"u8.ToArray(), failure.TransactionId);
    }

    [Fact]
    public void Decode_MalformedResponse_OffersNoReply()
    {
        KrpcDecodeFailure failure = Refuse($"d1:rd2:id20:{IdB}5:nodesi1ee1:t2:aa1:y1:re");
        Assert.False(failure.ShouldReply);
    }

    [Fact]
    public void Decode_DuplicateKey_IsRefused()
    {
        Assert.Equal(KrpcDecodeError.NotBencode, Refuse($"d1:ad2:id20:{IdA}e1:q4:ping1:t2:aa1:t2:bb1:y1:qe").Error);
    }

    [Fact]
    public void Decode_DeeplyNestedValue_IsRefused()
    {
        string deep = new string('l', 40) + new string('e', 40);
        Assert.Equal(KrpcDecodeError.NotBencode, Refuse($"d1:ad2:id20:{IdA}1:x{deep}e1:q4:ping1:t2:aa1:y1:qe").Error);
    }

    [Fact]
    public void Decode_EveryTruncationOfAValidPacket_IsRefusedWithoutThrowing()
    {
        byte[] packet = new KrpcMessage
        {
            Type = KrpcMessageType.Response,
            TransactionId = "aa"u8.ToArray(),
            Id = Id(IdB),
            Token = [1, 2, 3],
            Nodes = [Node4(1), Node4(2)],
            Values = [V4(3)],
        }.ToArray();
        for (int length = 0; length < packet.Length; length++)
        {
            Refuse(packet[..length]);
        }
    }
}
