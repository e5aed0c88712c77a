using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace PeerNet.Dht;

/// <summary>
/// A 160-bit DHT node ID or key (BEP 5): node IDs, info-hashes and BEP 44 targets share one space, where the
/// distance between two IDs is their XOR read as an unsigned integer.
/// </summary>
internal readonly struct NodeId : IEquatable<NodeId>, IFixedBytes<NodeId>
{
    /// <summary>Length of an ID in bytes.</summary>
    public const int Length = 20;

    /// <summary>Number of bits in an ID.</summary>
    public const int Bits = 160;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    private NodeId(ulong a, ulong b, uint c)
    {
        _a = a;
        _b = b;
        _c = c;
    }

    /// <summary>Creates an ID from exactly 20 bytes.</summary>
    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            ThrowHelper.ThrowArgument(nameof(bytes), "A node ID is exactly 20 bytes.");
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>The ID with the same 20 bytes as <paramref name="hash"/> (an info-hash as a DHT key).</summary>
    public static NodeId FromHash(Sha1Hash hash)
    {
        Span<byte> bytes = stackalloc byte[Length];
        hash.CopyTo(bytes);
        return new NodeId(bytes);
    }

    /// <summary>The same 20 bytes as a <see cref="Sha1Hash"/>.</summary>
    public Sha1Hash ToHash()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return new Sha1Hash(bytes);
    }

    /// <summary>A uniformly random ID from <paramref name="random"/>.</summary>
    public static NodeId Random(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> bytes = stackalloc byte[Length];
        random.NextBytes(bytes);
        return new NodeId(bytes);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    /// <summary>The ID as a new array.</summary>
    public byte[] ToArray() => FixedBytes.ToArray(this);

    /// <summary>The XOR distance to <paramref name="other"/>, as an ID.</summary>
    public NodeId Xor(NodeId other) => new(_a ^ other._a, _b ^ other._b, _c ^ other._c);

    /// <summary>Number of leading bits this ID shares with <paramref name="other"/> (160 when equal).</summary>
    public int CommonPrefixLength(NodeId other)
    {
        ulong a = _a ^ other._a;
        if (a != 0)
        {
            return BitOperations.LeadingZeroCount(a);
        }

        ulong b = _b ^ other._b;
        if (b != 0)
        {
            return 64 + BitOperations.LeadingZeroCount(b);
        }

        uint c = _c ^ other._c;
        return c != 0 ? 128 + BitOperations.LeadingZeroCount(c) : Bits;
    }

    /// <summary>Bit <paramref name="index"/> (0 = most significant).</summary>
    public bool GetBit(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Bits);
        return index switch
        {
            < 64 => ((_a >> (63 - index)) & 1) != 0,
            < 128 => ((_b >> (127 - index)) & 1) != 0,
            _ => ((_c >> (159 - index)) & 1) != 0,
        };
    }

    /// <summary>This ID with bit <paramref name="index"/> flipped (a key in the sibling subtree at that depth).</summary>
    public NodeId FlipBit(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Bits);
        return index switch
        {
            < 64 => new NodeId(_a ^ (1UL << (63 - index)), _b, _c),
            < 128 => new NodeId(_a, _b ^ (1UL << (127 - index)), _c),
            _ => new NodeId(_a, _b, _c ^ (1U << (159 - index))),
        };
    }

    /// <summary>
    /// Compares the distances of <paramref name="x"/> and <paramref name="y"/> to this ID: negative when
    /// <paramref name="x"/> is closer.
    /// </summary>
    public int CompareDistance(NodeId x, NodeId y)
    {
        int c = (x._a ^ _a).CompareTo(y._a ^ _a);
        if (c != 0)
        {
            return c;
        }

        c = (x._b ^ _b).CompareTo(y._b ^ _b);
        return c != 0 ? c : (x._c ^ _c).CompareTo(y._c ^ _c);
    }

    /// <summary>Lower-case hexadecimal, 40 characters.</summary>
    public override string ToString() => FixedBytes.ToHex(this);

    /// <summary>Parses 40 hexadecimal characters.</summary>
    public static NodeId ParseHex(string hex) => FixedBytes.ParseHex<NodeId>(hex, "DHT node ID");

    static int IFixedBytes<NodeId>.ByteLength => Length;

    static NodeId IFixedBytes<NodeId>.FromBytes(ReadOnlySpan<byte> bytes) => new(bytes);

    /// <inheritdoc />
    public bool Equals(NodeId other) => _a == other._a && _b == other._b && _c == other._c;

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is NodeId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);
}
