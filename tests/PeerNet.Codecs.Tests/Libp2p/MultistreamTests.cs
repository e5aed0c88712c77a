using System.Buffers;
using PeerNet.Libp2p;

namespace PeerNet.Codecs.Tests.Libp2p;

public sealed class MultistreamTests
{
    private static byte[] Message(string line)
    {
        var output = new ArrayBufferWriter<byte>();
        MultistreamMessage.Write(line, output);
        return output.WrittenSpan.ToArray();
    }

    private static (MultistreamStatus Status, byte[] Reply, int Consumed) Feed(MultistreamNegotiation side, byte[] input)
    {
        var output = new ArrayBufferWriter<byte>();
        MultistreamStatus status = side.Receive(input, output, out int consumed);
        return (status, output.WrittenSpan.ToArray(), consumed);
    }

    [Fact]
    public void Messages_are_varint_length_then_line_and_newline()
    {
        Assert.Equal("036e610a", Convert.ToHexStringLower(Message("na")));
        Assert.Equal("132f6d756c746973747265616d2f312e302e300a", Convert.ToHexStringLower(Message("/multistream/1.0.0")));
    }

    [Fact]
    public void Dialer_and_listener_agree_in_memory_after_a_refusal()
    {
        var dialer = new MultistreamDialer(["/yamux/2.0.0", "/yamux/1.0.0"]);
        var listener = new MultistreamListener(["/noise", "/yamux/1.0.0"]);
        var toListener = new ArrayBufferWriter<byte>();
        dialer.Start(toListener);

        // Round trips until both settle; each side consumes everything it is given.
        byte[] pending = toListener.WrittenSpan.ToArray();
        bool toDialer = false;
        for (int round = 0; round < 10 && (dialer.Status == MultistreamStatus.Pending || listener.Status == MultistreamStatus.Pending); round++)
        {
            (MultistreamStatus _, byte[] reply, int consumed) = Feed(toDialer ? dialer : listener, pending);
            Assert.Equal(pending.Length, consumed);
            pending = reply;
            toDialer = !toDialer;
        }

        Assert.Equal(MultistreamStatus.Selected, dialer.Status);
        Assert.Equal(MultistreamStatus.Selected, listener.Status);
        Assert.Equal("/yamux/1.0.0", dialer.Protocol);
        Assert.Equal("/yamux/1.0.0", listener.Protocol);
    }

    [Fact]
    public void The_dialer_opens_with_header_and_proposal_and_leaves_protocol_data_unread()
    {
        var dialer = new MultistreamDialer(["/noise"]);
        var opening = new ArrayBufferWriter<byte>();
        dialer.Start(opening);
        Assert.Equal([.. Message("/multistream/1.0.0"), .. Message("/noise")], opening.WrittenSpan.ToArray());

        byte[] answer = [.. Message("/multistream/1.0.0"), .. Message("/noise"), 0xde, 0xad];
        (MultistreamStatus status, byte[] reply, int consumed) = Feed(dialer, answer);

        Assert.Equal(MultistreamStatus.Selected, status);
        Assert.Empty(reply);
        Assert.Equal(answer.Length - 2, consumed);
    }

    [Fact]
    public void Bytes_arriving_one_at_a_time_are_waited_for()
    {
        var listener = new MultistreamListener(["/noise"]);
        byte[] input = [.. Message("/multistream/1.0.0"), .. Message("/noise")];
        var buffer = new List<byte>();
        var replies = new ArrayBufferWriter<byte>();
        foreach (byte b in input)
        {
            buffer.Add(b);
            listener.Receive(buffer.ToArray(), replies, out int consumed);
            buffer.RemoveRange(0, consumed);
        }

        Assert.Equal(MultistreamStatus.Selected, listener.Status);
        Assert.Empty(buffer);
        Assert.Equal([.. Message("/multistream/1.0.0"), .. Message("/noise")], replies.WrittenSpan.ToArray());
    }

    [Fact]
    public void The_listener_says_na_and_lists_on_ls()
    {
        var listener = new MultistreamListener(["/noise", "/ipfs/ping/1.0.0"]);
        (_, byte[] reply, _) = Feed(listener, [.. Message("/multistream/1.0.0"), .. Message("/tls/1.0.0"), .. Message("ls")]);

        byte[] inner = [.. Message("/noise"), .. Message("/ipfs/ping/1.0.0")];
        byte[] list = [(byte)(inner.Length + 1), .. inner, (byte)'\n'];
        Assert.Equal([.. Message("/multistream/1.0.0"), .. Message("na"), .. list], reply);
        Assert.Equal(MultistreamStatus.Pending, listener.Status);
    }

    [Fact]
    public void The_dialer_fails_when_nothing_is_available()
    {
        var dialer = new MultistreamDialer(["/a", "/b"]);
        dialer.Start(new ArrayBufferWriter<byte>());
        (MultistreamStatus status, byte[] reply, _) = Feed(dialer, [.. Message("/multistream/1.0.0"), .. Message("na")]);
        Assert.Equal(Message("/b"), reply);
        Assert.Equal(MultistreamStatus.Pending, status);

        (status, _, _) = Feed(dialer, Message("na"));
        Assert.Equal(MultistreamStatus.Failed, status);
        Assert.Contains("none of /a, /b", dialer.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/multistream/2.0.0", "does not speak")]
    [InlineData("GET / HTTP/1.1", "does not speak")]
    public void A_wrong_header_fails(string header, string reason)
    {
        var listener = new MultistreamListener(["/noise"]);
        (MultistreamStatus status, byte[] reply, _) = Feed(listener, Message(header));
        Assert.Equal(MultistreamStatus.Failed, status);
        Assert.Empty(reply);
        Assert.Contains(reason, listener.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dialer_fails_on_an_answer_it_did_not_ask_for()
    {
        var dialer = new MultistreamDialer(["/noise"]);
        dialer.Start(new ArrayBufferWriter<byte>());
        (MultistreamStatus status, _, _) = Feed(dialer, [.. Message("/multistream/1.0.0"), .. Message("/tls/1.0.0")]);
        Assert.Equal(MultistreamStatus.Failed, status);
        Assert.Contains("answered '/tls/1.0.0'", dialer.Error, StringComparison.Ordinal);
    }

    public static TheoryData<byte[], string> HostileInputs() => new()
    {
        { [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], "varint" },
        { [0x80, 0x80, 0x01], "over the 1024-byte limit" }, // 16384 announced: refused before the bytes come
        { [0x00], "empty message" },
        { [0x80, 0x00], "varint" },
        { [0x03, (byte)'n', (byte)'a', (byte)'x'], "newline" },
        { [0x04, (byte)'a', (byte)'\n', (byte)'b', (byte)'\n'], "control character" },
        { [0x03, 0xc3, 0x28, (byte)'\n'], "not UTF-8" },
        { [0x04, 0x1b, (byte)'[', (byte)'m', (byte)'\n'], "control character" },
    };

    [Theory]
    [MemberData(nameof(HostileInputs))]
    public void Hostile_messages_fail_cleanly(byte[] input, string reason)
    {
        var listener = new MultistreamListener(["/noise"]);
        (MultistreamStatus status, byte[] reply, _) = Feed(listener, input);
        Assert.Equal(MultistreamStatus.Failed, status);
        Assert.Empty(reply);
        Assert.Contains(reason, listener.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Endless_proposals_end_the_negotiation()
    {
        var listener = new MultistreamListener(["/noise"]);
        var input = new List<byte>(Message("/multistream/1.0.0"));
        for (int i = 0; i <= MultistreamListener.MaxAttempts; i++)
        {
            input.AddRange(Message($"/nope/{i}"));
        }

        (MultistreamStatus status, byte[] reply, _) = Feed(listener, [.. input]);
        Assert.Equal(MultistreamStatus.Failed, status);
        Assert.Contains("proposals", listener.Error, StringComparison.Ordinal);
        Assert.Equal(Message("/multistream/1.0.0").Length + (MultistreamListener.MaxAttempts * Message("na").Length), reply.Length);
    }

    [Fact]
    public void A_smaller_line_bound_is_kept()
    {
        var listener = new MultistreamListener(["/noise"], maxLineLength: 32);
        (MultistreamStatus status, _, _) = Feed(listener, [.. Message("/multistream/1.0.0"), .. Message("/" + new string('x', 40))]);
        Assert.Equal(MultistreamStatus.Failed, status);
        Assert.Contains("over the 32-byte limit", listener.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_protocol_ids_are_refused_by_the_dialer()
    {
        Assert.Throws<ArgumentException>(() => new MultistreamDialer(["noise"]));
        Assert.Throws<ArgumentException>(() => new MultistreamDialer(["/a\nb"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MultistreamDialer([]));
    }

    [Fact]
    public void Random_input_never_throws()
    {
        var random = new Random(3);
        byte[] header = Message("/multistream/1.0.0");
        for (int i = 0; i < 5_000; i++)
        {
            var listener = new MultistreamListener(["/noise"]);
            byte[] noise = new byte[random.Next(64)];
            random.NextBytes(noise);
            byte[] input = i % 2 == 0 ? [.. header, .. noise] : noise;
            listener.Receive(input, new ArrayBufferWriter<byte>(), out int consumed);
            Assert.InRange(consumed, 0, input.Length);
        }

    }
}
