using System.Buffers;
using System.Buffers.Binary;

namespace PeerNet.PeerWire;

/// <summary>
/// The BEP 3 handshake: <c>\x13BitTorrent protocol</c>, 8 reserved bytes, the 20-byte info-hash and the 20-byte
/// peer id, 68 bytes in all. A listener reads the first 48 bytes (<see cref="TryReadHeader"/>) to choose the
/// torrent before it answers, then the peer id (<see cref="TryReadPeerId"/>).
/// </summary>
internal readonly struct Handshake
{
    /// <summary>Length of the whole handshake.</summary>
    public const int Length = 68;

    /// <summary>Length of the part before the peer id: protocol string, reserved bytes and info-hash.</summary>
    public const int HeaderLength = 48;

    /// <summary>Length of the protocol string with its length byte.</summary>
    public const int ProtocolLength = 20;

    private const int ReservedOffset = ProtocolLength;
    private const int InfoHashOffset = ReservedOffset + 8;

    /// <summary>Creates a handshake.</summary>
    public Handshake(HandshakeReserved reserved, Sha1Hash infoHash, PeerId peerId)
    {
        Reserved = reserved;
        InfoHash = infoHash;
        PeerId = peerId;
    }

    /// <summary>The protocol string with its length byte, which every handshake starts with.</summary>
    public static ReadOnlySpan<byte> Protocol => "\u0013BitTorrent protocol"u8;

    /// <summary>The reserved bytes (unknown bits included, as received).</summary>
    public HandshakeReserved Reserved { get; }

    /// <summary>The info-hash: a v1 hash, or a v2 hash truncated to 20 bytes (BEP 52).</summary>
    public Sha1Hash InfoHash { get; }

    /// <summary>The sender's peer id.</summary>
    public PeerId PeerId { get; }

    /// <summary>BEP 10 extension protocol (<c>reserved[5] &amp; 0x10</c>).</summary>
    public bool SupportsExtensionProtocol => (Reserved & HandshakeReserved.ExtensionProtocol) != 0;

    /// <summary>BEP 6 fast extension (<c>reserved[7] &amp; 0x04</c>).</summary>
    public bool SupportsFastExtension => (Reserved & HandshakeReserved.FastExtension) != 0;

    /// <summary>BEP 5 DHT (<c>reserved[7] &amp; 0x01</c>).</summary>
    public bool SupportsDht => (Reserved & HandshakeReserved.Dht) != 0;

    /// <summary>BEP 52 v2 upgrade (<c>reserved[7] &amp; 0x10</c>).</summary>
    public bool SupportsV2 => (Reserved & HandshakeReserved.V2Upgrade) != 0;

    /// <summary>
    /// Reads a whole handshake. A wrong protocol string is <see cref="OperationStatus.InvalidData"/> as soon as
    /// the first differing byte arrives, without waiting for all 68. On <see cref="OperationStatus.Done"/>
    /// <paramref name="buffer"/> is advanced past the handshake; otherwise it is unchanged.
    /// </summary>
    public static OperationStatus TryRead(ref ReadOnlySequence<byte> buffer, out Handshake handshake, out PeerWireError error)
    {
        handshake = default;
        ReadOnlySequence<byte> rest = buffer;
        OperationStatus status = TryReadHeader(ref rest, out HandshakeReserved reserved, out Sha1Hash infoHash, out error);
        if (status != OperationStatus.Done)
        {
            return status;
        }

        status = TryReadPeerId(ref rest, out PeerId peerId);
        if (status != OperationStatus.Done)
        {
            return status;
        }

        handshake = new Handshake(reserved, infoHash, peerId);
        buffer = rest;
        return OperationStatus.Done;
    }

    /// <summary>
    /// Reads the first 48 bytes: protocol string, reserved bytes and info-hash. On
    /// <see cref="OperationStatus.Done"/> <paramref name="buffer"/> is advanced past them.
    /// </summary>
    public static OperationStatus TryReadHeader(ref ReadOnlySequence<byte> buffer, out HandshakeReserved reserved, out Sha1Hash infoHash, out PeerWireError error)
    {
        reserved = HandshakeReserved.None;
        infoHash = default;
        error = PeerWireError.None;

        // Compare whatever part of the protocol string has arrived, so a connection speaking something else
        // (another protocol on the same port, an HTTP probe) is refused at its first differing byte.
        Span<byte> scratch = stackalloc byte[HeaderLength];
        int available = (int)Math.Min(buffer.Length, ProtocolLength);
        ReadOnlySpan<byte> start = SequenceReading.Head(buffer, scratch[..available]);
        if (!start.SequenceEqual(Protocol[..available]))
        {
            error = PeerWireError.InvalidProtocol;
            return OperationStatus.InvalidData;
        }

        if (buffer.Length < HeaderLength)
        {
            return OperationStatus.NeedMoreData;
        }

        ReadOnlySpan<byte> header = SequenceReading.Head(buffer, scratch);
        reserved = (HandshakeReserved)BinaryPrimitives.ReadUInt64BigEndian(header[ReservedOffset..]);
        infoHash = new Sha1Hash(header.Slice(InfoHashOffset, Sha1Hash.Length));
        buffer = buffer.Slice(HeaderLength);
        return OperationStatus.Done;
    }

    /// <summary>
    /// Reads the 20-byte peer id that follows the header. Returns <see cref="OperationStatus.Done"/> or
    /// <see cref="OperationStatus.NeedMoreData"/>; any 20 bytes are a valid peer id.
    /// </summary>
    public static OperationStatus TryReadPeerId(ref ReadOnlySequence<byte> buffer, out PeerId peerId)
    {
        if (buffer.Length < PeerId.Length)
        {
            peerId = default;
            return OperationStatus.NeedMoreData;
        }

        Span<byte> scratch = stackalloc byte[PeerId.Length];
        peerId = new PeerId(SequenceReading.Head(buffer, scratch));
        buffer = buffer.Slice(PeerId.Length);
        return OperationStatus.Done;
    }

    /// <summary>Writes the 68-byte handshake; returns 68.</summary>
    public int WriteTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), "The destination is too small for a handshake.");
        }

        WriteHeader(destination, Reserved, InfoHash);
        PeerId.CopyTo(destination.Slice(HeaderLength, PeerId.Length));
        return Length;
    }

    /// <summary>Writes the first 48 bytes (protocol string, reserved bytes, info-hash); returns 48.</summary>
    public static int WriteHeader(Span<byte> destination, HandshakeReserved reserved, Sha1Hash infoHash)
    {
        if (destination.Length < HeaderLength)
        {
            ThrowHelper.ThrowArgument(nameof(destination), "The destination is too small for a handshake header.");
        }

        Protocol.CopyTo(destination);
        BinaryPrimitives.WriteUInt64BigEndian(destination[ReservedOffset..], (ulong)reserved);
        infoHash.CopyTo(destination.Slice(InfoHashOffset, Sha1Hash.Length));
        return HeaderLength;
    }
}
