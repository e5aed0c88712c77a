using System.Buffers;
using System.Buffers.Binary;
using PeerNet.Mse;

namespace PeerNet.Codecs.Tests.Mse;

public sealed class MseHandshakeTests
{
    private static readonly Sha1Hash InfoHash = Sha1Hash.Compute("a torrent"u8);
    private static readonly Sha1Hash OtherHash = Sha1Hash.Compute("another torrent"u8);

    private static Func<Sha1Hash, Sha1Hash?> Hosting(params Sha1Hash[] hashes)
    {
        Dictionary<Sha1Hash, Sha1Hash> byReq2 = hashes.ToDictionary(h => MseConstants.Req2(MseConstants.Bytes(h)));
        return req2 => byReq2.TryGetValue(req2, out Sha1Hash skey) ? skey : null;
    }


    /// <summary>One side's view: the machine, what it has not consumed yet, and what it wrote.</summary>
    private sealed class Side(MseHandshake machine)
    {
        public MseHandshake Machine { get; } = machine;

        public List<byte> Inbox { get; } = [];

        public ArrayBufferWriter<byte> Outbox { get; } = new();

        public MseHandshakeStatus Status { get; private set; } = MseHandshakeStatus.NeedMoreData;

        public void Step()
        {
            if (Status != MseHandshakeStatus.NeedMoreData)
            {
                return;
            }

            var input = new ReadOnlySequence<byte>(Inbox.ToArray());
            Status = Machine.Process(ref input, Outbox);
            Inbox.RemoveRange(0, Inbox.Count - (int)input.Length);
        }
    }

    /// <summary>Runs both machines, delivering at most <paramref name="chunk"/> bytes at a time each way, until neither moves.</summary>
    private static (Side A, Side B) Run(MseHandshake initiator, MseHandshake responder, int chunk)
    {
        var a = new Side(initiator);
        var b = new Side(responder);
        int aSent = 0, bSent = 0;
        for (int round = 0; round < 100_000; round++)
        {
            a.Step();
            b.Step();
            int toB = Math.Min(chunk, a.Outbox.WrittenCount - aSent);
            int toA = Math.Min(chunk, b.Outbox.WrittenCount - bSent);
            b.Inbox.AddRange(a.Outbox.WrittenSpan.Slice(aSent, toB).ToArray());
            a.Inbox.AddRange(b.Outbox.WrittenSpan.Slice(bSent, toA).ToArray());
            aSent += toB;
            bSent += toA;
            if (toA == 0 && toB == 0 && round > 0)
            {
                a.Step();
                b.Step();
                break;
            }
        }

        return (a, b);
    }

    [Theory]
    [InlineData(3u, 3u, false, 1u, 1)] // both offered, plaintext preferred
    [InlineData(3u, 3u, true, 2u, 7)] // both offered, RC4 preferred
    [InlineData(2u, 3u, false, 2u, 100_000)]
    [InlineData(3u, 2u, false, 2u, 13)]
    [InlineData(1u, 3u, true, 1u, 100_000)]
    public void Initiator_and_responder_agree_on_key_method_and_streams(uint provideBits, uint allowedBits, bool preferRc4, uint expectedBits, int chunk)
    {
        var (provide, allowed, expected) = ((MseCryptoMethods)provideBits, (MseCryptoMethods)allowedBits, (MseCryptoMethods)expectedBits);
        byte[] handshake = [0x13, .. "BitTorrent protocol"u8, .. new byte[48]];
        var initiator = MseHandshake.Initiator(InfoHash, provide, handshake);
        var responder = MseHandshake.Responder(Hosting(OtherHash, InfoHash), allowed, preferRc4);
        (Side a, Side b) = Run(initiator, responder, chunk);

        Assert.Equal(MseHandshakeStatus.Completed, a.Status);
        Assert.Equal(MseHandshakeStatus.Completed, b.Status);
        Assert.Equal(expected, initiator.Selected);
        Assert.Equal(expected, responder.Selected);
        Assert.Equal(provide, responder.Provided);
        Assert.Equal(InfoHash, responder.Skey);
        Assert.Equal(handshake, responder.InitialPayload);
        Assert.Empty(a.Inbox);
        Assert.Empty(b.Inbox);

        // The ciphers carry on past the handshake: what one encrypts, the other decrypts.
        byte[] message = "piece data"u8.ToArray();
        byte[] wire = (byte[])message.Clone();
        initiator.Encryptor!.Transform(wire);
        responder.Decryptor!.Transform(wire);
        Assert.Equal(message, wire);
        wire = (byte[])message.Clone();
        responder.Encryptor!.Transform(wire);
        initiator.Decryptor!.Transform(wire);
        Assert.Equal(message, wire);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(512)]
    public void Pads_of_every_allowed_length_are_skipped(int pad)
    {
        var options = new MseHandshakeOptions { PadLength = pad };
        var initiator = MseHandshake.Initiator(InfoHash, MseCryptoMethods.Rc4, default, options);
        var responder = MseHandshake.Responder(Hosting(InfoHash), MseCryptoMethods.Both, false, options);
        (Side a, Side b) = Run(initiator, responder, 3);
        Assert.Equal(MseHandshakeStatus.Completed, a.Status);
        Assert.Equal(MseHandshakeStatus.Completed, b.Status);
        Assert.Empty(responder.InitialPayload);
    }

    [Fact]
    public void Payload_that_follows_the_handshake_in_the_same_read_is_left_unconsumed()
    {
        var initiator = MseHandshake.Initiator(InfoHash, MseCryptoMethods.Rc4);
        var responder = MseHandshake.Responder(Hosting(InfoHash), MseCryptoMethods.Both, false);
        var a = new Side(initiator);
        var b = new Side(responder);
        a.Step();
        b.Inbox.AddRange(a.Outbox.WrittenSpan.ToArray());
        b.Step();
        int step1 = a.Outbox.WrittenCount;
        a.Inbox.AddRange(b.Outbox.WrittenSpan[..96].ToArray()); // Yb alone: step 3 goes out
        a.Step();
        b.Inbox.AddRange(a.Outbox.WrittenSpan[step1..].ToArray());
        b.Step();
        Assert.Equal(MseHandshakeStatus.Completed, b.Status);

        // PadB, step 4 and the first payload bytes arrive in one read.
        byte[] payload = "\x13BitTorrent protocol"u8.ToArray();
        byte[] wire = (byte[])payload.Clone();
        responder.Encryptor!.Transform(wire);
        a.Inbox.AddRange([.. b.Outbox.WrittenSpan[96..].ToArray(), .. wire]);
        a.Step();
        Assert.Equal(MseHandshakeStatus.Completed, a.Status);
        Assert.Equal(wire, a.Inbox);
        initiator.Decryptor!.Transform(wire);
        Assert.Equal(payload, wire);
    }

    [Fact]
    public void A_responder_that_hosts_no_such_torrent_fails()
    {
        (Side a, Side b) = Run(MseHandshake.Initiator(InfoHash, MseCryptoMethods.Both), MseHandshake.Responder(Hosting(OtherHash), MseCryptoMethods.Both, false), 64);
        Assert.Equal(MseHandshakeStatus.Failed, b.Status);
        Assert.Equal(MseFailure.UnknownTorrent, b.Machine.Failure);
        Assert.Equal(MseHandshakeStatus.NeedMoreData, a.Status);
    }

    [Fact]
    public void No_common_method_fails_at_the_responder()
    {
        (_, Side b) = Run(MseHandshake.Initiator(InfoHash, MseCryptoMethods.Plaintext), MseHandshake.Responder(Hosting(InfoHash), MseCryptoMethods.Rc4, false), 64);
        Assert.Equal(MseFailure.NoCommonMethod, b.Machine.Failure);
    }

    [Fact]
    public void A_skey_lookup_that_lies_makes_the_verification_constant_fail()
    {
        // The initiator used InfoHash; the responder decrypts with OtherHash's keys.
        (_, Side b) = Run(MseHandshake.Initiator(InfoHash, MseCryptoMethods.Both), MseHandshake.Responder(_ => OtherHash, MseCryptoMethods.Both, false), 64);
        Assert.Equal(MseFailure.BadVerificationConstant, b.Machine.Failure);
    }

    [Fact]
    public void A_degenerate_public_key_fails_either_side()
    {
        byte[] one = new byte[96];
        one[95] = 1;
        var responder = MseHandshake.Responder(Hosting(InfoHash), MseCryptoMethods.Both, false);
        var input = new ReadOnlySequence<byte>(one);
        Assert.Equal(MseHandshakeStatus.Failed, responder.Process(ref input, new ArrayBufferWriter<byte>()));
        Assert.Equal(MseFailure.BadPublicKey, responder.Failure);

        var initiator = MseHandshake.Initiator(InfoHash, MseCryptoMethods.Both);
        var empty = ReadOnlySequence<byte>.Empty;
        initiator.Process(ref empty, new ArrayBufferWriter<byte>());
        input = new ReadOnlySequence<byte>(one);
        Assert.Equal(MseHandshakeStatus.Failed, initiator.Process(ref input, new ArrayBufferWriter<byte>()));
        Assert.Equal(MseFailure.BadPublicKey, initiator.Failure);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Garbage_without_the_sync_marker_fails_after_512_pad_bytes_fed_one_at_a_time(bool initiatorSide)
    {
        var peerKeys = new MseDiffieHellman();
        MseHandshake machine = initiatorSide
            ? MseHandshake.Initiator(InfoHash, MseCryptoMethods.Both)
            : MseHandshake.Responder(Hosting(InfoHash), MseCryptoMethods.Both, false);
        var output = new ArrayBufferWriter<byte>();
        var empty = ReadOnlySequence<byte>.Empty;
        machine.Process(ref empty, output);
        var key = new ReadOnlySequence<byte>(peerKeys.PublicKey);
        Assert.Equal(MseHandshakeStatus.NeedMoreData, machine.Process(ref key, output));

        var held = new List<byte>();
        int fed = 0;
        MseHandshakeStatus status = MseHandshakeStatus.NeedMoreData;
        while (status == MseHandshakeStatus.NeedMoreData && fed < 10_000)
        {
            held.Add(0xAA);
            fed++;
            var input = new ReadOnlySequence<byte>(held.ToArray());
            status = machine.Process(ref input, output);
            held.RemoveRange(0, held.Count - (int)input.Length);
            Assert.True(held.Count < 20, "the machine holds back no more than a marker's length");
        }

        Assert.Equal(MseHandshakeStatus.Failed, status);
        Assert.Equal(MseFailure.SyncNotFound, machine.Failure);
        Assert.InRange(fed, 512, 512 + 20);
    }

    /// <summary>A hand-made initiator (from the spec, not the machine) whose step 3 carries chosen fields.</summary>
    private static MseHandshakeStatus RespondTo(int padC, int iaLength, bool zeroVc, out MseHandshake responder)
    {
        var keys = new MseDiffieHellman([7, 7, 7]);
        responder = MseHandshake.Responder(Hosting(InfoHash), MseCryptoMethods.Both, false, new MseHandshakeOptions { PadLength = 0 });
        var output = new ArrayBufferWriter<byte>();
        var input = new ReadOnlySequence<byte>(keys.PublicKey);
        Assert.Equal(MseHandshakeStatus.NeedMoreData, responder.Process(ref input, output));
        byte[] secret = new byte[96];
        Assert.True(keys.TryComputeSecret(output.WrittenSpan[..96], secret));

        var step3 = new List<byte>();
        step3.AddRange(MseConstants.Bytes(MseConstants.Req1(secret)));
        step3.AddRange(MseConstants.Bytes(MseConstants.Xor(MseConstants.Req2(MseConstants.Bytes(InfoHash)), MseConstants.Req3(secret))));
        byte[] body = new byte[8 + 4 + 2 + padC + 2 + iaLength];
        if (!zeroVc)
        {
            body[3] = 1;
        }

        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(8), (uint)MseCryptoMethods.Both);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(12), (ushort)padC);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(14 + padC), (ushort)iaLength);
        MseConstants.Cipher(MseConstants.KeyA(secret, MseConstants.Bytes(InfoHash))).Transform(body);
        step3.AddRange(body);
        input = new ReadOnlySequence<byte>(step3.ToArray());
        return responder.Process(ref input, output);
    }

    [Fact]
    public void A_hand_made_initiator_within_the_limits_is_answered()
    {
        Assert.Equal(MseHandshakeStatus.Completed, RespondTo(padC: 512, iaLength: 68, zeroVc: true, out MseHandshake responder));
        Assert.Equal(68, responder.InitialPayload.Length);
    }

    [Theory]
    [InlineData(513, 0, true, "PadTooLong")]
    [InlineData(0, MseConstants.MaxInitialPayloadLength + 1, true, "PayloadTooLong")]
    [InlineData(0, 0, false, "BadVerificationConstant")]
    public void Out_of_bounds_fields_are_rejected(int padC, int iaLength, bool zeroVc, string failure)
    {
        MseFailure expected = Enum.Parse<MseFailure>(failure);
        Assert.Equal(MseHandshakeStatus.Failed, RespondTo(padC, iaLength, zeroVc, out MseHandshake responder));
        Assert.Equal(expected, responder.Failure);
    }

    [Fact]
    public void A_responder_selecting_a_method_not_offered_is_refused()
    {
        var initiator = MseHandshake.Initiator(InfoHash, MseCryptoMethods.Plaintext, default, new MseHandshakeOptions { PadLength = 0 });
        var keys = new MseDiffieHellman([9, 9]);
        var output = new ArrayBufferWriter<byte>();
        var empty = ReadOnlySequence<byte>.Empty;
        initiator.Process(ref empty, output);
        byte[] secret = new byte[96];
        Assert.True(keys.TryComputeSecret(output.WrittenSpan[..96], secret));

        byte[] step4 = new byte[8 + 4 + 2];
        BinaryPrimitives.WriteUInt32BigEndian(step4.AsSpan(8), (uint)MseCryptoMethods.Rc4);
        MseConstants.Cipher(MseConstants.KeyB(secret, MseConstants.Bytes(InfoHash))).Transform(step4);
        var input = new ReadOnlySequence<byte>([.. keys.PublicKey, .. step4]);
        Assert.Equal(MseHandshakeStatus.Failed, initiator.Process(ref input, output));
        Assert.Equal(MseFailure.NoCommonMethod, initiator.Failure);
    }

    [Fact]
    public void Closing_mid_way_is_a_failure_and_completion_is_not_undone()
    {
        var responder = MseHandshake.Responder(Hosting(InfoHash), MseCryptoMethods.Both, false);
        responder.OnClosed();
        Assert.Equal(MseFailure.Closed, responder.Failure);
    }
}
