using PeerNet.Utp;

namespace PeerNet.Codecs.Tests.Utp;

public sealed class UtpPacketTests
{
    [Fact]
    public void A_syn_from_the_spec_layout_parses_field_by_field()
    {
        // type 4 (SYN), version 1; no extension; conn id 0x1234; timestamps; window 0x00100000; seq 1; ack 0.
        byte[] syn = Convert.FromHexString("41001234" + "0000abcd" + "00000000" + "00100000" + "0001" + "0000");

        UtpPacket packet = UtpPacket.Parse(syn);

        Assert.Equal(new UtpHeader(UtpPacketType.Syn, 0x1234, 0xabcd, 0, 0x100000, 1, 0), packet.Header);
        Assert.True(packet.SelectiveAck.IsEmpty);
        Assert.Equal(0, packet.MaxDatagram);
        Assert.True(packet.Payload.IsEmpty);
    }

    [Fact]
    public void Written_packets_read_back_with_their_extensions_and_payload()
    {
        var header = new UtpHeader(UtpPacketType.Data, 7, 1_000_000, 250, 65536, 65535, 12);
        byte[] sack = [0b1010_0001, 0, 0, 0x80];
        byte[] payload = [1, 2, 3, 4, 5];
        byte[] buffer = new byte[UtpPacket.GetLength(sack.Length, offerMaxDatagram: true, payload.Length)];

        int written = UtpPacket.Write(buffer, header, sack, 60_000, payload);
        UtpPacket packet = UtpPacket.Parse(buffer);

        Assert.Equal(buffer.Length, written);
        Assert.Equal(header, packet.Header);
        Assert.Equal(sack, packet.SelectiveAck.ToArray());
        Assert.Equal(60_000, packet.MaxDatagram);
        Assert.Equal(payload, packet.Payload.ToArray());
        Assert.Equal(UtpPacket.SelectiveAckExtension, buffer[1]);
    }

    [Fact]
    public void A_syn_offering_a_large_datagram_leads_with_zero_extension_bits_so_libutp_reads_it()
    {
        // libutp (µTorrent, Transmission, WebTorrent's utp-native) drops a packet whose first extension type is 3 or
        // more before looking at it; its extension bits (2) must be 8 bytes long. Found by WebTorrentUtpInteropTests:
        // WebTorrent never answered PeerNet's SYN while the offer (0x50) came first.
        var header = new UtpHeader(UtpPacketType.Syn, 0x1234, 1, 0, 65536, 1, 0);
        byte[] buffer = new byte[UtpPacket.GetLength(0, offerMaxDatagram: true, 0)];

        int written = UtpPacket.Write(buffer, header, default, 32_768, default);

        Assert.Equal(UtpHeader.Length + 2 + 8 + 2 + 4, written);
        Assert.Equal(written, buffer.Length);
        Assert.Equal(UtpPacket.ExtensionBitsExtension, buffer[1]);
        Assert.Equal(UtpPacket.MaxDatagramExtension, buffer[UtpHeader.Length]);
        Assert.Equal(UtpPacket.ExtensionBitsLength, buffer[UtpHeader.Length + 1]);
        Assert.All(buffer.AsSpan(UtpHeader.Length + 2, 8).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(32_768, UtpPacket.Parse(buffer).MaxDatagram);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 1452)]
    [InlineData(4, 0)]
    [InlineData(4, 65_507)]
    [InlineData(128, 576)]
    public void Every_packet_written_has_a_first_extension_libutp_accepts(int sackBytes, int maxDatagram)
    {
        var header = new UtpHeader(UtpPacketType.State, 9, 1, 0, 65536, 1, 0);
        byte[] buffer = new byte[UtpPacket.GetLength(sackBytes, maxDatagram != 0, 0)];

        int written = UtpPacket.Write(buffer, header, new byte[sackBytes], maxDatagram, default);
        UtpPacket packet = UtpPacket.Parse(buffer);

        Assert.Equal(buffer.Length, written);
        Assert.InRange(buffer[1], 0, 2); // libutp's UTP_Version: a first extension of 3 or more is not uTP
        Assert.Equal(maxDatagram, packet.MaxDatagram);
        Assert.Equal(sackBytes, packet.SelectiveAck.Length);
    }

    [Fact]
    public void Unknown_extensions_are_skipped_by_their_length()
    {
        // extension 2 (libtorrent's extension bits, 8 bytes), then 3 (close reason, 4 bytes), then payload "hi".
        byte[] data = Convert.FromHexString("01020001" + "00000000" + "00000000" + "00010000" + "0005" + "0004"
            + "0308" + "0000000000000000" + "0004" + "00000001" + "6869");

        UtpPacket packet = UtpPacket.Parse(data);

        Assert.Equal(UtpPacketType.Data, packet.Header.Type);
        Assert.Equal("hi"u8.ToArray(), packet.Payload.ToArray());
    }

    [Theory]
    [InlineData("", UtpParseError.TooShort)]
    [InlineData("41001234000000000000000000100000000100", UtpParseError.TooShort)]
    [InlineData("4200123400000000000000000010000000010000", UtpParseError.BadVersion)]
    [InlineData("5100123400000000000000000010000000010000", UtpParseError.BadType)]
    [InlineData("0101123400000000000000000010000000010000" + "00", UtpParseError.TruncatedExtension)]
    [InlineData("0101123400000000000000000010000000010000" + "0008" + "00000000", UtpParseError.TruncatedExtension)]
    [InlineData("0101123400000000000000000010000000010000" + "0000", UtpParseError.BadSelectiveAck)]
    [InlineData("0101123400000000000000000010000000010000" + "0104" + "00000000" + "0004" + "00000000", UtpParseError.BadSelectiveAck)]
    [InlineData("0150123400000000000000000010000000010000" + "0004" + "00000010", UtpParseError.BadMaxDatagram)]
    [InlineData("2100123400000000000000000010000000010000" + "ff", UtpParseError.UnexpectedPayload)]
    [InlineData("4100123400000000000000000010000000010000" + "ff", UtpParseError.UnexpectedPayload)]
    public void Malformed_packets_are_refused_with_their_reason(string hex, UtpParseError expected)
    {
        byte[] data = Convert.FromHexString(hex);

        Assert.Equal(expected, UtpPacket.TryParse(data, out _));
        UtpFormatException e = Assert.Throws<UtpFormatException>(() => UtpPacket.Parse(data));
        Assert.Equal(expected, e.Error);
    }

    [Fact]
    public void A_selective_ack_of_any_length_is_read_as_libtorrent_sends_it()
    {
        // libtorrent sizes its bitmask to its reorder buffer: 13 bytes here, not a multiple of 4.
        byte[] data = Convert.FromHexString("2101123400000000000000000010000000010000" + "000d" + "01000000000000000000000080");

        UtpPacket packet = UtpPacket.Parse(data);

        Assert.Equal(13, packet.SelectiveAck.Length);
        Assert.Equal(0x80, packet.SelectiveAck[12]);
    }

    [Fact]
    public void A_chain_longer_than_the_limit_is_refused()
    {
        var data = new List<byte>(Convert.FromHexString("0102123400000000000000000010000000010000"));
        for (int i = 0; i < UtpPacket.MaxExtensions + 1; i++)
        {
            data.AddRange([i == UtpPacket.MaxExtensions ? (byte)0 : (byte)2, 0]);
        }

        Assert.Equal(UtpParseError.TooManyExtensions, UtpPacket.TryParse(data.ToArray(), out _));
        data[20 + (2 * (UtpPacket.MaxExtensions - 1))] = 0; // end the chain one earlier: exactly at the limit
        Assert.Equal(UtpParseError.None, UtpPacket.TryParse(data.ToArray().AsSpan(0, 20 + (2 * UtpPacket.MaxExtensions)), out _));
    }

    [Fact]
    public void Random_input_never_throws_anything_but_the_codecs_exception()
    {
        var random = new Random(29);
        byte[] buffer = new byte[200];
        for (int i = 0; i < 200_000; i++)
        {
            int length = random.Next(buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            if (i % 2 == 0 && length > 0)
            {
                buffer[0] = (byte)((random.Next(6) << 4) | 1); // mostly valid first bytes, so the chain gets walked
                if (length > 1)
                {
                    buffer[1] = (byte)random.Next(4);
                }
            }

            try
            {
                UtpPacket packet = UtpPacket.Parse(buffer.AsSpan(0, length));
                Assert.True(packet.Payload.Length <= length - UtpHeader.Length);
            }
            catch (UtpFormatException)
            {
            }
        }
    }

    [Theory]
    [InlineData(1, 2, true)]
    [InlineData(2, 1, false)]
    [InlineData(65535, 0, true)]
    [InlineData(0, 65535, false)]
    [InlineData(65000, 100, true)]
    [InlineData(5, 5, false)]
    public void Sequence_numbers_compare_modulo_two_to_the_sixteen(int a, int b, bool before)
    {
        Assert.Equal(before, UtpSequence.IsBefore((ushort)a, (ushort)b));
        Assert.Equal(!before, UtpSequence.IsAtOrAfter((ushort)a, (ushort)b));
    }

    [Fact]
    public void Distance_wraps()
    {
        Assert.Equal(2, UtpSequence.Distance(65535, 1));
        Assert.Equal(0, UtpSequence.Distance(7, 7));
        Assert.Equal(65535, UtpSequence.Distance(1, 0));
    }
}
