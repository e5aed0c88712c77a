using System.Buffers;
using PeerNet.PeerWire;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="HolepunchMessage.TryParse(in ReadOnlySequence{byte}, out HolepunchMessage, out HolepunchParseError)"/>:
/// a refusal names a reason; a parsed message has a port, a known type and a code only when it is an error, and writes
/// back to the input (or, for a rendezvous or connect that carried a zero err_code, to the input without it); one-byte
/// segments parse the same.
/// </summary>
public static class HolepunchTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        string? first = null;
        foreach (ReadOnlySequence<byte> shape in Sequences.Shapes(input))
        {
            bool parsed = HolepunchMessage.TryParse(shape, out HolepunchMessage message, out HolepunchParseError error);
            string summary = parsed ? message.ToString() : error.ToString();
            first ??= summary;
            Check.Equal(first, summary, "result with the input in segments");
            if (!parsed)
            {
                Check.That(error != HolepunchParseError.None, "refused with no error");
                continue;
            }

            Check.That(message.EndPoint.Port != 0, "port 0 accepted");
            Check.That((message.Type == HolepunchMessageType.Error) == (message.Error != HolepunchError.None), "an error code on a non-error message, or none on an error");
            byte[] written = new byte[message.Length];
            Check.Equal(written.Length, message.Write(written), "bytes written");

            // An IPv4-mapped IPv6 address is taken as the IPv4 peer it names, and so written back as IPv4 (12 bytes fewer).
            bool mapped = input[1] == 1 && new System.Net.IPAddress(input.AsSpan(2, 16)).IsIPv4MappedToIPv6;
            int read = written.Length + (mapped ? 12 : 0);
            if (mapped)
            {
                Check.That(message.EndPoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork, "a mapped address kept as IPv6");
                Check.That(HolepunchMessage.TryParse(new ReadOnlySequence<byte>(written), out HolepunchMessage again, out _) && again.ToString() == message.ToString(), "the message written back reads differently");
            }
            else
            {
                Check.SequenceEqual(input.AsSpan(0, written.Length).ToArray(), written, "the message written back");
            }

            Check.That(input.Length == read || (message.Type != HolepunchMessageType.Error && input.Length == read + 4), "trailing bytes accepted");
        }
    }
}
