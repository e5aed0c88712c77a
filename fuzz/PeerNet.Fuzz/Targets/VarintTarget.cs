using PeerNet.Libp2p;

namespace PeerNet.Fuzz;

/// <summary>
/// libp2p's varint and protobuf framing: the first byte picks a size cap (and whether identify messages are read as
/// push), the rest is a stream of length-prefixed messages as identify, Kademlia and gossipsub read them.
/// <list type="bullet">
/// <item>A varint read at the start is minimal, at most 9 bytes, below 2^63, and writes back to its own bytes; every
/// shorter prefix of it needs more; an Invalid one is too long or ends in a zero group.</item>
/// <item>The messages read from the whole input and from the input grown a byte at a time are the same, end in the
/// same status, and each is within the cap; an unfinished prefix refused for the cap cannot end under it.</item>
/// <item>Each message read as identify (the expected peer its own key's when it carries one, otherwise a fixed one):
/// no exception; accepted ones keep the limits, a key that is the expected peer's, valid protocol IDs, and
/// encode to a message that decodes to the same addresses and protocols.</item>
/// </list>
/// </summary>
public static class VarintTarget
{
    private static readonly int[] Caps = [0, 1, 127, 128, 300, 16_383, 16_384, IdentifyMessage.MaxMessageLength];

    private static readonly Libp2pPeerId Stranger = Libp2pPeerId.FromEd25519PublicKey(new byte[32]);

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        int cap = Caps[data[0] & 7];
        bool isPush = (data[0] & 8) != 0;
        ReadOnlySpan<byte> input = data[1..];
        CheckVarint(input);

        List<byte[]> whole = ReadAll(input, cap, out VarintStatus wholeStatus);
        List<byte[]>? grown = null;
        VarintStatus grownStatus = VarintStatus.NeedMore;
        if (input.Length <= 512)
        {
            grown = ReadGrowing(input, cap, out grownStatus);
        }

        if (grown is not null)
        {
            Check.Equal(whole.Count, grown.Count, "messages read whole and byte by byte");
            for (int i = 0; i < whole.Count; i++)
            {
                Check.Bytes(whole[i], grown[i], $"message {i} read whole and byte by byte");
            }

            Check.Equal(wholeStatus, grownStatus, "final status whole and byte by byte");
        }

        foreach (byte[] message in whole)
        {
            Check.That(message.Length <= cap, $"a {message.Length}-byte message under a {cap}-byte cap");
            CheckIdentify(message, isPush);
        }
    }

    private static void CheckVarint(ReadOnlySpan<byte> input)
    {
        VarintStatus status = UnsignedVarint.TryRead(input, out ulong value, out int length);
        switch (status)
        {
            case VarintStatus.Ok:
                Check.That(length is >= 1 and <= UnsignedVarint.MaxLength, $"a {length}-byte varint");
                Check.That(value < 1UL << 63, $"varint {value} over 63 bits");
                Check.Equal(length, UnsignedVarint.Length(value), "the varint's length and Length(value)");
                Span<byte> written = stackalloc byte[UnsignedVarint.MaxLength];
                Check.Bytes(input[..length], written[..UnsignedVarint.Write(value, written)], "a varint written back");
                for (int i = 0; i < length; i++)
                {
                    Check.Equal(VarintStatus.NeedMore, UnsignedVarint.TryRead(input[..i], out _, out _), $"a {i}-byte prefix of a {length}-byte varint");
                }

                break;
            case VarintStatus.NeedMore:
                Check.That(input.Length < UnsignedVarint.MaxLength, $"NeedMore after {input.Length} bytes");
                foreach (byte b in input)
                {
                    Check.That((b & 0x80) != 0, "NeedMore with a final byte present");
                }

                break;
            default:
                int end = input.IndexOfAnyInRange((byte)0, (byte)0x7F);
                Check.That(end < 0 || end >= UnsignedVarint.MaxLength || (input[end] == 0 && end > 0), $"a varint ending at {end} refused");
                break;
        }
    }

    /// <summary>Reads messages from the whole input until it needs more or fails.</summary>
    private static List<byte[]> ReadAll(ReadOnlySpan<byte> input, int cap, out VarintStatus status)
    {
        var messages = new List<byte[]>();
        while (true)
        {
            status = LengthPrefixedMessage.TryRead(input, cap, out ReadOnlySpan<byte> message, out int consumed, out string? error);
            if (status != VarintStatus.Ok)
            {
                Check.That(status != VarintStatus.Invalid || !string.IsNullOrEmpty(error), "refused with no error");
                if (status == VarintStatus.Invalid && UnsignedVarint.TryRead(input, out _, out _) == VarintStatus.NeedMore)
                {
                    // Refused for the cap before the prefix ended: its smallest ending (a group of 1) must be over it too.
                    byte[] ended = [.. input, 1];
                    Check.That(LengthPrefixedMessage.TryReadLength(ended, cap, out _, out _, out _) == VarintStatus.Invalid, "an unfinished prefix refused though it could end under the cap");
                }

                return messages;
            }

            Check.That(consumed > message.Length && consumed <= input.Length, $"consumed {consumed} for a {message.Length}-byte message");
            messages.Add(message.ToArray());
            input = input[consumed..];
        }
    }

    /// <summary>Reads the same stream as it would arrive a byte at a time, reading each time the buffer grows.</summary>
    private static List<byte[]> ReadGrowing(ReadOnlySpan<byte> input, int cap, out VarintStatus status)
    {
        var messages = new List<byte[]>();
        int start = 0;
        status = VarintStatus.NeedMore;
        for (int end = 0; end <= input.Length; end++)
        {
            while (true)
            {
                status = LengthPrefixedMessage.TryRead(input[start..end], cap, out ReadOnlySpan<byte> message, out int consumed, out _);
                if (status != VarintStatus.Ok)
                {
                    break;
                }

                messages.Add(message.ToArray());
                start += consumed;
            }

            if (status == VarintStatus.Invalid)
            {
                break;
            }
        }

        return messages;
    }

    private static void CheckIdentify(byte[] message, bool isPush)
    {
        // The expected peer is the message's own key's when it carries a valid one (so the accepting path is reached).
        Libp2pPeerId expected = Stranger;
        try
        {
            var parsed = PeerNet.Libp2p.Protos.Identify.Parser.ParseFrom(message);
            if (parsed.HasPublicKey)
            {
                expected = Libp2pPeerId.FromPublicKey(parsed.PublicKey.ToByteArray());
            }
        }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or ArgumentException)
        {
        }

        if (!IdentifyMessage.TryDecode(message, expected, isPush, out IdentifyInfo? info, out string? error))
        {
            Check.That(!string.IsNullOrEmpty(error), "identify refused with no error");
            return;
        }

        Check.That(info.ListenAddrs.Count <= IdentifyMessage.MaxListenAddrs, $"{info.ListenAddrs.Count} addresses");
        Check.That(info.Protocols is null || info.Protocols.Count <= IdentifyMessage.MaxProtocols, "too many protocols");
        Check.That(info.PublicKey is not null || isPush, "identify accepted without a key");
        if (info.PublicKey is not null)
        {
            Check.Equal(expected, Libp2pPeerId.FromPublicKey(info.PublicKey), "the identify key's peer");
        }

        foreach (string? text in new[] { info.AgentVersion, info.ProtocolVersion })
        {
            Check.That(text is null || text.Length <= IdentifyMessage.MaxTextLength, "a version over the text limit");
        }

        foreach (string protocol in info.Protocols ?? [])
        {
            Check.That(MultistreamListener.IsValidProtocolId(protocol, MultistreamMessage.DefaultMaxLineLength), $"protocol '{protocol}' accepted");
        }

        if (info.PublicKey is null)
        {
            return; // a push without a key: our encoding always carries one
        }

        // Addresses, observed address and protocols go back out as read (the agent is left out: sanitized text may be longer).
        byte[] encoded = IdentifyMessage.Encode(info.PublicKey, "", info.ListenAddrs, info.ObservedAddr, info.Protocols ?? []);
        Check.That(IdentifyMessage.TryDecode(encoded, expected, isPush, out IdentifyInfo? again, out string? againError), $"our own encoding of an accepted identify refused: {againError}");
        Check.SequenceEqual(info.ListenAddrs, again.ListenAddrs, "addresses encoded and read again");
        Check.SequenceEqual(info.Protocols ?? [], again.Protocols ?? [], "protocols encoded and read again");
        Check.Equal(info.ObservedAddr, again.ObservedAddr, "observed address encoded and read again");
    }
}
