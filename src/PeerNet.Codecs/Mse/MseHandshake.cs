using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PeerNet.Mse;

/// <summary>Where an MSE handshake stands after a <see cref="MseHandshake.Process"/> call.</summary>
internal enum MseHandshakeStatus
{
    /// <summary>Waiting for more bytes from the peer (send what was written first).</summary>
    NeedMoreData,

    /// <summary>Done: the payload stream starts with the input left unconsumed.</summary>
    Completed,

    /// <summary>The peer broke the protocol or our policy; <see cref="MseHandshake.Failure"/> says how. Close the connection.</summary>
    Failed,
}

/// <summary>Why an MSE handshake failed (the metric's and the log's reason).</summary>
internal enum MseFailure
{
    /// <summary>It has not failed.</summary>
    None,

    /// <summary>The peer's Diffie-Hellman key is outside 2..P-2.</summary>
    BadPublicKey,

    /// <summary>The sync marker (the responder's <c>HASH('req1', S)</c>, the initiator's encrypted VC) was not within the 512 pad bytes allowed.</summary>
    SyncNotFound,

    /// <summary>The <c>HASH('req2', SKEY)</c> the initiator sent names no torrent we host.</summary>
    UnknownTorrent,

    /// <summary>The decrypted verification constant is not 8 zero bytes (wrong key: a different SKEY or a corrupt stream).</summary>
    BadVerificationConstant,

    /// <summary>A pad length over 512.</summary>
    PadTooLong,

    /// <summary>An initial payload over <see cref="MseConstants.MaxInitialPayloadLength"/>.</summary>
    PayloadTooLong,

    /// <summary>No crypto method both sides allow (the initiator's offer, or the responder's choice, is not one we take).</summary>
    NoCommonMethod,

    /// <summary>The peer closed before the handshake was done.</summary>
    Closed,
}

/// <summary>Test hooks: fixed key pairs and pad lengths instead of random ones.</summary>
internal sealed record MseHandshakeOptions
{
    /// <summary>Our key pair; null for a fresh random one.</summary>
    public MseDiffieHellman? Keys { get; init; }

    /// <summary>The length of every pad we send (0 to 512); null for a random length each.</summary>
    public int? PadLength { get; init; }
}

/// <summary>
/// One side of an MSE/PE handshake (the Vuze Message Stream Encryption spec) as a pure state machine: it is handed what
/// the peer sent, consumes what it can, writes what to send, and says whether it needs more, is done or failed. No I/O,
/// no clock: the caller owns the socket and the deadline.
/// </summary>
/// <remarks>
/// <code>
/// 1 A->B: Ya, PadA
/// 2 B->A: Yb, PadB
/// 3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S), ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
/// 4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), then the payload stream (encrypted if RC4 was selected)
/// </code>
/// Every length read is bounded: pads at 512, the initial payload at <see cref="MseConstants.MaxInitialPayloadLength"/>,
/// each sync search at 512 bytes of pad plus the marker; so a handshake never holds more than about 1.2 KiB of the peer's
/// bytes. After <see cref="MseHandshakeStatus.Completed"/>, <see cref="Encryptor"/> and <see cref="Decryptor"/> carry on
/// the RC4 streams when <see cref="Selected"/> is <see cref="MseCryptoMethods.Rc4"/>.
/// </remarks>
internal sealed class MseHandshake
{
    private const int ProvideLength = MseConstants.VcLength + 4 + 2;
    private const int SelectLength = 4 + 2;

    private readonly bool _initiator;
    private readonly MseDiffieHellman _keys;
    private readonly int? _padLength;
    private readonly MseCryptoMethods _allowed;
    private readonly bool _preferRc4;
    private readonly Func<Sha1Hash, Sha1Hash?>? _findSkey;
    private readonly byte[] _initialPayloadOut;
    private readonly byte[] _secret = new byte[MseConstants.KeyLength];
    private byte[] _syncMarker = [];
    private State _state;
    private int _padSeen;
    private int _pending; // the length of the next variable part (PadC, IA, PadD)

    private MseHandshake(bool initiator, MseCryptoMethods allowed, bool preferRc4, Sha1Hash skey, Func<Sha1Hash, Sha1Hash?>? findSkey, ReadOnlySpan<byte> initialPayload, MseHandshakeOptions? options)
    {
        if ((allowed & ~MseCryptoMethods.Both) != 0 || allowed == MseCryptoMethods.None)
        {
            throw new ArgumentException("Allow plaintext, RC4 or both.", nameof(allowed));
        }

        if (options?.PadLength is < 0 or > MseConstants.MaxPadLength)
        {
            throw new ArgumentException("A pad is 0 to 512 bytes.", nameof(options));
        }

        if (initialPayload.Length > MseConstants.MaxInitialPayloadLength)
        {
            throw new ArgumentException("The initial payload is too long.", nameof(initialPayload));
        }

        _initiator = initiator;
        _allowed = allowed;
        _preferRc4 = preferRc4;
        Skey = skey;
        _findSkey = findSkey;
        _initialPayloadOut = initialPayload.ToArray();
        _keys = options?.Keys ?? new MseDiffieHellman();
        _padLength = options?.PadLength;
        _state = initiator ? State.Start : State.WaitPublicKey;
    }

    private enum State
    {
        Start,
        WaitPublicKey,
        SyncVc,
        ReadSelect,
        ReadPadD,
        SyncReq1,
        ReadSkeyHash,
        ReadProvide,
        ReadPadC,
        ReadInitialPayload,
        Done,
        Failed,
    }

    /// <summary>
    /// The connecting side (A): offers <paramref name="provide"/> for the torrent whose info-hash is
    /// <paramref name="skey"/>, and sends <paramref name="initialPayload"/> (often empty) encrypted in step 3.
    /// </summary>
    public static MseHandshake Initiator(Sha1Hash skey, MseCryptoMethods provide, ReadOnlySpan<byte> initialPayload = default, MseHandshakeOptions? options = null)
        => new(initiator: true, provide, preferRc4: false, skey, null, initialPayload, options);

    /// <summary>
    /// The accepting side (B): <paramref name="findSkey"/> maps an unmasked <c>HASH('req2', SKEY)</c> to the SKEY
    /// (the info-hash of a torrent we host) or null; <paramref name="allowed"/> and <paramref name="preferRc4"/> choose
    /// the method from the initiator's offer (both offered: RC4 only when preferred, as libtorrent).
    /// </summary>
    public static MseHandshake Responder(Func<Sha1Hash, Sha1Hash?> findSkey, MseCryptoMethods allowed, bool preferRc4, MseHandshakeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(findSkey);
        return new(initiator: false, allowed, preferRc4, default, findSkey, default, options);
    }

    /// <summary>Whether this is the connecting side.</summary>
    public bool IsInitiator => _initiator;

    /// <summary>Why it failed, once <see cref="MseHandshakeStatus.Failed"/> was returned.</summary>
    public MseFailure Failure { get; private set; }

    /// <summary>The shared key: the torrent's info-hash (the responder learns it in step 3).</summary>
    public Sha1Hash Skey { get; private set; }

    /// <summary>What the initiator offered (the responder learns it in step 3).</summary>
    public MseCryptoMethods Provided { get; private set; }

    /// <summary>The method of the payload stream, once completed.</summary>
    public MseCryptoMethods Selected { get; private set; }

    /// <summary>The cipher of what we send (RC4 keyed with our side's key, past what the handshake used).</summary>
    public Rc4? Encryptor { get; private set; }

    /// <summary>The cipher of what we receive.</summary>
    public Rc4? Decryptor { get; private set; }

    /// <summary>The responder's decrypted IA: the first bytes of the payload stream, before the input left unconsumed.</summary>
    public byte[] InitialPayload { get; private set; } = [];

    /// <summary>
    /// Consumes from <paramref name="input"/> (advancing it past what was used) and writes to <paramref name="output"/>
    /// what to send now; call it first with empty input (the initiator then writes step 1), then again whenever bytes
    /// arrive, until it returns <see cref="MseHandshakeStatus.Completed"/> or <see cref="MseHandshakeStatus.Failed"/>.
    /// </summary>
    public MseHandshakeStatus Process(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        while (true)
        {
            bool progressed = _state switch
            {
                State.Start => WritePublicKey(output, State.WaitPublicKey),
                State.WaitPublicKey => ReadPublicKey(ref input, output),
                State.SyncVc or State.SyncReq1 => Sync(ref input),
                State.ReadSelect => ReadSelect(ref input),
                State.ReadPadD => ReadPadD(ref input),
                State.ReadSkeyHash => ReadSkeyHash(ref input),
                State.ReadProvide => ReadProvide(ref input),
                State.ReadPadC => ReadPadC(ref input),
                State.ReadInitialPayload => ReadInitialPayload(ref input, output),
                _ => false,
            };

            switch (_state)
            {
                case State.Done:
                    return MseHandshakeStatus.Completed;
                case State.Failed:
                    return MseHandshakeStatus.Failed;
            }

            if (!progressed)
            {
                return MseHandshakeStatus.NeedMoreData;
            }
        }
    }

    /// <summary>Fails the handshake because the peer closed mid-way (the caller saw the end of its stream).</summary>
    public void OnClosed()
    {
        if (_state is not (State.Done or State.Failed))
        {
            Fail(MseFailure.Closed);
        }
    }

    private bool Fail(MseFailure failure)
    {
        Failure = failure;
        _state = State.Failed;
        return false;
    }

    private int NextPadLength() => _padLength ?? RandomNumberGenerator.GetInt32(MseConstants.MaxPadLength + 1);

    /// <summary>Step 1 (A) or 2 (B): our public key and a random pad.</summary>
    private bool WritePublicKey(IBufferWriter<byte> output, State next)
    {
        int pad = NextPadLength();
        Span<byte> span = output.GetSpan(MseConstants.KeyLength + pad)[..(MseConstants.KeyLength + pad)];
        _keys.PublicKey.CopyTo(span);
        RandomNumberGenerator.Fill(span[MseConstants.KeyLength..]);
        output.Advance(span.Length);
        _state = next;
        return true;
    }

    private bool ReadPublicKey(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        Span<byte> remoteKey = stackalloc byte[MseConstants.KeyLength];
        if (!TryTake(ref input, remoteKey))
        {
            return false;
        }

        if (!_keys.TryComputeSecret(remoteKey, _secret))
        {
            return Fail(MseFailure.BadPublicKey);
        }

        if (!_initiator)
        {
            WritePublicKey(output, State.SyncReq1);
            _syncMarker = MseConstants.Bytes(MseConstants.Req1(_secret));
            return true;
        }

        // Step 3, all at once: the responder's pad and step 4 may follow Yb in any split.
        Encryptor = MseConstants.Cipher(MseConstants.KeyA(_secret, MseConstants.Bytes(Skey)));
        Decryptor = MseConstants.Cipher(MseConstants.KeyB(_secret, MseConstants.Bytes(Skey)));
        int pad = NextPadLength();
        int encrypted = ProvideLength + pad + 2 + _initialPayloadOut.Length;
        Span<byte> span = output.GetSpan(2 * Sha1Hash.Length + encrypted)[..(2 * Sha1Hash.Length + encrypted)];
        MseConstants.Req1(_secret).CopyTo(span);
        MseConstants.Xor(MseConstants.Req2(MseConstants.Bytes(Skey)), MseConstants.Req3(_secret)).CopyTo(span[Sha1Hash.Length..]);
        Span<byte> body = span[(2 * Sha1Hash.Length)..];
        body[..MseConstants.VcLength].Clear();
        BinaryPrimitives.WriteUInt32BigEndian(body[MseConstants.VcLength..], (uint)_allowed);
        BinaryPrimitives.WriteUInt16BigEndian(body[(MseConstants.VcLength + 4)..], (ushort)pad);
        body.Slice(ProvideLength, pad).Clear();
        BinaryPrimitives.WriteUInt16BigEndian(body[(ProvideLength + pad)..], (ushort)_initialPayloadOut.Length);
        _initialPayloadOut.CopyTo(body[(ProvideLength + pad + 2)..]);
        Encryptor.Transform(body);
        output.Advance(span.Length);

        // What B's ENCRYPT(VC) looks like on the wire: the first 8 bytes of its keystream (VC is zeros).
        _syncMarker = new byte[MseConstants.VcLength];
        Decryptor.Transform(_syncMarker);
        _state = State.SyncVc;
        return true;
    }

    /// <summary>
    /// Skips the peer's pad to the sync marker, which must start within 512 bytes; consumes the marker. Keeps the last
    /// marker-length-minus-one bytes when not found yet, as they may be its start.
    /// </summary>
    private bool Sync(ref ReadOnlySequence<byte> input)
    {
        int window = (int)Math.Min(input.Length, MseConstants.MaxPadLength - _padSeen + _syncMarker.Length);
        if (window < _syncMarker.Length)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[MseConstants.MaxPadLength + Sha1Hash.Length];
        bytes = bytes[..window];
        input.Slice(0, window).CopyTo(bytes);
        int at = bytes.IndexOf(_syncMarker);
        if (at >= 0)
        {
            input = input.Slice(at + _syncMarker.Length);
            _padSeen += at;
            _state = _initiator ? State.ReadSelect : State.ReadSkeyHash;
            return true;
        }

        int skipped = window - (_syncMarker.Length - 1);
        _padSeen += skipped;
        input = input.Slice(skipped);
        if (_padSeen > MseConstants.MaxPadLength)
        {
            return Fail(MseFailure.SyncNotFound);
        }

        return false;
    }

    private bool ReadSelect(ref ReadOnlySequence<byte> input)
    {
        Span<byte> fields = stackalloc byte[SelectLength];
        if (!TryTake(ref input, fields))
        {
            return false;
        }

        Decryptor!.Transform(fields);
        var select = (MseCryptoMethods)BinaryPrimitives.ReadUInt32BigEndian(fields);
        if (select is not (MseCryptoMethods.Plaintext or MseCryptoMethods.Rc4) || (select & _allowed) == 0)
        {
            return Fail(MseFailure.NoCommonMethod);
        }

        Selected = select;
        _pending = BinaryPrimitives.ReadUInt16BigEndian(fields[4..]);
        if (_pending > MseConstants.MaxPadLength)
        {
            return Fail(MseFailure.PadTooLong);
        }

        _state = State.ReadPadD;
        return true;
    }

    private bool ReadPadD(ref ReadOnlySequence<byte> input)
    {
        Span<byte> pad = stackalloc byte[_pending];
        if (!TryTake(ref input, pad))
        {
            return false;
        }

        Decryptor!.Transform(pad);
        _state = State.Done;
        return true;
    }

    private bool ReadSkeyHash(ref ReadOnlySequence<byte> input)
    {
        Span<byte> masked = stackalloc byte[Sha1Hash.Length];
        if (!TryTake(ref input, masked))
        {
            return false;
        }

        Sha1Hash req2 = MseConstants.Xor(new Sha1Hash(masked), MseConstants.Req3(_secret));
        if (_findSkey!(req2) is not { } skey)
        {
            return Fail(MseFailure.UnknownTorrent);
        }

        Skey = skey;
        Decryptor = MseConstants.Cipher(MseConstants.KeyA(_secret, MseConstants.Bytes(skey)));
        Encryptor = MseConstants.Cipher(MseConstants.KeyB(_secret, MseConstants.Bytes(skey)));
        _state = State.ReadProvide;
        return true;
    }

    private bool ReadProvide(ref ReadOnlySequence<byte> input)
    {
        Span<byte> fields = stackalloc byte[ProvideLength];
        if (!TryTake(ref input, fields))
        {
            return false;
        }

        Decryptor!.Transform(fields);
        if (fields[..MseConstants.VcLength].ContainsAnyExcept((byte)0))
        {
            return Fail(MseFailure.BadVerificationConstant);
        }

        Provided = (MseCryptoMethods)BinaryPrimitives.ReadUInt32BigEndian(fields[MseConstants.VcLength..]);
        _pending = BinaryPrimitives.ReadUInt16BigEndian(fields[(MseConstants.VcLength + 4)..]);
        if (_pending > MseConstants.MaxPadLength)
        {
            return Fail(MseFailure.PadTooLong);
        }

        _state = State.ReadPadC;
        return true;
    }

    private bool ReadPadC(ref ReadOnlySequence<byte> input)
    {
        Span<byte> pad = stackalloc byte[_pending + 2];
        if (!TryTake(ref input, pad))
        {
            return false;
        }

        Decryptor!.Transform(pad);
        _pending = BinaryPrimitives.ReadUInt16BigEndian(pad[^2..]);
        if (_pending > MseConstants.MaxInitialPayloadLength)
        {
            return Fail(MseFailure.PayloadTooLong);
        }

        _state = State.ReadInitialPayload;
        return true;
    }

    /// <summary>Reads IA, chooses the method and sends step 4.</summary>
    private bool ReadInitialPayload(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        if (input.Length < _pending)
        {
            return false;
        }

        byte[] payload = new byte[_pending];
        input.Slice(0, _pending).CopyTo(payload);
        input = input.Slice(_pending);
        Decryptor!.Transform(payload);
        InitialPayload = payload;

        MseCryptoMethods common = Provided & _allowed;
        Selected = common switch
        {
            MseCryptoMethods.Both => _preferRc4 ? MseCryptoMethods.Rc4 : MseCryptoMethods.Plaintext,
            MseCryptoMethods.Plaintext or MseCryptoMethods.Rc4 => common,
            _ => MseCryptoMethods.None,
        };
        if (Selected == MseCryptoMethods.None)
        {
            return Fail(MseFailure.NoCommonMethod);
        }

        int pad = NextPadLength();
        Span<byte> span = output.GetSpan(MseConstants.VcLength + SelectLength + pad)[..(MseConstants.VcLength + SelectLength + pad)];
        span.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(span[MseConstants.VcLength..], (uint)Selected);
        BinaryPrimitives.WriteUInt16BigEndian(span[(MseConstants.VcLength + 4)..], (ushort)pad);
        Encryptor!.Transform(span);
        output.Advance(span.Length);
        _state = State.Done;
        return true;
    }

    private static bool TryTake(ref ReadOnlySequence<byte> input, Span<byte> destination)
    {
        if (input.Length < destination.Length)
        {
            return false;
        }

        input.Slice(0, destination.Length).CopyTo(destination);
        input = input.Slice(destination.Length);
        return true;
    }
}
