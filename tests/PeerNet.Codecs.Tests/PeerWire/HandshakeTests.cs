using System.Buffers;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

public sealed class HandshakeTests
{
    private static readonly Sha1Hash InfoHash = Sha1Hash.Compute("info"u8);
    private static readonly PeerId Peer = new("-PN0100-abcdefghijkl"u8);

    private static byte[] Encode(HandshakeReserved reserved)
    {
        var bytes = new byte[Handshake.Length];
        Assert.Equal(Handshake.Length, new Handshake(reserved, InfoHash, Peer).WriteTo(bytes));
        return bytes;
    }

    [Fact]
    public void WriteTo_MatchesBep3Layout()
    {
        byte[] bytes = Encode(HandshakeReserved.ExtensionProtocol | HandshakeReserved.FastExtension);
        Assert.Equal(19, bytes[0]);
        Assert.Equal("BitTorrent protocol"u8.ToArray(), bytes[1..20]);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0x10, 0, 0x04 }, bytes[20..28]);
        Assert.Equal(InfoHash.ToArray(), bytes[28..48]);
        Assert.Equal("-PN0100-abcdefghijkl"u8.ToArray(), bytes[48..]);
    }

    [Fact]
    public void TryRead_AnySegmentation_ReadsTheSameHandshake()
    {
        byte[] bytes = [.. Encode(HandshakeReserved.Dht | HandshakeReserved.V2Upgrade), 0xAA, 0xBB];
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(bytes))
        {
            ReadOnlySequence<byte> buffer = sequence;
            Assert.True(Handshake.TryRead(ref buffer, out Handshake h, out PeerWireError error) == OperationStatus.Done, shape);
            Assert.Equal(PeerWireError.None, error);
            Assert.Equal(InfoHash, h.InfoHash);
            Assert.Equal(Peer, h.PeerId);
            Assert.True(h.SupportsDht && h.SupportsV2 && !h.SupportsFastExtension && !h.SupportsExtensionProtocol, shape);
            Assert.Equal(new byte[] { 0xAA, 0xBB }, buffer.ToArray());
        }
    }

    [Theory]
    [InlineData(5, 0x10, (ulong)HandshakeReserved.ExtensionProtocol)]
    [InlineData(7, 0x04, (ulong)HandshakeReserved.FastExtension)]
    [InlineData(7, 0x01, (ulong)HandshakeReserved.Dht)]
    [InlineData(7, 0x10, (ulong)HandshakeReserved.V2Upgrade)]
    public void ReservedBits_MapToTheBepBytes(int index, byte mask, ulong expectedBits)
    {
        var expected = (HandshakeReserved)expectedBits;
        byte[] bytes = Encode(HandshakeReserved.None);
        bytes[20 + index] = mask;
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(OperationStatus.Done, Handshake.TryRead(ref buffer, out Handshake h, out _));
        Assert.Equal(expected, h.Reserved);
        Assert.Equal(expected == HandshakeReserved.ExtensionProtocol, h.SupportsExtensionProtocol);
        Assert.Equal(expected == HandshakeReserved.FastExtension, h.SupportsFastExtension);
        Assert.Equal(expected == HandshakeReserved.Dht, h.SupportsDht);
        Assert.Equal(expected == HandshakeReserved.V2Upgrade, h.SupportsV2);
    }

    [Fact]
    public void TryRead_UnknownReservedBits_AreKept()
    {
        byte[] bytes = Encode((HandshakeReserved)0x8000_0000_0000_0100UL);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(OperationStatus.Done, Handshake.TryRead(ref buffer, out Handshake h, out _));
        Assert.Equal(0x80, bytes[20]);
        Assert.Equal((HandshakeReserved)0x8000_0000_0000_0100UL, h.Reserved);
    }

    [Fact]
    public void TryRead_EveryTruncation_NeedsMoreDataAndConsumesNothing()
    {
        byte[] bytes = Encode(HandshakeReserved.ExtensionProtocol);
        for (int length = 0; length < Handshake.Length; length++)
        {
            foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(bytes[..length]))
            {
                ReadOnlySequence<byte> buffer = sequence;
                Assert.True(Handshake.TryRead(ref buffer, out _, out _) == OperationStatus.NeedMoreData, $"{length} {shape}");
                Assert.Equal(length, buffer.Length);
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(19)]
    public void TryRead_WrongProtocolByte_IsInvalidAsSoonAsItArrives(int wrongAt)
    {
        byte[] bytes = Encode(HandshakeReserved.None);
        bytes[wrongAt] ^= 0x20;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(bytes[..(wrongAt + 1)]))
        {
            ReadOnlySequence<byte> buffer = sequence;
            Assert.True(Handshake.TryRead(ref buffer, out _, out PeerWireError error) == OperationStatus.InvalidData, shape);
            Assert.Equal(PeerWireError.InvalidProtocol, error);
            Assert.Equal(wrongAt + 1, buffer.Length);
        }
    }

    [Fact]
    public void TryReadHeader_Multistream_IsInvalidAtSecondByte()
    {
        var buffer = new ReadOnlySequence<byte>("\u0013/multistream/1.0.0\n"u8.ToArray());
        Assert.Equal(OperationStatus.InvalidData, Handshake.TryReadHeader(ref buffer, out _, out _, out PeerWireError error));
        Assert.Equal(PeerWireError.InvalidProtocol, error);
    }

    [Fact]
    public void TryReadHeader_ThenPeerId_ReadsInTwoSteps()
    {
        byte[] bytes = Encode(HandshakeReserved.ExtensionProtocol);
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(bytes))
        {
            ReadOnlySequence<byte> header = sequence.Slice(0, Handshake.HeaderLength);
            Assert.True(Handshake.TryReadHeader(ref header, out HandshakeReserved reserved, out Sha1Hash hash, out _) == OperationStatus.Done, shape);
            Assert.Equal(HandshakeReserved.ExtensionProtocol, reserved);
            Assert.Equal(InfoHash, hash);
            Assert.Equal(0, header.Length);

            ReadOnlySequence<byte> rest = sequence.Slice(Handshake.HeaderLength);
            ReadOnlySequence<byte> partial = rest.Slice(0, 19);
            Assert.Equal(OperationStatus.NeedMoreData, Handshake.TryReadPeerId(ref partial, out _));
            Assert.Equal(OperationStatus.Done, Handshake.TryReadPeerId(ref rest, out PeerId id));
            Assert.Equal(Peer, id);
        }
    }

    [Fact]
    public void WriteHeader_WritesTheFirst48Bytes()
    {
        byte[] full = Encode(HandshakeReserved.FastExtension);
        var header = new byte[Handshake.HeaderLength];
        Assert.Equal(48, Handshake.WriteHeader(header, HandshakeReserved.FastExtension, InfoHash));
        Assert.Equal(full[..48], header);
    }

    [Fact]
    public void WriteTo_DestinationTooSmall_Throws()
    {
        Assert.Throws<ArgumentException>(() => new Handshake(default, InfoHash, Peer).WriteTo(new byte[67]));
    }

    [Fact]
    public void PeerId_ToString_EscapesUnprintableBytes()
    {
        byte[] bytes = "-qB4650-............"u8.ToArray();
        bytes[19] = 0x01;
        Assert.Equal("-qB4650-...........%01", new PeerId(bytes).ToString());
    }
}
