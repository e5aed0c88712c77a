using System.Buffers;
using System.Net;
using System.Text;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

public sealed class PexMessageTests
{
    private static byte[] Ascii(string s) => Encoding.Latin1.GetBytes(s);

    private static string Summary(PexMessage m) =>
        string.Join(",", m.Added.Select(p => $"{p.EndPoint}/{(byte)p.Flags}")) + "|" + string.Join(",", m.Dropped);

    private static PexMessage Parse(byte[] payload, int maxPeers = PexMessage.DefaultMaxReceivedPeers)
    {
        PexMessage? first = null;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(payload))
        {
            Assert.True(PexMessage.TryParse(sequence, out PexMessage? m, out PeerWireError error, maxPeers), $"{shape} {error}");
            first ??= m;
            Assert.Equal(Summary(first), Summary(m));
        }

        return first!;
    }

    private static void Refuse(byte[] payload, PeerWireError expected, int maxPeers = PexMessage.DefaultMaxReceivedPeers)
    {
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(payload))
        {
            Assert.False(PexMessage.TryParse(sequence, out _, out PeerWireError error, maxPeers), shape);
            Assert.Equal(expected, error);
        }
    }

    [Fact]
    public void MixedFamilies_RoundTrip()
    {
        var sent = new PexMessage
        {
            Added =
            [
                new PexPeer(IPEndPoint.Parse("10.0.0.1:6881"), PexFlags.Seed | PexFlags.SupportsUtp),
                new PexPeer(IPEndPoint.Parse("[2001:db8::5]:51413"), PexFlags.Reachable),
                new PexPeer(IPEndPoint.Parse("192.0.2.9:1"), PexFlags.None),
            ],
            Dropped = [IPEndPoint.Parse("[2001:db8::6]:2"), IPEndPoint.Parse("198.51.100.1:65535")],
        };
        var output = new ArrayBufferWriter<byte>();
        sent.WriteMessage(output, 5);
        byte[] message = output.WrittenSpan.ToArray();
        Assert.StartsWith("Extended 5 ", PeerFrameReaderTests.ReadOne(message), StringComparison.Ordinal);

        PexMessage received = Parse(message[6..]);

        // IPv4 peers come back first: the wire keeps the families in separate lists.
        Assert.Equal(
            "10.0.0.1:6881/6,192.0.2.9:1/0,[2001:db8::5]:51413/16|198.51.100.1:65535,[2001:db8::6]:2",
            Summary(received));
    }

    [Fact]
    public void Encoding_IsLibtorrentsLayout()
    {
        var output = new ArrayBufferWriter<byte>();
        new PexMessage { Added = [new PexPeer(IPEndPoint.Parse("1.2.3.4:258"), PexFlags.PrefersEncryption)] }.WritePayload(output);
        Assert.Equal(
            Ascii("d5:added6:\u0001\u0002\u0003\u0004\u0001\u00027:added.f1:\u00016:added60:8:added6.f0:7:dropped0:8:dropped60:e"),
            output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Ipv4MappedAddress_TravelsAsIpv4()
    {
        var output = new ArrayBufferWriter<byte>();
        new PexMessage { Dropped = [new IPEndPoint(IPAddress.Parse("1.2.3.4").MapToIPv6(), 80)] }.WritePayload(output);
        Assert.Equal("|1.2.3.4:80", Summary(Parse(output.WrittenSpan.ToArray())));
    }

    [Fact]
    public void MismatchedFlags_AreIgnored()
    {
        PexMessage m = Parse(Ascii("d5:added12:\u0001\u0002\u0003\u0004\u0000\u0001\u0005\u0006\u0007\u0008\u0000\u00027:added.f1:\u0002e"));
        Assert.Equal("1.2.3.4:1/0,5.6.7.8:2/0|", Summary(m));
    }

    [Fact]
    public void WrongTypes_AreTreatedAsEmpty()
    {
        Assert.Equal("|", Summary(Parse(Ascii("d5:addedi5e7:droppedlee"))));
        Assert.Equal("|", Summary(Parse(Ascii("de"))));
    }

    [Theory]
    [InlineData("d5:added5:abcdee")]
    [InlineData("d7:dropped7:abcdefge")]
    [InlineData("d6:added66:abcdefe")]
    [InlineData("d8:dropped619:abcdefghijklmnopqrse")]
    public void RaggedPeerList_IsRefused(string payload)
    {
        Refuse(Ascii(payload), PeerWireError.PexPeerListInvalid);
    }

    [Fact]
    public void PeerCount_AtLimitAccepted_OverLimitRefused()
    {
        static byte[] WithPeers(string key, int v4, int v6)
        {
            var output = new ArrayBufferWriter<byte>();
            var w = new PeerNet.Bencode.BencodeWriter(output);
            w.WriteDictionaryStart();
            w.WriteString(key);
            w.WriteString(new byte[v4 * 6]);
            w.WriteString(key + "6");
            w.WriteString(new byte[v6 * 18]);
            w.WriteEnd();
            return output.WrittenSpan.ToArray();
        }

        Assert.Equal(10, Parse(WithPeers("added", 4, 6), maxPeers: 10).Added.Count);
        Refuse(WithPeers("added", 5, 6), PeerWireError.PexTooManyPeers, maxPeers: 10);
        Assert.Equal(10, Parse(WithPeers("dropped", 10, 0), maxPeers: 10).Dropped.Count);
        Refuse(WithPeers("dropped", 0, 11), PeerWireError.PexTooManyPeers, maxPeers: 10);
        Assert.Equal(200, Parse(WithPeers("added", 200, 0)).Added.Count);
        Refuse(WithPeers("added", 200, 1), PeerWireError.PexTooManyPeers);
    }

    [Fact]
    public void NonDictionary_IsRefused()
    {
        Refuse(Ascii("le"), PeerWireError.ExtensionPayloadNotDictionary);
        Refuse(Ascii("d5:added"), PeerWireError.ExtensionPayloadInvalid);
    }

    [Fact]
    public void WritePayload_MoreThan50_Throws()
    {
        PexPeer[] peers = [.. Enumerable.Range(0, 51).Select(i => new PexPeer(new IPEndPoint(IPAddress.Loopback, i + 1), PexFlags.None))];
        Assert.Throws<InvalidOperationException>(() => new PexMessage { Added = peers }.WritePayload(new ArrayBufferWriter<byte>()));
        var output = new ArrayBufferWriter<byte>();
        new PexMessage { Added = peers[..50] }.WritePayload(output);
        Assert.Equal(50, Parse(output.WrittenSpan.ToArray()).Added.Count);
    }
}
