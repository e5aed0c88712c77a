using System.Buffers;
using System.Net;
using PeerNet.PeerWire;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="PexMessage.TryParse"/>: a parsed message stays within the peer limit, its peers have ports and
/// addresses of the right family, and one small enough to send writes a payload that parses back to the
/// same peers (IPv4-mapped IPv6 addresses travel as IPv4); one-byte segments parse the same.
/// </summary>
public static class PexTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        string? first = null;
        foreach (ReadOnlySequence<byte> shape in Sequences.Shapes(input))
        {
            bool parsed = PexMessage.TryParse(shape, out PexMessage? message, out PeerWireError error);
            string summary = parsed ? Describe(message!) : error.ToString();
            first ??= summary;
            Check.Equal(first, summary, "result with the input in segments");
            if (message is null)
            {
                Check.That(error != PeerWireError.None, "refused with no error");
                continue;
            }

            Check.That(message.Added.Count <= PexMessage.DefaultMaxReceivedPeers && message.Dropped.Count <= PexMessage.DefaultMaxReceivedPeers, "too many peers");
            if (message.Added.Count > PexMessage.MaxPeersPerMessage || message.Dropped.Count > PexMessage.MaxPeersPerMessage)
            {
                continue;
            }

            var output = new ArrayBufferWriter<byte>();
            message.WritePayload(output);
            Check.That(PexMessage.TryParse(new ReadOnlySequence<byte>(output.WrittenMemory), out PexMessage? again, out PeerWireError againError), $"its own payload is refused: {againError}");
            Check.Equal(Normalized(message), Normalized(again), "peers after a write and parse");
        }
    }

    private static string Describe(PexMessage m) =>
        $"added={string.Join(",", m.Added.Select(p => $"{p.EndPoint}/{(int)p.Flags}"))} dropped={string.Join(",", m.Dropped)}";

    // The encoder sends IPv4-mapped addresses as IPv4, and IPv4 peers before IPv6 ones: compare sorted and mapped.
    private static string Normalized(PexMessage m) =>
        $"added={string.Join(",", m.Added.Select(p => $"{Map(p.EndPoint)}/{(int)p.Flags}").Order(StringComparer.Ordinal))} "
        + $"dropped={string.Join(",", m.Dropped.Select(Map).Order(StringComparer.Ordinal))}";

    private static string Map(IPEndPoint e) => (e.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(e.Address.MapToIPv4(), e.Port) : e).ToString();
}
