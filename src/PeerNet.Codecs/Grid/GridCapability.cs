using System.Globalization;

namespace PeerNet.Grid;

/// <summary>
/// A capability to an immutable file in the storage grid (after Tahoe-LAFS's CHK capabilities). The read capability
/// <c>URI:PEERNET-CHK:KEY:ROOT:K:N:SIZE</c> holds the file's key and the root (the hash of its extension block): it
/// reads the file. The verify capability <c>URI:PEERNET-CHK-VERIFIER:SI:ROOT:K:N:SIZE</c> holds the storage index
/// (a hash of the key) instead of the key: it finds, checks and repairs the shares but cannot decrypt them. Keys,
/// roots and storage indexes are 32 bytes in lower-case base32 without padding.
/// </summary>
public sealed class GridCapability : IEquatable<GridCapability>
{
    /// <summary>The longest capability text accepted.</summary>
    public const int MaxLength = 256;

    private const string ReadPrefix = "URI:PEERNET-CHK:";
    private const string VerifyPrefix = "URI:PEERNET-CHK-VERIFIER:";
    private readonly byte[]? _key;
    private readonly byte[] _storageIndex;
    private readonly byte[] _root;

    private GridCapability(byte[]? key, byte[] storageIndex, byte[] root, int k, int n, long size)
    {
        _key = key;
        _storageIndex = storageIndex;
        _root = root;
        K = k;
        N = n;
        Size = size;
    }

    /// <summary>Whether this capability reads the file (it holds the key), or only verifies it.</summary>
    public bool CanRead => _key is not null;

    /// <summary>The file's 32-byte key; empty for a verify capability.</summary>
    public ReadOnlyMemory<byte> Key => _key;

    /// <summary>The storage index under which providers keep the shares: a hash of the key.</summary>
    public ReadOnlyMemory<byte> StorageIndex => _storageIndex;

    /// <summary>The hash of the file's extension block, which fixes every byte of every share.</summary>
    public ReadOnlyMemory<byte> Root => _root;

    /// <summary>How many shares rebuild the file.</summary>
    public int K { get; }

    /// <summary>How many shares were made.</summary>
    public int N { get; }

    /// <summary>The file's size in bytes.</summary>
    public long Size { get; }

    /// <summary>A read capability from its parts.</summary>
    /// <exception cref="ArgumentException">A key or root that is not 32 bytes, or parameters out of range.</exception>
    public static GridCapability ForRead(ReadOnlySpan<byte> key, ReadOnlySpan<byte> root, int k, int n, long size)
    {
        Check(key.Length, root.Length, k, n, size);
        return new GridCapability(key.ToArray(), GridHashes.StorageIndex(key), root.ToArray(), k, n, size);
    }

    /// <summary>The verify capability of this file (itself, if it is one).</summary>
    public GridCapability ToVerify() => _key is null ? this : new GridCapability(null, _storageIndex, _root, K, N, Size);

    /// <summary>The capability's text.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(_key is null ? VerifyPrefix : ReadPrefix)}{Base32.Encode(_key ?? _storageIndex).ToLowerInvariant()}:{Base32.Encode(_root).ToLowerInvariant()}:{K}:{N}:{Size}");

    /// <summary>Parses a read or verify capability.</summary>
    /// <exception cref="FormatException">The text is not a capability; the message says why.</exception>
    public static GridCapability Parse(string text) =>
        TryParse(text, out GridCapability? capability, out string? error) ? capability! : throw new FormatException($"Not a storage capability: {error}.");

    /// <summary>Parses a read or verify capability; false with the reason when it is not one.</summary>
    public static bool TryParse(string? text, out GridCapability? capability, out string? error)
    {
        capability = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "it is empty";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"it is {text.Length} characters, over {MaxLength}";
            return false;
        }

        bool read = text.StartsWith(ReadPrefix, StringComparison.Ordinal);
        if (!read && !text.StartsWith(VerifyPrefix, StringComparison.Ordinal))
        {
            error = $"it starts neither with {ReadPrefix} nor with {VerifyPrefix}";
            return false;
        }

        string[] parts = text[(read ? ReadPrefix : VerifyPrefix).Length..].Split(':');
        if (parts.Length != 5)
        {
            error = $"it has {parts.Length} fields after the prefix, not 5 (key or index, root, k, n, size)";
            return false;
        }

        byte[] first = new byte[32];
        byte[] root = new byte[32];
        if (!Decode32(parts[0], first) || !Decode32(parts[1], root))
        {
            error = "a key, index or root is not 32 bytes of base32";
            return false;
        }

        if (!Number(parts[2], 256, out long k) || !Number(parts[3], 256, out long n) || !Number(parts[4], GridExtensionBlock.MaxFileSize, out long size))
        {
            error = "k, n or the size is not a plain decimal number in range";
            return false;
        }

        error = GridExtensionBlock.CheckParameters((int)k, (int)n, 1, 0);
        if (error is not null)
        {
            return false;
        }

        capability = read
            ? new GridCapability(first, GridHashes.StorageIndex(first), root, (int)k, (int)n, size)
            : new GridCapability(null, first, root, (int)k, (int)n, size);
        return true;
    }

    private static bool Decode32(string text, byte[] destination) =>
        text.Length == 52 && text.All(c => c is (>= 'a' and <= 'z') or (>= '2' and <= '7'))
        && Base32.TryDecode(text, destination, out int written) && written == 32;

    private static bool Number(string text, long max, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 13 || (text.Length > 1 && text[0] == '0') || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        value = long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return value <= max;
    }

    private static void Check(int keyLength, int rootLength, int k, int n, long size)
    {
        if (keyLength != 32 || rootLength != 32)
        {
            throw new ArgumentException("A key and a root are 32 bytes.");
        }

        string? error = GridExtensionBlock.CheckParameters(k, n, 1, 0);
        if (error is not null || size < 0 || size > GridExtensionBlock.MaxFileSize)
        {
            throw new ArgumentException($"Invalid capability parameters: {error ?? "size out of range"}.");
        }
    }

    /// <inheritdoc/>
    public bool Equals(GridCapability? other) => other is not null && ToString() == other.ToString();

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as GridCapability);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());
}
