using System.Buffers;
using PeerNet.Mse;

namespace PeerNet.Fuzz;

/// <summary>
/// The MSE/PE handshake state machines (<see cref="MseHandshake"/>). Random bytes never get past the Diffie-Hellman
/// keys and hashes, so the target plays the other side honestly up to the encrypted part and lets the input choose
/// what goes inside it: byte 0 picks the machine under test (even: responder, odd: initiator) and bytes 1-2 the
/// chunk sizes the stream is delivered in; the rest is the plaintext of the peer's encrypted fields (the responder's
/// view: VC, crypto_provide, len(PadC), PadC, len(IA), IA; the initiator's: VC, crypto_select, len(PadD), PadD),
/// encrypted with the right key. Invariants: no exception; a failure names its reason; a completed handshake chose
/// exactly one method it allows, with an initial payload within its limit; the machine never holds back more than a
/// sync marker's worth of bytes while syncing, and never consumes bytes it was not given.
/// </summary>
public static class MseTarget
{
    private static readonly Sha1Hash Skey = Sha1Hash.Compute("fuzz torrent"u8);
    private static readonly MseDiffieHellman PeerKeys = new([0x5A, 0x17, 0x99, 0x01]);
    private static readonly MseDiffieHellman OurKeys = new([0x33, 0x44, 0x55]);

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3)
        {
            return;
        }

        bool initiator = (data[0] & 1) == 1;
        var allowed = (MseCryptoMethods)((data[0] >> 1) % 3 + 1);
        int chunk = (data[1] << 8 | data[2]) % 700 + 1;
        byte[] fields = data[3..].ToArray();
        var options = new MseHandshakeOptions { Keys = OurKeys, PadLength = data[0] >> 3 };
        MseHandshake machine = initiator
            ? MseHandshake.Initiator(Skey, allowed, default, options)
            : MseHandshake.Responder(h => h == MseConstants.Req2(MseConstants.Bytes(Skey)) ? Skey : null, allowed, (data[0] & 0x80) != 0, options);

        byte[] secret = new byte[MseConstants.KeyLength];
        Check.That(PeerKeys.TryComputeSecret(OurKeys.PublicKey, secret), "the fixed keys agree");
        var stream = new List<byte>(PeerKeys.PublicKey);
        if (initiator)
        {
            // Yb, no PadB, then B's encrypted fields.
            MseConstants.Cipher(MseConstants.KeyB(secret, MseConstants.Bytes(Skey))).Transform(fields);
        }
        else
        {
            // Ya, no PadA, the two hashes, then A's encrypted fields.
            stream.AddRange(MseConstants.Bytes(MseConstants.Req1(secret)));
            stream.AddRange(MseConstants.Bytes(MseConstants.Xor(MseConstants.Req2(MseConstants.Bytes(Skey)), MseConstants.Req3(secret))));
            MseConstants.Cipher(MseConstants.KeyA(secret, MseConstants.Bytes(Skey))).Transform(fields);
        }

        stream.AddRange(fields);
        Run(machine, [.. stream], chunk, allowed);
    }

    private static void Run(MseHandshake machine, byte[] stream, int chunk, MseCryptoMethods allowed)
    {
        var output = new ArrayBufferWriter<byte>();
        var held = new List<byte>();
        int delivered = 0;
        MseHandshakeStatus status = MseHandshakeStatus.NeedMoreData;
        var empty = ReadOnlySequence<byte>.Empty;
        status = machine.Process(ref empty, output);
        while (status == MseHandshakeStatus.NeedMoreData && delivered < stream.Length)
        {
            int n = Math.Min(chunk, stream.Length - delivered);
            held.AddRange(stream.AsSpan(delivered, n));
            delivered += n;
            var input = new ReadOnlySequence<byte>(held.ToArray());
            long before = input.Length;
            status = machine.Process(ref input, output);
            Check.That(input.Length <= before, "consumed more than it was given");
            held.RemoveRange(0, (int)(before - input.Length));
            Check.That(status != MseHandshakeStatus.NeedMoreData || held.Count < 2 * MseConstants.MaxPadLength + 64, $"holds {held.Count} bytes back");
        }

        switch (status)
        {
            case MseHandshakeStatus.Failed:
                Check.That(machine.Failure != MseFailure.None, "failed without a reason");
                break;
            case MseHandshakeStatus.Completed:
                Check.That(machine.Selected is MseCryptoMethods.Plaintext or MseCryptoMethods.Rc4, $"selected {machine.Selected}");
                Check.That((machine.Selected & allowed) != 0, "selected a method it does not allow");
                Check.That(machine.InitialPayload.Length <= MseConstants.MaxInitialPayloadLength, "initial payload over the limit");
                Check.That(machine.Encryptor is not null && machine.Decryptor is not null, "completed without ciphers");
                break;
            default:
                machine.OnClosed();
                Check.Equal(MseFailure.Closed, machine.Failure, "closed mid-way");
                break;
        }
    }
}
