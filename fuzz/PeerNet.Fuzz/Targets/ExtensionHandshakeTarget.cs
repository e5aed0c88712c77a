using System.Buffers;
using PeerNet.PeerWire;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="ExtensionHandshake.TryParse"/>: a parsed handshake respects its limits, has a client name safe to print, writes a payload
/// (<see cref="ExtensionHandshake.WritePayload"/>) that parses back to the same handshake, and parses the same
/// from one-byte segments.
/// </summary>
public static class ExtensionHandshakeTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        string? first = null;
        foreach (ReadOnlySequence<byte> shape in Sequences.Shapes(input))
        {
            string summary = ExtensionHandshake.TryParse(shape, out ExtensionHandshake? handshake, out PeerWireError error)
                ? Describe(handshake)
                : error.ToString();
            first ??= summary;
            Check.Equal(first, summary, "result with the input in segments");
            if (handshake is null)
            {
                Check.That(error != PeerWireError.None, "refused with no error");
                continue;
            }

            Check.That(handshake.Messages.Count <= ExtensionHandshake.MaxExtensions, "too many extensions");
            Check.That(handshake.ClientName is null || DisplayText.IndexOfUnsafe(handshake.ClientName) < 0, "the client name holds a control or bidi character");
            Check.That(handshake.ListenPort is null or (>= 1 and <= 65535), $"listen port {handshake.ListenPort}");
            Check.That(handshake.MetadataSize is null or (>= 1 and <= ExtensionHandshake.MaxMetadataSize), $"metadata size {handshake.MetadataSize}");
            var output = new ArrayBufferWriter<byte>();
            handshake.WritePayload(output);
            Check.That(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(output.WrittenMemory), out ExtensionHandshake? again, out PeerWireError againError), $"its own payload is refused: {againError}");
            Check.Equal(summary, Describe(again), "handshake after a write and parse");
        }
    }

    private static string Describe(ExtensionHandshake h) =>
        $"m={string.Join(",", h.Messages.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value}"))} v={h.ClientName} p={h.ListenPort} reqq={h.RequestQueueLength} "
        + $"yourip={h.YourIp} ipv4={h.Ipv4} ipv6={h.Ipv6} metadata_size={h.MetadataSize} upload_only={h.UploadOnly}";
}
