using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace PeerNet;

/// <summary>A 32-byte SHA-256 digest: a v2 info-hash, a merkle root, or a merkle tree node.</summary>
public readonly struct Sha256Hash : IEquatable<Sha256Hash>, IComparable<Sha256Hash>, ISpanFormattable, IFixedBytes<Sha256Hash>
{
    /// <summary>Length of the digest in bytes.</summary>
    public const int Length = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    /// <summary>Creates a hash from exactly 32 bytes.</summary>
    public Sha256Hash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            ThrowHelper.ThrowArgument(nameof(bytes), "A SHA-256 hash is exactly 32 bytes.");
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    /// <summary>True for the all-zero hash (a merkle padding leaf).</summary>
    public bool IsZero => (_a | _b | _c | _d) == 0;

    /// <summary>Computes the SHA-256 digest of <paramref name="data"/>.</summary>
    public static Sha256Hash Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Length];
        SHA256.HashData(data, digest);
        return new Sha256Hash(digest);
    }

    /// <summary>SHA-256 of the 64-byte concatenation of two nodes: one step up a merkle tree.</summary>
    public static Sha256Hash Combine(in Sha256Hash left, in Sha256Hash right)
    {
        Span<byte> pair = stackalloc byte[Length * 2];
        left.CopyTo(pair);
        right.CopyTo(pair[Length..]);
        return Compute(pair);
    }

    /// <summary>Writes the 32 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>The digest as a new array.</summary>
    public byte[] ToArray() => FixedBytes.ToArray(this);

    /// <summary>The first 20 bytes: how a v2 info-hash appears in the BitTorrent handshake, trackers and the DHT (BEP 52).</summary>
    public Sha1Hash Truncate()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return new Sha1Hash(bytes[..Sha1Hash.Length]);
    }

    /// <summary>Lower-case hexadecimal, 64 characters.</summary>
    public override string ToString() => FixedBytes.ToHex(this);

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => FixedBytes.TryFormatHex(this, destination, out charsWritten);

    /// <summary>Parses 64 hexadecimal characters (either case).</summary>
    public static bool TryParseHex(ReadOnlySpan<char> hex, out Sha256Hash hash) => FixedBytes.TryParseHex(hex, out hash);

    /// <summary>Parses 64 hexadecimal characters, or throws <see cref="FormatException"/>.</summary>
    public static Sha256Hash ParseHex(string hex) => FixedBytes.ParseHex<Sha256Hash>(hex, "SHA-256 hash");

    static int IFixedBytes<Sha256Hash>.ByteLength => Length;

    static Sha256Hash IFixedBytes<Sha256Hash>.FromBytes(ReadOnlySpan<byte> bytes) => new(bytes);

    /// <inheritdoc />
    public bool Equals(Sha256Hash other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Sha256Hash other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _d);

    /// <inheritdoc />
    public int CompareTo(Sha256Hash other)
    {
        int c = _a.CompareTo(other._a);
        if (c != 0)
        {
            return c;
        }

        c = _b.CompareTo(other._b);
        if (c != 0)
        {
            return c;
        }

        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }

#pragma warning disable CS1591 // operators are self-describing
    public static bool operator ==(Sha256Hash left, Sha256Hash right) => left.Equals(right);
    public static bool operator !=(Sha256Hash left, Sha256Hash right) => !left.Equals(right);
    public static bool operator <(Sha256Hash left, Sha256Hash right) => left.CompareTo(right) < 0;
    public static bool operator >(Sha256Hash left, Sha256Hash right) => left.CompareTo(right) > 0;
    public static bool operator <=(Sha256Hash left, Sha256Hash right) => left.CompareTo(right) <= 0;
    public static bool operator >=(Sha256Hash left, Sha256Hash right) => left.CompareTo(right) >= 0;
#pragma warning restore CS1591
}
