using System.Buffers;
using System.Security.Cryptography;
using NSec.Cryptography;
using PeerNet.Libp2p;

namespace PeerNet.Fuzz;

/// <summary>
/// noise-libp2p's handshake and transport frames, with fixed keys so every run is the same. The first byte picks what
/// the rest is: 0, the stream a dialer sends a responder (fed whole, then a byte at a time: both must end alike);
/// 1, the stream a listener sends an initiator (likewise); 2, the payload an honest initiator encrypts in message 3 (so
/// the payload checks see fuzzed protobuf inside a valid ciphertext); 3, transport frames after an honest handshake.
/// Only <see cref="NoiseHandshakeException"/> and <see cref="NoiseTransportException"/> may come out.
/// </summary>
public static class NoiseTarget
{
    private static readonly Side Dialer = new("peernet-fuzz-noise-dialer");
    private static readonly Side Listener = new("peernet-fuzz-noise-listener");

    /// <summary>One side's fixed identity, static and ephemeral keys.</summary>
    private sealed class Side
    {
        public Side(string name)
        {
            byte[] Seed(string what) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name + what));
            Identity = Key.Import(SignatureAlgorithm.Ed25519, Seed("identity"), KeyBlobFormat.RawPrivateKey);
            Key staticKey = Key.Import(KeyAgreementAlgorithm.X25519, Seed("static"), KeyBlobFormat.RawPrivateKey);
            Ephemeral = Key.Import(KeyAgreementAlgorithm.X25519, Seed("ephemeral"), KeyBlobFormat.RawPrivateKey);
            Credentials = Libp2pNoiseCredentials.Create(Identity.PublicKey.Export(KeyBlobFormat.RawPublicKey), data => SignatureAlgorithm.Ed25519.Sign(Identity, data), staticKey: staticKey);
        }

        public Key Identity { get; }

        public Key Ephemeral { get; }

        public Libp2pNoiseCredentials Credentials { get; }
    }

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        ReadOnlySpan<byte> rest = data[1..];
        switch (data[0] % 4)
        {
            case 0:
                WholeAndPiecemeal(rest, () => Libp2pNoiseHandshake.Responder(Listener.Credentials, Listener.Ephemeral));
                break;
            case 1:
                WholeAndPiecemeal(rest, () => Libp2pNoiseHandshake.Initiator(Dialer.Credentials, Listener.Credentials.PeerId, Dialer.Ephemeral));
                break;
            case 2:
                FuzzedPayload(rest);
                break;
            default:
                Transport(rest);
                break;
        }
    }

    /// <summary>Feeds <paramref name="input"/> to one machine whole and to another a byte at a time: same outcome, same replies.</summary>
    private static void WholeAndPiecemeal(ReadOnlySpan<byte> input, Func<Libp2pNoiseHandshake> make)
    {
        using Libp2pNoiseHandshake whole = make();
        var wholeOut = new ArrayBufferWriter<byte>();
        (string wholeEnd, long wholeLeft) = Run(whole, wholeOut, input, piecemeal: false);

        using Libp2pNoiseHandshake piecemeal = make();
        var piecemealOut = new ArrayBufferWriter<byte>();
        (string piecemealEnd, long piecemealLeft) = Run(piecemeal, piecemealOut, input, piecemeal: true);

        Check.Equal(wholeEnd, piecemealEnd, "outcome fed whole and byte by byte");
        Check.Equal(wholeLeft, piecemealLeft, "bytes left fed whole and byte by byte");
        Check.Bytes(wholeOut.WrittenSpan, piecemealOut.WrittenSpan, "replies fed whole and byte by byte");
        Check.That(!whole.IsComplete || whole.RemotePeer is not null, "complete without a remote peer");
    }

    private static (string Outcome, long Left) Run(Libp2pNoiseHandshake machine, ArrayBufferWriter<byte> output, ReadOnlySpan<byte> input, bool piecemeal)
    {
        machine.Start(output);
        byte[] held = [];
        try
        {
            if (!piecemeal)
            {
                var sequence = new ReadOnlySequence<byte>(input.ToArray());
                bool done = machine.Receive(ref sequence, output);
                Check.That(sequence.Length <= input.Length, "consumed more than given");
                return (done ? "complete" : "pending", sequence.Length);
            }

            foreach (byte b in input)
            {
                var sequence = new ReadOnlySequence<byte>([.. held, b]);
                if (machine.IsComplete)
                {
                    held = [.. held, b];
                    continue;
                }

                machine.Receive(ref sequence, output);
                held = sequence.ToArray();
            }

            return (machine.IsComplete ? "complete" : "pending", held.Length);
        }
        catch (NoiseHandshakeException e)
        {
            Check.That(!string.IsNullOrEmpty(e.Message), "a failure with no message");
            return ("failed:" + e.Failure, -1);
        }
    }

    /// <summary>An honest handshake whose initiator sends the fuzzed bytes as its message-3 payload.</summary>
    private static void FuzzedPayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > NoiseXXHandshake.MaxMessageLength - 64)
        {
            return;
        }

        using var initiator = new NoiseXXHandshake(true, Dialer.Credentials.StaticKey, default, Dialer.Ephemeral);
        using Libp2pNoiseHandshake responder = Libp2pNoiseHandshake.Responder(Listener.Credentials, Listener.Ephemeral);
        var toInitiator = new ArrayBufferWriter<byte>();
        responder.Start(toInitiator);
        Feed(responder, Frame(initiator, []), toInitiator);
        ReadOnlySpan<byte> second = toInitiator.WrittenSpan;
        initiator.ReadMessage(second[2..]);
        try
        {
            Feed(responder, Frame(initiator, payload), new ArrayBufferWriter<byte>());
            Check.That(responder.IsComplete && responder.RemotePeer is not null, "a payload passed without completing");
        }
        catch (NoiseHandshakeException e)
        {
            Check.That(e.Failure is NoiseFailure.BadPayload or NoiseFailure.BadSignature or NoiseFailure.UnsupportedKeyType, $"payload refused as {e.Failure}");
            Check.That(responder.RemotePeer is null, "a refused payload left a remote peer");
        }
    }

    /// <summary>Transport frames after an honest handshake, fed to the listener's receiving cipher.</summary>
    private static void Transport(ReadOnlySpan<byte> frames)
    {
        using Libp2pNoiseHandshake initiator = Libp2pNoiseHandshake.Initiator(Dialer.Credentials, Listener.Credentials.PeerId, Dialer.Ephemeral);
        using Libp2pNoiseHandshake responder = Libp2pNoiseHandshake.Responder(Listener.Credentials, Listener.Ephemeral);
        var toResponder = new ArrayBufferWriter<byte>();
        var toInitiator = new ArrayBufferWriter<byte>();
        initiator.Start(toResponder);
        responder.Start(toInitiator);
        Feed(responder, toResponder.WrittenSpan.ToArray(), toInitiator);
        toResponder.Clear();
        Feed(initiator, toInitiator.WrittenSpan.ToArray(), toResponder);
        Feed(responder, toResponder.WrittenSpan.ToArray(), new ArrayBufferWriter<byte>());
        Check.That(initiator.IsComplete && responder.IsComplete, "the honest handshake did not complete");

        (NoiseCipherState send, NoiseCipherState s2) = initiator.Split();
        (NoiseCipherState s3, NoiseCipherState receive) = responder.Split();
        using (send)
        using (s2)
        using (s3)
        using (receive)
        {
            var input = new ReadOnlySequence<byte>(frames.ToArray());
            byte[] plaintext = new byte[NoiseTransportFrame.MaxPlaintext];
            try
            {
                while (true)
                {
                    int length = NoiseTransportFrame.PeekLength(input);
                    if (length < 0 || input.Length < 2 + length)
                    {
                        break;
                    }

                    byte[] ciphertext = input.Slice(2, length).ToArray();
                    int written = NoiseTransportFrame.Open(receive, ciphertext, plaintext);
                    Check.That(written == length - NoiseCipherState.TagLength, "plaintext length");
                    input = input.Slice(2 + length);
                }
            }
            catch (NoiseTransportException e)
            {
                Check.That(e.Failure is NoiseFailure.BadLength or NoiseFailure.BadCiphertext, $"frame refused as {e.Failure}");
            }

            // Sealing is untouched by whatever the receiving side refused.
            byte[] frame = new byte[64];
            int sealedLength = NoiseTransportFrame.Seal(send, "ok"u8, frame);
            Check.Equal(20, sealedLength, "sealed frame length");
        }
    }

    private static byte[] Frame(NoiseXXHandshake side, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[2 + side.NextMessageLength(payload.Length)];
        int n = side.WriteMessage(payload, frame.AsSpan(2));
        frame[0] = (byte)(n >> 8);
        frame[1] = (byte)n;
        return frame;
    }

    private static void Feed(Libp2pNoiseHandshake side, byte[] bytes, ArrayBufferWriter<byte> output)
    {
        var input = new ReadOnlySequence<byte>(bytes);
        side.Receive(ref input, output);
    }
}
