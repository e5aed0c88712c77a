using System.Buffers;
using System.Buffers.Binary;
using NSec.Cryptography;

namespace PeerNet.Libp2p;

/// <summary>
/// noise-libp2p's handshake (the <c>/noise</c> protocol) as a pure state machine over bytes: XX messages each framed
/// with a 2-byte big-endian length, the responder's payload in message 2 and the initiator's in message 3, each a
/// signed <c>NoiseHandshakePayload</c> checked against the static key the message proved; the initiator checks the
/// responder is the peer it dialled before it sends its own identity. Feed what arrives to <see cref="Receive"/> (it
/// consumes whole frames only) and send what it writes; once <see cref="IsComplete"/>, <see cref="Split"/> gives the
/// transport ciphers and what is left of the input is the transport's. Every refusal is a <see cref="NoiseHandshakeException"/>.
/// </summary>
internal sealed class Libp2pNoiseHandshake : IDisposable
{
    /// <summary>The multistream-select protocol ID.</summary>
    public const string ProtocolId = "/noise";

    /// <summary>A frame's length prefix.</summary>
    public const int LengthPrefix = 2;

    private readonly NoiseXXHandshake _noise;
    private readonly Libp2pNoiseCredentials _local;
    private readonly Libp2pPeerId? _expected;
    private bool _started;

    private Libp2pNoiseHandshake(bool initiator, Libp2pNoiseCredentials local, Libp2pPeerId? expected, Key? ephemeralKey)
    {
        ArgumentNullException.ThrowIfNull(local);
        _local = local;
        _expected = expected;
        _noise = new NoiseXXHandshake(initiator, local.StaticKey, default, ephemeralKey);
    }

    /// <summary>The dialer's side; <paramref name="expected"/>, when known, is the only peer it accepts.</summary>
    public static Libp2pNoiseHandshake Initiator(Libp2pNoiseCredentials local, Libp2pPeerId? expected, Key? ephemeralKey = null) => new(true, local, expected, ephemeralKey);

    /// <summary>The listener's side: any peer that proves its identity.</summary>
    public static Libp2pNoiseHandshake Responder(Libp2pNoiseCredentials local, Key? ephemeralKey = null) => new(false, local, null, ephemeralKey);

    /// <summary>Whether this is the dialer's side.</summary>
    public bool IsInitiator => _noise.IsInitiator;

    /// <summary>Whether the three messages went and the remote proved its identity.</summary>
    public bool IsComplete => _noise.IsComplete;

    /// <summary>The remote's authenticated peer ID, once its payload was verified.</summary>
    public Libp2pPeerId? RemotePeer { get; private set; }

    /// <summary>The stream muxers the remote announced in its payload's extensions (often none).</summary>
    public IReadOnlyList<string> RemoteStreamMuxers { get; private set; } = [];

    /// <summary>The initiator's opening (message 1, with no payload); the responder writes nothing.</summary>
    public void Start(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_started)
        {
            throw new InvalidOperationException("The handshake has already started.");
        }

        _started = true;
        if (IsInitiator)
        {
            WriteFrame(ReadOnlySpan<byte>.Empty, output);
        }
    }

    /// <summary>
    /// Reads the whole frames at the start of <paramref name="input"/> (left sliced past them), answering on
    /// <paramref name="output"/>; true once complete (what is left is the transport's). Throws
    /// <see cref="NoiseHandshakeException"/> for a frame it refuses.
    /// </summary>
    public bool Receive(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!_started)
        {
            throw new InvalidOperationException("Start the handshake first.");
        }

        while (!IsComplete && !_noise.IsMyTurn && TryTakeFrame(ref input, out ReadOnlySequence<byte> frame))
        {
            byte[]? rented = null;
            ReadOnlySpan<byte> message = frame.IsSingleSegment ? frame.FirstSpan : Copy(frame, out rented);
            try
            {
                OnMessage(message, output);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }

        return IsComplete;
    }

    /// <summary>Tells the machine the remote closed before the handshake completed: throws the reason.</summary>
    public void OnClosed(long bytesLeft) =>
        throw new NoiseHandshakeException(NoiseFailure.Truncated, bytesLeft == 0
            ? $"the remote closed the connection before handshake message {_noise.MessagesDone + 1}"
            : $"the remote closed the connection in the middle of handshake message {_noise.MessagesDone + 1} ({bytesLeft} bytes of it came)");

    /// <summary>The transport ciphers, once complete: (sending, receiving). The caller owns them.</summary>
    public (NoiseCipherState Send, NoiseCipherState Receive) Split() => _noise.Split();

    /// <summary>Takes one whole frame off <paramref name="input"/>; false (and nothing taken) when it has not all come.</summary>
    private static bool TryTakeFrame(ref ReadOnlySequence<byte> input, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (input.Length < LengthPrefix)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[LengthPrefix];
        input.Slice(0, LengthPrefix).CopyTo(prefix);
        int length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        if (input.Length < LengthPrefix + length)
        {
            return false;
        }

        frame = input.Slice(LengthPrefix, length);
        input = input.Slice(LengthPrefix + length);
        return true;
    }

    private static ReadOnlySpan<byte> Copy(in ReadOnlySequence<byte> frame, out byte[] rented)
    {
        rented = ArrayPool<byte>.Shared.Rent((int)frame.Length);
        frame.CopyTo(rented);
        return rented.AsSpan(0, (int)frame.Length);
    }

    private void OnMessage(ReadOnlySpan<byte> message, IBufferWriter<byte> output)
    {
        bool first = _noise.MessagesDone == 0;
        byte[] payload = _noise.ReadMessage(message);
        if (first)
        {
            // Message 1 carries no identity; libp2p sends it empty, and anything there is ignored (it was in clear).
            WriteFrame(_local.Payload, output);
            return;
        }

        (Libp2pPeerId peer, IReadOnlyList<string> muxers) = Libp2pNoiseCredentials.Verify(payload, _noise.RemoteStaticKey);
        if (_expected is not null && !_expected.Equals(peer))
        {
            throw new NoiseHandshakeException(NoiseFailure.PeerIdMismatch, $"the remote is {peer}, not {_expected} as dialled");
        }

        RemotePeer = peer;
        RemoteStreamMuxers = muxers;
        if (IsInitiator)
        {
            WriteFrame(_local.Payload, output);
        }
    }

    private void WriteFrame(ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        int length = _noise.NextMessageLength(payload.Length);
        Span<byte> span = output.GetSpan(LengthPrefix + length);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)length);
        int written = _noise.WriteMessage(payload, span[LengthPrefix..]);
        output.Advance(LengthPrefix + written);
    }

    /// <summary>Forgets the handshake's secrets (the credentials are the caller's).</summary>
    public void Dispose() => _noise.Dispose();
}
