using System.Net;
using PeerNet.Dht;
using static PeerNet.Codecs.Tests.Dht.Krpc;

namespace PeerNet.Codecs.Tests.Dht;

public sealed class KrpcMessageTests
{
    [Fact]
    public void Decode_Bep5PingQuery_ReadsIdAndTransaction()
    {
        KrpcMessage m = Decode($"d1:ad2:id20:{IdA}e1:q4:ping1:t2:aa1:y1:qe");
        Assert.Equal(KrpcMessageType.Query, m.Type);
        Assert.Equal(DhtMethod.Ping, m.Method);
        Assert.Equal(Id(IdA), m.Id);
        Assert.Equal("aa"u8.ToArray(), m.TransactionId);
    }

    [Fact]
    public void Encode_Bep5PingQuery_MatchesTheBepBytes()
    {
        KrpcMessage m = KrpcMessage.CreateQuery("aa"u8.ToArray(), DhtMethod.Ping, Id(IdA));
        Assert.Equal(Bytes($"d1:ad2:id20:{IdA}e1:q4:ping1:t2:aa1:y1:qe"), m.ToArray());
    }

    [Fact]
    public void Encode_Bep5AnnouncePeer_MatchesTheBepBytes()
    {
        var m = new KrpcMessage
        {
            Type = KrpcMessageType.Query,
            TransactionId = "aa"u8.ToArray(),
            Method = DhtMethod.AnnouncePeer,
            Id = Id(IdA),
            Target = Id(IdB),
            ImpliedPort = true,
            Port = 6881,
            Token = "aoeusnth"u8.ToArray(),
        };
        Assert.Equal(Bytes($"d1:ad2:id20:{IdA}12:implied_porti1e9:info_hash20:{IdB}4:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"), m.ToArray());
        KrpcMessage back = RoundTrip(m);
        Assert.True(back.ImpliedPort);
        Assert.Equal(6881, back.Port);
        Assert.Equal(Id(IdB), back.Target);
    }

    [Fact]
    public void Decode_Bep5Error_ReadsCodeAndMessage()
    {
        KrpcMessage m = Decode("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
        Assert.Equal(KrpcMessageType.Error, m.Type);
        Assert.Equal(KrpcErrorCode.Generic, m.ErrorCode);
        Assert.Equal("A Generic Error Ocurred", m.ErrorMessage);
        Assert.Equal(m.ToArray(), Bytes("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"));
    }

    [Theory]
    [InlineData(nameof(DhtMethod.Ping))]
    [InlineData(nameof(DhtMethod.FindNode))]
    [InlineData(nameof(DhtMethod.GetPeers))]
    [InlineData(nameof(DhtMethod.SampleInfohashes))]
    [InlineData(nameof(DhtMethod.Get))]
    public void RoundTrip_QueryWithTargetWantAndReadOnly_KeepsEveryField(string methodName)
    {
        DhtMethod method = Enum.Parse<DhtMethod>(methodName);
        var m = new KrpcMessage
        {
            Type = KrpcMessageType.Query,
            TransactionId = [1, 2, 3, 4],
            Method = method,
            Id = Id(IdA),
            Target = method == DhtMethod.Ping ? default : Id(IdB),
            Want = DhtWant.N4 | DhtWant.N6,
            ReadOnly = true,
            ClientVersion = "PN01"u8.ToArray(),
            Sequence = method == DhtMethod.Get ? 7 : null,
        };
        KrpcMessage back = RoundTrip(m);
        Assert.Equal(method, back.Method);
        Assert.Equal(m.Target, back.Target);
        Assert.Equal(DhtWant.N4 | DhtWant.N6, back.Want);
        Assert.True(back.ReadOnly);
        Assert.Equal("PN01"u8.ToArray(), back.ClientVersion);
        Assert.Equal(m.Sequence, back.Sequence);
    }

    [Fact]
    public void RoundTrip_GetPeersResponse_KeepsNodesNodes6ValuesTokenAndIp()
    {
        var m = new KrpcMessage
        {
            Type = KrpcMessageType.Response,
            TransactionId = "zz"u8.ToArray(),
            Id = Id(IdB),
            Token = [9, 9, 9, 9],
            Nodes = [Node4(1), Node4(2)],
            Nodes6 = [Node6(3)],
            Values = [V4(5, 1000), V6(6, 2000)],
            RequesterEndPoint = new IPEndPoint(IPAddress.Parse("203.0.113.7"), 51413),
        };
        KrpcMessage back = RoundTrip(m);
        Assert.Equal(m.Nodes, back.Nodes);
        Assert.Equal(m.Nodes6, back.Nodes6);
        Assert.Equal(m.Values, back.Values);
        Assert.Equal(m.Token, back.Token);
        Assert.Equal(m.RequesterEndPoint, back.RequesterEndPoint);
    }

    [Fact]
    public void RoundTrip_MutablePut_KeepsItemFields()
    {
        var m = new KrpcMessage
        {
            Type = KrpcMessageType.Query,
            TransactionId = "pp"u8.ToArray(),
            Method = DhtMethod.Put,
            Id = Id(IdA),
            Token = [1, 2],
            ItemValue = Bytes("12:Hello World!"),
            PublicKey = new byte[32],
            Signature = new byte[64],
            Salt = "foobar"u8.ToArray(),
            Sequence = 4,
            CompareAndSwap = 3,
        };
        KrpcMessage back = RoundTrip(m);
        Assert.Equal(m.ItemValue, back.ItemValue);
        Assert.Equal(m.PublicKey, back.PublicKey);
        Assert.Equal(m.Signature, back.Signature);
        Assert.Equal(m.Salt, back.Salt);
        Assert.Equal(4, back.Sequence);
        Assert.Equal(3, back.CompareAndSwap);
    }

    [Fact]
    public void RoundTrip_SampleInfohashesResponse_KeepsSamplesIntervalNum()
    {
        var m = new KrpcMessage
        {
            Type = KrpcMessageType.Response,
            TransactionId = "ss"u8.ToArray(),
            Id = Id(IdB),
            Interval = 21600,
            SampleCount = 1234,
            Samples = [Id(IdA), Id(IdB)],
            Nodes = [Node4(1)],
        };
        KrpcMessage back = RoundTrip(m);
        Assert.Equal(21600, back.Interval);
        Assert.Equal(1234, back.SampleCount);
        Assert.Equal(m.Samples, back.Samples);
    }

    [Fact]
    public void Decode_UnknownMethod_IsAQueryOfUnknownMethod()
    {
        KrpcMessage m = Decode($"d1:ad2:id20:{IdA}e1:q6:frobby1:t2:aa1:y1:qe");
        Assert.Equal(DhtMethod.Unknown, m.Method);
        Assert.Equal("frobby", m.MethodName);
    }

    [Fact]
    public void Decode_UnknownKeys_AreIgnored()
    {
        KrpcMessage m = Decode($"d1:ad2:id20:{IdA}5:extrai1ee1:q4:ping1:t2:aa1:y1:q1:zli1eee");
        Assert.Equal(DhtMethod.Ping, m.Method);
    }

    [Fact]
    public void Decode_AnnounceWithImpliedPortAndNoPort_IsAccepted()
    {
        KrpcMessage m = Decode($"d1:ad2:id20:{IdA}12:implied_porti1e9:info_hash20:{IdB}5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe");
        Assert.True(m.ImpliedPort);
    }

    [Fact]
    public void Decode_WantWithUnknownFamily_KeepsKnownOnes()
    {
        KrpcMessage m = Decode($"d1:ad2:id20:{IdA}6:target20:{IdB}4:wantl2:n62:n9ee1:q9:find_node1:t2:aa1:y1:qe");
        Assert.Equal(DhtWant.N6, m.Want);
    }
}
