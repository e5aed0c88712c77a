using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace PeerNet;

/// <summary>A 20-byte SHA-1 digest: a v1 info-hash, a v1 piece hash, or a truncated v2 info-hash.</summary>
public readonly struct Sha1Hash : IEquatable<Sha1Hash>, IComparable<Sha1Hash>, ISpanFormattable, IFixedBytes<Sha1Hash>
{
    /// <summary>Length of the digest in bytes.</summary>
    public const int Length = 20;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    /// <summary>Creates a hash from exactly 20 bytes.</summary>
    public Sha1Hash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            ThrowHelper.ThrowArgument(nameof(bytes), "A SHA-1 hash is exactly 20 bytes.");
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>Computes the SHA-1 digest of <paramref name="data"/>.</summary>
    public static Sha1Hash Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Length];
        SHA1.HashData(data, digest);
        return new Sha1Hash(digest);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    /// <summary>The digest as a new array.</summary>
    public byte[] ToArray() => FixedBytes.ToArray(this);

    /// <summary>Lower-case hexadecimal, 40 characters.</summary>
    public override string ToString() => FixedBytes.ToHex(this);

    /// <summary>RFC 4648 base32, 32 characters, as used by older magnet links.</summary>
    public string ToBase32()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Base32.Encode(bytes);
    }

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => FixedBytes.TryFormatHex(this, destination, out charsWritten);

    /// <summary>Parses 40 hexadecimal characters (either case).</summary>
    public static bool TryParseHex(ReadOnlySpan<char> hex, out Sha1Hash hash) => FixedBytes.TryParseHex(hex, out hash);

    /// <summary>Parses 40 hexadecimal characters, or throws <see cref="FormatException"/>.</summary>
    public static Sha1Hash ParseHex(string hex) => FixedBytes.ParseHex<Sha1Hash>(hex, "SHA-1 hash");

    static int IFixedBytes<Sha1Hash>.ByteLength => Length;

    static Sha1Hash IFixedBytes<Sha1Hash>.FromBytes(ReadOnlySpan<byte> bytes) => new(bytes);

    /// <inheritdoc />
    public bool Equals(Sha1Hash other) => _a == other._a && _b == other._b && _c == other._c;

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Sha1Hash other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    /// <inheritdoc />
    public int CompareTo(Sha1Hash other)
    {
        int c = _a.CompareTo(other._a);
        if (c != 0)
        {
            return c;
        }

        c = _b.CompareTo(other._b);
        return c != 0 ? c : _c.CompareTo(other._c);
    }

#pragma warning disable CS1591 // operators are self-describing
    public static bool operator ==(Sha1Hash left, Sha1Hash right) => left.Equals(right);
    public static bool operator !=(Sha1Hash left, Sha1Hash right) => !left.Equals(right);
    public static bool operator <(Sha1Hash left, Sha1Hash right) => left.CompareTo(right) < 0;
    public static bool operator >(Sha1Hash left, Sha1Hash right) => left.CompareTo(right) > 0;
    public static bool operator <=(Sha1Hash left, Sha1Hash right) => left.CompareTo(right) <= 0;
    public static bool operator >=(Sha1Hash left, Sha1Hash right) => left.CompareTo(right) >= 0;
#pragma warning restore CS1591
}
