using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace PeerNet.PeerWire;

/// <summary>
/// The 20-byte peer id a peer sends in its handshake (BEP 3). It is opaque: most clients start it with an
/// Azureus-style tag such as <c>-qB4650-</c>, but nothing may rely on that.
/// </summary>
internal readonly struct PeerId : IEquatable<PeerId>
{
    /// <summary>Length of a peer id in bytes.</summary>
    public const int Length = 20;

    // Twenty opaque bytes; Sha1Hash already stores and compares exactly that.
    private readonly Sha1Hash _bytes;

    /// <summary>Creates a peer id from exactly 20 bytes.</summary>
    public PeerId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            ThrowHelper.ThrowArgument(nameof(bytes), "A peer id is exactly 20 bytes.");
        }

        _bytes = new Sha1Hash(bytes);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => _bytes.CopyTo(destination);

    /// <summary>The id with printable ASCII kept and every other byte as <c>%XX</c>, for logs.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        var text = new StringBuilder(Length * 3);
        foreach (byte b in bytes)
        {
            if (b is >= 0x20 and < 0x7F && b != (byte)'%')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public bool Equals(PeerId other) => _bytes == other._bytes;

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is PeerId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _bytes.GetHashCode();

    public static bool operator ==(PeerId left, PeerId right) => left.Equals(right);

    public static bool operator !=(PeerId left, PeerId right) => !left.Equals(right);
}
