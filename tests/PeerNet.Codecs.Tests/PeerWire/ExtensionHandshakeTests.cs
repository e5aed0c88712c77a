using System.Buffers;
using System.Net;
using System.Text;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

public sealed class ExtensionHandshakeTests
{
    private static byte[] Ascii(string s) => Encoding.Latin1.GetBytes(s);

    private static ExtensionHandshake ParseEveryShape(byte[] payload)
    {
        ExtensionHandshake? first = null;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(payload))
        {
            Assert.True(ExtensionHandshake.TryParse(sequence, out ExtensionHandshake? h, out PeerWireError error), $"{shape} {error}");
            first ??= h;
            Assert.Equal(Summary(first), Summary(h));
        }

        return first!;
    }

    private static void RefuseEveryShape(byte[] payload, PeerWireError expected)
    {
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(payload))
        {
            Assert.False(ExtensionHandshake.TryParse(sequence, out _, out PeerWireError error), shape);
            Assert.Equal(expected, error);
        }
    }

    private static string Summary(ExtensionHandshake h) =>
        string.Join(",", h.Messages.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))
        + $"|{h.ClientName}|{h.ListenPort}|{h.RequestQueueLength}|{h.YourIp}|{h.Ipv4}|{h.Ipv6}|{h.MetadataSize}|{h.UploadOnly}";

    [Fact]
    public void LibtorrentStyleHandshake_IsParsed()
    {
        byte[] payload = Ascii(
            "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee"
            + "13:metadata_sizei31235e1:pi6881e4:reqqi500e11:upload_onlyi0e1:v17:libtorrent 2.0.11"
            + "6:yourip4:\u00c0\u00a8\u0001\u0002e");
        ExtensionHandshake h = ParseEveryShape(payload);
        Assert.Equal(2, h.GetMessageId("ut_metadata"));
        Assert.Equal(1, h.GetMessageId("ut_pex"));
        Assert.Equal(0, h.GetMessageId("lt_trackers"));
        Assert.Equal(6, h.Messages.Count);
        Assert.Equal(31235, h.MetadataSize);
        Assert.Equal(6881, h.ListenPort);
        Assert.Equal(500, h.RequestQueueLength);
        Assert.False(h.UploadOnly);
        Assert.Equal("libtorrent 2.0.11", h.ClientName);
        Assert.Equal(IPAddress.Parse("192.168.1.2"), h.YourIp);
    }

    [Fact]
    public void FullHandshake_RoundTrips()
    {
        var sent = new ExtensionHandshake
        {
            Messages = new Dictionary<string, byte> { ["ut_pex"] = 1, ["ut_metadata"] = 2, ["lt_donthave"] = 0, ["é"] = 9 },
            ClientName = "PeerNet 0.1.0",
            ListenPort = 51413,
            RequestQueueLength = 250,
            YourIp = IPAddress.Parse("2001:db8::1"),
            Ipv4 = IPAddress.Parse("203.0.113.7"),
            Ipv6 = IPAddress.Parse("2001:db8::7"),
            MetadataSize = 123456,
            UploadOnly = true,
        };
        var output = new ArrayBufferWriter<byte>();
        sent.WriteMessage(output);
        byte[] message = output.WrittenSpan.ToArray();

        string text = PeerFrameReaderTests.ReadOne(message);
        Assert.StartsWith("Extended 0 ", text, StringComparison.Ordinal);
        ExtensionHandshake received = ParseEveryShape(message[6..]);
        Assert.Equal(Summary(sent), Summary(received));

        // The payload is canonical bencode: the generic parser re-encodes it byte for byte.
        using PeerNet.Bencode.BencodeDocument document = PeerNet.Bencode.BencodeDocument.Parse(message.AsMemory(6));
        var again = new ArrayBufferWriter<byte>();
        document.Root.WriteTo(new PeerNet.Bencode.BencodeWriter(again));
        Assert.Equal(message[6..], again.WrittenSpan.ToArray());
    }

    [Fact]
    public void EmptyHandshake_RoundTripsWithEmptyM()
    {
        var output = new ArrayBufferWriter<byte>();
        new ExtensionHandshake().WritePayload(output);
        Assert.Equal("d1:mdee", Encoding.ASCII.GetString(output.WrittenSpan));
        ExtensionHandshake h = ParseEveryShape(output.WrittenSpan.ToArray());
        Assert.Empty(h.Messages);
        Assert.Null(h.ClientName);
    }

    [Theory]
    [InlineData("d1:p4:6881e")]
    [InlineData("d1:pi0ee")]
    [InlineData("d1:pi65536ee")]
    [InlineData("d1:mle1:vi5ee")]
    [InlineData("d4:reqqi0ee")]
    [InlineData("d6:yourip5:abcdee")]
    [InlineData("d4:ipv416:abcdefghijklmnope")]
    [InlineData("d4:ipv64:abcde")]
    [InlineData("d13:metadata_sizei0ee")]
    [InlineData("d13:metadata_sizei67108865ee")]
    [InlineData("d11:upload_only3:yese")]
    [InlineData("d1:md1:ai256e1:bi-1e1:c1:xee")]
    public void KnownKeyOfWrongTypeOrRange_IsIgnored(string payload)
    {
        ExtensionHandshake h = ParseEveryShape(Ascii(payload));
        Assert.Equal("||||||||", Summary(h));
    }

    [Fact]
    public void ClientName_WithEscapesAndBidiControls_IsReadReplaced()
    {
        // ESC [ 2 J, BEL, the C1 CSI (two bytes in UTF-8) and RIGHT-TO-LEFT OVERRIDE (three).
        byte[] name = Encoding.UTF8.GetBytes("evil\u001b[2J\u0007\u009b31m\u202e1.0");
        byte[] payload = [.. Ascii($"d1:v{name.Length}:"), .. name, .. Ascii("e")];
        Assert.Equal("evil\uFFFD[2J\uFFFD\uFFFD31m\uFFFD1.0", ParseEveryShape(payload).ClientName);
    }

    [Fact]
    public void ClientName_OverTheLimitOnceReplaced_IsIgnored()
    {
        // 128 DELs fit the limit as sent, but not as 128 three-byte U+FFFD: the handshake written back must parse the same.
        Assert.Null(ParseEveryShape(Ascii($"d1:v128:{new string('\u007f', 128)}e")).ClientName);
    }

    [Fact]
    public void Limits_AtTheLimitKept_OverIgnored()
    {
        Assert.Equal(ExtensionHandshake.MaxMetadataSize, ParseEveryShape(Ascii("d13:metadata_sizei67108864ee")).MetadataSize);
        string name128 = new('n', ExtensionHandshake.MaxClientNameLength);
        Assert.Equal(name128, ParseEveryShape(Ascii($"d1:v128:{name128}e")).ClientName);
        Assert.Null(ParseEveryShape(Ascii($"d1:v129:{name128}ne")).ClientName);
        string ext64 = new('x', ExtensionHandshake.MaxExtensionNameLength);
        Assert.Equal(3, ParseEveryShape(Ascii($"d1:md64:{ext64}i3eee")).GetMessageId(ext64));
        Assert.Empty(ParseEveryShape(Ascii($"d1:md65:{ext64}xi3eee")).Messages);
    }

    [Fact]
    public void MessagesCount_AtLimitAccepted_OverLimitRefused()
    {
        static byte[] WithExtensions(int count) =>
            Ascii("d1:md" + string.Concat(Enumerable.Range(0, count).Select(i => $"4:e{i:D3}i{i % 256}e")) + "ee");

        Assert.Equal(ExtensionHandshake.MaxExtensions, ParseEveryShape(WithExtensions(64)).Messages.Count);
        RefuseEveryShape(WithExtensions(65), PeerWireError.TooManyExtensions);
    }

    [Theory]
    [InlineData("li1ee")]
    [InlineData("i5e")]
    [InlineData("3:abc")]
    public void NonDictionaryPayload_IsRefused(string payload)
    {
        RefuseEveryShape(Ascii(payload), PeerWireError.ExtensionPayloadNotDictionary);
    }

    [Theory]
    [InlineData("")]
    [InlineData("d1:m")]
    [InlineData("x")]
    [InlineData("d1:pi1e1:pi2ee")]
    public void InvalidBencode_IsRefused(string payload)
    {
        RefuseEveryShape(Ascii(payload), PeerWireError.ExtensionPayloadInvalid);
    }

    [Fact]
    public void BytesAfterTheDictionary_AreIgnored()
    {
        // As libtorrent: only the dictionary is decoded.
        Assert.Equal(1, ParseEveryShape(Ascii("d1:md6:ut_pexi1eee1:")).GetMessageId("ut_pex"));
    }

    [Fact]
    public void WritePayload_WrongAddressFamily_Throws()
    {
        var h = new ExtensionHandshake { Ipv4 = IPAddress.IPv6Loopback };
        Assert.Throws<ArgumentException>(() => h.WritePayload(new ArrayBufferWriter<byte>()));
    }
}
