using System.Buffers;
using Google.Protobuf;
using NSec.Cryptography;
using PeerNet.Libp2p;
using PeerNet.Libp2p.Protos;
using Protos = PeerNet.Libp2p.Protos;

namespace PeerNet.Codecs.Tests.Libp2p;

public sealed class NoiseTests
{
    /// <summary>An Ed25519 identity and the credentials it signs.</summary>
    private sealed class Peer : IDisposable
    {
        public Peer(Func<byte[], byte[]>? sign = null, IReadOnlyList<string>? muxers = null)
        {
            IdentityKey = Key.Create(SignatureAlgorithm.Ed25519);
            byte[] publicKey = IdentityKey.PublicKey.Export(KeyBlobFormat.RawPublicKey);
            Credentials = Libp2pNoiseCredentials.Create(publicKey, sign ?? (data => SignatureAlgorithm.Ed25519.Sign(IdentityKey, data)), muxers);
        }

        public Key IdentityKey { get; }

        public Libp2pNoiseCredentials Credentials { get; }

        public Libp2pPeerId PeerId => Credentials.PeerId;

        public void Dispose()
        {
            Credentials.Dispose();
            IdentityKey.Dispose();
        }
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static Key X25519(string privateHex) =>
        Key.Import(KeyAgreementAlgorithm.X25519, Hex(privateHex), KeyBlobFormat.RawPrivateKey);

    /// <summary>Feeds <paramref name="bytes"/> to <paramref name="side"/>; returns what it answered and what it left unconsumed.</summary>
    private static (byte[] Reply, byte[] Left) Feed(Libp2pNoiseHandshake side, byte[] bytes)
    {
        var output = new ArrayBufferWriter<byte>();
        var input = new ReadOnlySequence<byte>(bytes);
        side.Receive(ref input, output);
        return (output.WrittenSpan.ToArray(), input.ToArray());
    }

    /// <summary>Runs a handshake in memory; returns the three frames.</summary>
    private static byte[][] Handshake(Libp2pNoiseHandshake initiator, Libp2pNoiseHandshake responder)
    {
        var first = new ArrayBufferWriter<byte>();
        initiator.Start(first);
        responder.Start(new ArrayBufferWriter<byte>());
        (byte[] second, byte[] left1) = Feed(responder, first.WrittenSpan.ToArray());
        Assert.Empty(left1);
        (byte[] third, byte[] left2) = Feed(initiator, second);
        Assert.Empty(left2);
        Assert.True(initiator.IsComplete);
        (byte[] none, byte[] left3) = Feed(responder, third);
        Assert.Empty(none);
        Assert.Empty(left3);
        Assert.True(responder.IsComplete);
        return [first.WrittenSpan.ToArray(), second, third];
    }

    private static byte[] SealFrame(NoiseCipherState cipher, byte[] plaintext)
    {
        byte[] frame = new byte[plaintext.Length + 18];
        Assert.Equal(frame.Length, NoiseTransportFrame.Seal(cipher, plaintext, frame));
        return frame;
    }

    private static byte[] OpenFrame(NoiseCipherState cipher, byte[] frame)
    {
        int length = NoiseTransportFrame.PeekLength(new ReadOnlySequence<byte>(frame));
        Assert.Equal(frame.Length - 2, length);
        byte[] plaintext = new byte[length - 16];
        NoiseTransportFrame.Open(cipher, frame.AsSpan(2), plaintext);
        return plaintext;
    }

    [Fact]
    public void Known_answer_the_cacophony_vector_for_Noise_XX_25519_ChaChaPoly_SHA256()
    {
        // rweather/noise-c tests/vector/cacophony.txt, "Noise_XX_25519_ChaChaPoly_SHA256" (prologue "John Galt").
        byte[] prologue = Hex("4a6f686e2047616c74");
        using Key initStatic = X25519("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1");
        using Key initEphemeral = X25519("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a");
        using Key respStatic = X25519("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893");
        using Key respEphemeral = X25519("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b");
        (string Payload, string Ciphertext)[] messages =
        [
            ("4c756477696720766f6e204d69736573", "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573"),
            ("4d757272617920526f746862617264", "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b65285e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d162c9326ad"),
            ("462e20412e20486179656b", "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865b57f58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030"),
            ("4361726c204d656e676572", "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df"),
            ("4a65616e2d426170746973746520536179", "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5"),
            ("457567656e2042f6686d20766f6e2042617765726b", "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f"),
        ];

        using var initiator = new NoiseXXHandshake(true, initStatic, prologue, initEphemeral);
        using var responder = new NoiseXXHandshake(false, respStatic, prologue, respEphemeral);
        for (int i = 0; i < 3; i++)
        {
            (NoiseXXHandshake writer, NoiseXXHandshake reader) = i % 2 == 0 ? (initiator, responder) : (responder, initiator);
            byte[] payload = Hex(messages[i].Payload);
            byte[] message = new byte[writer.NextMessageLength(payload.Length)];
            Assert.Equal(message.Length, writer.WriteMessage(payload, message));
            Assert.Equal(messages[i].Ciphertext, Convert.ToHexStringLower(message));
            Assert.Equal(payload, reader.ReadMessage(message));
        }

        Assert.Equal(respStatic.PublicKey.Export(KeyBlobFormat.RawPublicKey), initiator.RemoteStaticKey);
        Assert.Equal(initStatic.PublicKey.Export(KeyBlobFormat.RawPublicKey), responder.RemoteStaticKey);
        Assert.Equal(initiator.HandshakeHash.ToArray(), responder.HandshakeHash.ToArray());

        // Transport messages alternate on from the responder: each side's sending cipher, the other's receiving one.
        (NoiseCipherState iSend, NoiseCipherState iReceive) = initiator.Split();
        (NoiseCipherState rSend, NoiseCipherState rReceive) = responder.Split();
        using (iSend)
        using (iReceive)
        using (rSend)
        using (rReceive)
        {
            for (int i = 3; i < messages.Length; i++)
            {
                (NoiseCipherState send, NoiseCipherState receive) = i % 2 == 0 ? (iSend, rReceive) : (rSend, iReceive);
                byte[] payload = Hex(messages[i].Payload);
                byte[] buffer = new byte[payload.Length + 16];
                payload.CopyTo(buffer, 0);
                send.Encrypt([], buffer.AsSpan(0, payload.Length), buffer); // in place
                Assert.Equal(messages[i].Ciphertext, Convert.ToHexStringLower(buffer));
                Assert.True(receive.TryDecrypt([], buffer, buffer, out int written)); // in place
                Assert.Equal(payload, buffer[..written]);
            }
        }
    }

    [Fact]
    public void Hkdf_is_rfc5869_with_the_chaining_key_as_salt()
    {
        // Noise's HKDF equals RFC 5869's extract-and-expand with empty info: check against the framework's.
        byte[] ck = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
        byte[] ikm = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];
        byte[] expected = System.Security.Cryptography.HKDF.DeriveKey(System.Security.Cryptography.HashAlgorithmName.SHA256, ikm, 64, ck, []);
        byte[] out1 = new byte[32];
        byte[] out2 = new byte[32];
        NoiseSymmetricState.Hkdf(ck, ikm, out1, out2);
        Assert.Equal(expected, out1.Concat(out2).ToArray());
    }

    [Fact]
    public void Initiator_and_responder_agree_and_exchange_data_both_ways()
    {
        using var alice = new Peer();
        using var bob = new Peer(muxers: ["/yamux/1.0.0"]);
        using var initiator = Libp2pNoiseHandshake.Initiator(alice.Credentials, bob.PeerId);
        using var responder = Libp2pNoiseHandshake.Responder(bob.Credentials);
        byte[][] frames = Handshake(initiator, responder);

        Assert.Equal(32, frames[0].Length - 2); // message 1: the ephemeral key alone
        Assert.Equal(bob.PeerId, initiator.RemotePeer);
        Assert.Equal(alice.PeerId, responder.RemotePeer);
        Assert.Equal(["/yamux/1.0.0"], initiator.RemoteStreamMuxers);
        Assert.Empty(responder.RemoteStreamMuxers);

        (NoiseCipherState aSend, NoiseCipherState aReceive) = initiator.Split();
        (NoiseCipherState bSend, NoiseCipherState bReceive) = responder.Split();
        using (aSend)
        using (aReceive)
        using (bSend)
        using (bReceive)
        {
            byte[] big = new byte[NoiseTransportFrame.MaxPlaintext];
            Random.Shared.NextBytes(big);
            for (int i = 0; i < 3; i++)
            {
                byte[] hello = [.. "hello bob "u8, (byte)('0' + i)];
                Assert.Equal(hello, OpenFrame(bReceive, SealFrame(aSend, hello)));
                Assert.Equal(big, OpenFrame(aReceive, SealFrame(bSend, big)));
                Assert.Empty(OpenFrame(aReceive, SealFrame(bSend, [])));
            }

            Assert.Equal(3UL, aSend.Nonce);
            Assert.Equal(6UL, bSend.Nonce);
            Assert.Throws<ArgumentOutOfRangeException>(() => NoiseTransportFrame.Seal(aSend, new byte[NoiseTransportFrame.MaxPlaintext + 1], new byte[NoiseTransportFrame.MaxFrame + 1]));
        }
    }

    [Fact]
    public void A_handshake_delivered_a_byte_at_a_time_completes_and_leaves_what_follows()
    {
        using var alice = new Peer();
        using var bob = new Peer();
        using var initiator = Libp2pNoiseHandshake.Initiator(alice.Credentials, expected: null);
        using var responder = Libp2pNoiseHandshake.Responder(bob.Credentials);
        var toResponder = new ArrayBufferWriter<byte>();
        initiator.Start(toResponder);
        responder.Start(toResponder);
        byte[] pending = toResponder.WrittenSpan.ToArray();
        byte[] trailing = [1, 2, 3];
        Libp2pNoiseHandshake reader = responder;
        Libp2pNoiseHandshake other = initiator;
        for (int round = 0; round < 3; round++)
        {
            var output = new ArrayBufferWriter<byte>();
            byte[] stream = round == 2 ? [.. pending, .. trailing] : pending;
            byte[] held = [];
            foreach (byte b in stream)
            {
                var input = new ReadOnlySequence<byte>([.. held, b]);
                reader.Receive(ref input, output);
                held = input.ToArray();
            }

            if (round == 2)
            {
                Assert.Equal(trailing, held); // the transport's bytes, untouched
            }
            else
            {
                Assert.Empty(held);
            }

            pending = output.WrittenSpan.ToArray();
            (reader, other) = (other, reader);
        }

        Assert.True(initiator.IsComplete);
        Assert.True(responder.IsComplete);
        Assert.Equal(bob.PeerId, initiator.RemotePeer);
        Assert.Equal(alice.PeerId, responder.RemotePeer);
    }

    [Fact]
    public void The_wrong_peer_is_refused_before_the_initiator_reveals_itself()
    {
        using var alice = new Peer();
        using var bob = new Peer();
        using var carol = new Peer();
        using var initiator = Libp2pNoiseHandshake.Initiator(alice.Credentials, carol.PeerId);
        using var responder = Libp2pNoiseHandshake.Responder(bob.Credentials);
        var first = new ArrayBufferWriter<byte>();
        initiator.Start(first);
        responder.Start(first);
        (byte[] second, _) = Feed(responder, first.WrittenSpan.ToArray());

        var reply = new ArrayBufferWriter<byte>();
        var input = new ReadOnlySequence<byte>(second);
        var e = Assert.Throws<NoiseHandshakeException>(() => initiator.Receive(ref input, reply));
        Assert.Equal(NoiseFailure.PeerIdMismatch, e.Failure);
        Assert.Contains(bob.PeerId.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Equal(0, reply.WrittenCount); // message 3 (alice's identity) never written
        Assert.IsAssignableFrom<IOException>(e);
    }

    [Fact]
    public void A_signature_that_does_not_verify_is_refused_on_both_sides()
    {
        using var alice = new Peer();
        using var liar = new Peer(sign: _ => new byte[64]);
        using (var initiator = Libp2pNoiseHandshake.Initiator(alice.Credentials, expected: null))
        using (var responder = Libp2pNoiseHandshake.Responder(liar.Credentials))
        {
            var first = new ArrayBufferWriter<byte>();
            initiator.Start(first);
            responder.Start(first);
            (byte[] second, _) = Feed(responder, first.WrittenSpan.ToArray());
            var e = Assert.Throws<NoiseHandshakeException>(() => Feed(initiator, second));
            Assert.Equal(NoiseFailure.BadSignature, e.Failure);
        }

        using (var initiator = Libp2pNoiseHandshake.Initiator(liar.Credentials, expected: null))
        using (var responder = Libp2pNoiseHandshake.Responder(alice.Credentials))
        {
            var first = new ArrayBufferWriter<byte>();
            initiator.Start(first);
            responder.Start(first);
            (byte[] second, _) = Feed(responder, first.WrittenSpan.ToArray());
            (byte[] third, _) = Feed(initiator, second);
            var e = Assert.Throws<NoiseHandshakeException>(() => Feed(responder, third));
            Assert.Equal(NoiseFailure.BadSignature, e.Failure);
            Assert.Null(responder.RemotePeer);
        }
    }

    [Fact]
    public void A_signature_by_another_identity_over_this_static_key_is_refused()
    {
        // Mallory signs with her key but claims Bob's identity key: the signature does not verify under Bob's key.
        using var bob = new Peer();
        using Key mallory = Key.Create(SignatureAlgorithm.Ed25519);
        byte[] staticKey = new byte[32];
        Random.Shared.NextBytes(staticKey);
        byte[] payload = new NoiseHandshakePayload
        {
            IdentityKey = ByteString.CopyFrom(Libp2pKeys.EncodeEd25519PublicKey(bob.IdentityKey.PublicKey.Export(KeyBlobFormat.RawPublicKey))),
            IdentitySig = ByteString.CopyFrom(SignatureAlgorithm.Ed25519.Sign(mallory, Libp2pNoiseCredentials.SignedData(staticKey))),
        }.ToByteArray();
        var e = Assert.Throws<NoiseHandshakeException>(() => Libp2pNoiseCredentials.Verify(payload, staticKey));
        Assert.Equal(NoiseFailure.BadSignature, e.Failure);

        // Signed by Bob, but over another static key.
        byte[] other = [.. staticKey];
        other[0] ^= 1;
        byte[] forOther = new NoiseHandshakePayload
        {
            IdentityKey = ByteString.CopyFrom(Libp2pKeys.EncodeEd25519PublicKey(bob.IdentityKey.PublicKey.Export(KeyBlobFormat.RawPublicKey))),
            IdentitySig = ByteString.CopyFrom(SignatureAlgorithm.Ed25519.Sign(bob.IdentityKey, Libp2pNoiseCredentials.SignedData(other))),
        }.ToByteArray();
        Assert.Equal(NoiseFailure.BadSignature, Assert.Throws<NoiseHandshakeException>(() => Libp2pNoiseCredentials.Verify(forOther, staticKey)).Failure);
    }

    [Fact]
    public void Payloads_that_are_not_an_Ed25519_identity_are_refused_with_the_reason()
    {
        byte[] staticKey = new byte[32];
        byte[] rsa = new Protos.PublicKey { Type = KeyType.Rsa, Data = ByteString.CopyFrom(new byte[270]) }.ToByteArray();
        byte[] rsaPayload = new NoiseHandshakePayload { IdentityKey = ByteString.CopyFrom(rsa), IdentitySig = ByteString.CopyFrom(new byte[256]) }.ToByteArray();
        var unsupported = Assert.Throws<NoiseHandshakeException>(() => Libp2pNoiseCredentials.Verify(rsaPayload, staticKey));
        Assert.Equal(NoiseFailure.UnsupportedKeyType, unsupported.Failure);
        Assert.Contains("only Ed25519", unsupported.Message, StringComparison.Ordinal);

        byte[] noSignature = new NoiseHandshakePayload { IdentityKey = ByteString.CopyFrom(Libp2pKeys.EncodeEd25519PublicKey(new byte[32])) }.ToByteArray();
        byte[] shortKey = new NoiseHandshakePayload { IdentityKey = ByteString.CopyFrom(new Protos.PublicKey { Type = KeyType.Ed25519, Data = ByteString.CopyFrom(new byte[31]) }.ToByteArray()), IdentitySig = ByteString.CopyFrom(new byte[64]) }.ToByteArray();
        foreach (byte[] bad in new[] { noSignature, shortKey, [0xFF, 0xFF, 0xFF], [0x0A, 0x7F, 0x01], [] })
        {
            Assert.Equal(NoiseFailure.BadPayload, Assert.Throws<NoiseHandshakeException>(() => Libp2pNoiseCredentials.Verify(bad, staticKey)).Failure);
        }

        // Extensions, known fields and unknown, are tolerated.
        using var bob = new Peer();
        byte[] bobStatic = bob.Credentials.StaticKey.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        var withExtensions = NoiseHandshakePayload.Parser.ParseFrom(bob.Credentials.Payload);
        withExtensions.Extensions = new NoiseExtensions();
        withExtensions.Extensions.WebtransportCerthashes.Add(ByteString.CopyFrom([1, 2, 3]));
        withExtensions.Extensions.StreamMuxers.Add("/yamux/1.0.0");
        byte[] encoded = [.. withExtensions.ToByteArray(), 0x78, 0x01]; // field 15, varint 1: unknown
        (Libp2pPeerId peer, IReadOnlyList<string> muxers) = Libp2pNoiseCredentials.Verify(encoded, bobStatic);
        Assert.Equal(bob.PeerId, peer);
        Assert.Equal(["/yamux/1.0.0"], muxers);
    }

    [Fact]
    public void Tampered_handshake_messages_and_frames_are_refused()
    {
        using var alice = new Peer();
        using var bob = new Peer();
        for (int at = 2; at < 200; at += 17)
        {
            using var initiator = Libp2pNoiseHandshake.Initiator(alice.Credentials, bob.PeerId);
            using var responder = Libp2pNoiseHandshake.Responder(bob.Credentials);
            var first = new ArrayBufferWriter<byte>();
            initiator.Start(first);
            responder.Start(first);
            (byte[] second, _) = Feed(responder, first.WrittenSpan.ToArray());
            if (at >= second.Length)
            {
                break;
            }

            second[at] ^= 0x40;
            var e = Assert.Throws<NoiseHandshakeException>(() => Feed(initiator, second));
            Assert.True(e.Failure is NoiseFailure.BadCiphertext or NoiseFailure.BadPublicKey, $"byte {at}: {e.Failure}");
        }

        using var i2 = Libp2pNoiseHandshake.Initiator(alice.Credentials, bob.PeerId);
        using var r2 = Libp2pNoiseHandshake.Responder(bob.Credentials);
        Handshake(i2, r2);
        (NoiseCipherState send, NoiseCipherState s2) = i2.Split();
        (NoiseCipherState s3, NoiseCipherState receive) = r2.Split();
        using (send)
        using (s2)
        using (s3)
        using (receive)
        {
            byte[] frame = SealFrame(send, "secret"u8.ToArray());
            frame[5] ^= 1;
            Assert.Equal(NoiseFailure.BadCiphertext, Assert.Throws<NoiseTransportException>(() => OpenFrame(receive, frame)).Failure);

            // Replayed or reordered: the nonce does not match.
            byte[] one = SealFrame(send, [1]);
            byte[] two = SealFrame(send, [2]);
            Assert.Throws<NoiseTransportException>(() => OpenFrame(receive, two));
            _ = one;
        }
    }

    [Fact]
    public void Short_truncated_and_oversized_input_is_refused()
    {
        using var alice = new Peer();
        using var bob = new Peer();
        using var responder = Libp2pNoiseHandshake.Responder(bob.Credentials);
        responder.Start(new ArrayBufferWriter<byte>());

        // A first message too short to hold a key.
        var e = Assert.Throws<NoiseHandshakeException>(() => Feed(responder, [0x00, 0x05, 1, 2, 3, 4, 5]));
        Assert.Equal(NoiseFailure.BadLength, e.Failure);

        // A length announced but not all there: nothing consumed, and the close names it.
        using var other = Libp2pNoiseHandshake.Responder(bob.Credentials);
        other.Start(new ArrayBufferWriter<byte>());
        (byte[] reply, byte[] left) = Feed(other, [0xFF, 0xFF, 1, 2, 3]);
        Assert.Empty(reply);
        Assert.Equal(5, left.Length);
        Assert.Equal(NoiseFailure.Truncated, Assert.Throws<NoiseHandshakeException>(() => other.OnClosed(left.Length)).Failure);

        // A second message too short for its fields.
        using var initiator = Libp2pNoiseHandshake.Initiator(alice.Credentials, null);
        initiator.Start(new ArrayBufferWriter<byte>());
        Assert.Equal(NoiseFailure.BadLength, Assert.Throws<NoiseHandshakeException>(() => Feed(initiator, [0x00, 0x40, .. new byte[64]])).Failure);

        // Transport frames shorter than a tag.
        Assert.Equal(NoiseFailure.BadLength, Assert.Throws<NoiseTransportException>(() => NoiseTransportFrame.PeekLength(new ReadOnlySequence<byte>([0x00, 0x0F]))).Failure);
        Assert.Equal(-1, NoiseTransportFrame.PeekLength(new ReadOnlySequence<byte>([0x00])));
        Assert.Equal(65535, NoiseTransportFrame.PeekLength(new ReadOnlySequence<byte>([0xFF, 0xFF])));
    }

    [Fact]
    public void A_low_order_ephemeral_key_is_refused()
    {
        using var bob = new Peer();
        using var responder = Libp2pNoiseHandshake.Responder(bob.Credentials);
        responder.Start(new ArrayBufferWriter<byte>());
        byte[] zero = [0x00, 0x20, .. new byte[32]]; // the point 0: every DH with it is zero
        var e = Assert.Throws<NoiseHandshakeException>(() => Feed(responder, zero));
        Assert.Equal(NoiseFailure.BadPublicKey, e.Failure);
    }

    [Fact]
    public void The_last_nonce_is_never_used()
    {
        using var cipher = new NoiseCipherState();
        cipher.InitializeKey(new byte[32]);
        cipher.Nonce = ulong.MaxValue - 1;
        byte[] buffer = new byte[17];
        cipher.Encrypt([], buffer.AsSpan(0, 1), buffer);
        var e = Assert.Throws<NoiseTransportException>(() => cipher.Encrypt([], buffer.AsSpan(0, 1), buffer));
        Assert.Equal(NoiseFailure.NonceExhausted, e.Failure);
        Assert.Throws<NoiseTransportException>(() => cipher.TryDecrypt([], buffer, buffer, out _));
    }
}
