using PeerNet.Libp2p;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="Multiaddr.TryDecode"/> (binary multiaddrs): a refusal names an error and gives no address; an accepted one
/// writes back to the same bytes, and its text parses to the same address.
/// </summary>
public static class MultiaddrTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (!Multiaddr.TryDecode(data, out Multiaddr? address, out string? error))
        {
            Check.That(!string.IsNullOrEmpty(error), "refused with no error");
            Check.That(address is null, "refused with an address");
            return;
        }

        Check.Bytes(data.ToArray(), address.ToBytes(), "bytes after a decode and encode");
        Check.That(Multiaddr.TryParse(address.ToString(), out Multiaddr? again, out string? textError), $"its own text is refused: {textError}");
        Check.Equal(address, again, "address after a text round trip");
    }
}
