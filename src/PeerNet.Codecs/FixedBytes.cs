namespace PeerNet;

/// <summary>
/// A value of a fixed number of bytes (a SHA-1 or SHA-256 digest, a DHT node ID): what <see cref="FixedBytes"/> needs to
/// format, parse and copy any of them with one piece of code. Each type keeps its own storage, equality and order.
/// </summary>
/// <typeparam name="TSelf">The implementing type.</typeparam>
internal interface IFixedBytes<TSelf>
    where TSelf : struct, IFixedBytes<TSelf>
{
    /// <summary>The value's length in bytes.</summary>
    static abstract int ByteLength { get; }

    /// <summary>The value of exactly <see cref="ByteLength"/> bytes.</summary>
    static abstract TSelf FromBytes(ReadOnlySpan<byte> bytes);

    /// <summary>Writes the value's bytes into <paramref name="destination"/>.</summary>
    void CopyTo(Span<byte> destination);
}

/// <summary>Hexadecimal form, parsing and copies of every <see cref="IFixedBytes{TSelf}"/> type.</summary>
internal static class FixedBytes
{
    /// <summary>The longest value (a SHA-256 digest): what the stack buffers here hold.</summary>
    private const int MaxLength = 32;

    public static byte[] ToArray<T>(in T value)
        where T : struct, IFixedBytes<T>
    {
        var bytes = new byte[T.ByteLength];
        value.CopyTo(bytes);
        return bytes;
    }

    /// <summary>Lower-case hexadecimal, two characters a byte.</summary>
    public static string ToHex<T>(in T value)
        where T : struct, IFixedBytes<T>
    {
        Span<byte> bytes = stackalloc byte[MaxLength];
        value.CopyTo(bytes);
        return Convert.ToHexStringLower(bytes[..T.ByteLength]);
    }

    public static bool TryFormatHex<T>(in T value, Span<char> destination, out int charsWritten)
        where T : struct, IFixedBytes<T>
    {
        Span<byte> bytes = stackalloc byte[MaxLength];
        value.CopyTo(bytes);
        return Convert.TryToHexStringLower(bytes[..T.ByteLength], destination, out charsWritten);
    }

    /// <summary>Parses exactly two hexadecimal characters (either case) a byte.</summary>
    public static bool TryParseHex<T>(ReadOnlySpan<char> hex, out T value)
        where T : struct, IFixedBytes<T>
    {
        value = default;
        if (hex.Length != T.ByteLength * 2)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[MaxLength];
        if (Convert.FromHexString(hex, bytes[..T.ByteLength], out _, out int written) != System.Buffers.OperationStatus.Done || written != T.ByteLength)
        {
            return false;
        }

        value = T.FromBytes(bytes[..T.ByteLength]);
        return true;
    }

    /// <summary>Parses hexadecimal or throws <see cref="FormatException"/> saying it is not a <paramref name="what"/>.</summary>
    public static T ParseHex<T>(string hex, string what)
        where T : struct, IFixedBytes<T>
    {
        ArgumentNullException.ThrowIfNull(hex);
        return TryParseHex(hex, out T value) ? value : throw new FormatException($"'{hex}' is not a {T.ByteLength * 2}-character hexadecimal {what}.");
    }
}
