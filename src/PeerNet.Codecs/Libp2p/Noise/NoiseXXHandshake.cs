using NSec.Cryptography;

namespace PeerNet.Libp2p;

/// <summary>
/// The Noise spec's <c>HandshakeState</c> (revision 34) for <c>Noise_XX_25519_ChaChaPoly_SHA256</c>, pure (no I/O):
/// <c>-&gt; e; &lt;- e, ee, s, es; -&gt; s, se</c>. Each side writes and reads whole messages in turn; after the third,
/// <see cref="Split"/> gives the transport ciphers. Failures throw <see cref="NoiseHandshakeException"/>.
/// </summary>
internal sealed class NoiseXXHandshake : IDisposable
{
    /// <summary>The full protocol name, hashed into h first.</summary>
    public const string ProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";

    /// <summary>An X25519 public key's length (DHLEN).</summary>
    public const int DhLength = 32;

    /// <summary>The longest Noise message (the spec's limit).</summary>
    public const int MaxMessageLength = 65535;

    private static readonly KeyAgreementAlgorithm X25519 = KeyAgreementAlgorithm.X25519;

    private readonly NoiseSymmetricState _state = new(ProtocolName);
    private readonly Key _static;
    private readonly byte[] _staticPublic;
    private readonly Key? _fixedEphemeral;
    private Key? _ephemeral;
    private byte[]? _remoteEphemeral;
    private byte[]? _remoteStatic;
    private int _message;

    /// <summary>
    /// A handshake for the side <paramref name="initiator"/> names, proving <paramref name="staticKey"/> (an X25519 key the
    /// caller owns and disposes), with <paramref name="prologue"/> mixed in (libp2p's is empty). Tests pass
    /// <paramref name="ephemeralKey"/> to replay published vectors; otherwise a fresh one is made.
    /// </summary>
    public NoiseXXHandshake(bool initiator, Key staticKey, ReadOnlySpan<byte> prologue = default, Key? ephemeralKey = null)
    {
        ArgumentNullException.ThrowIfNull(staticKey);
        if (staticKey.Algorithm != X25519)
        {
            throw new ArgumentException("The static key must be an X25519 key.", nameof(staticKey));
        }

        IsInitiator = initiator;
        _static = staticKey;
        _staticPublic = staticKey.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        _fixedEphemeral = ephemeralKey;
        _state.MixHash(prologue);
    }

    /// <summary>Whether this side sends the first message.</summary>
    public bool IsInitiator { get; }

    /// <summary>Whether all three messages went.</summary>
    public bool IsComplete => _message == 3;

    /// <summary>How many of the three messages went (written or read).</summary>
    public int MessagesDone => _message;

    /// <summary>Whether the next message is this side's to write (otherwise to read).</summary>
    public bool IsMyTurn => !IsComplete && (_message == 1) != IsInitiator;

    /// <summary>This side's static public key.</summary>
    public ReadOnlySpan<byte> LocalStaticKey => _staticPublic;

    /// <summary>The remote's static public key, once its <c>s</c> has been read (null before).</summary>
    public byte[]? RemoteStaticKey => _remoteStatic;

    /// <summary>The handshake hash (the channel binding once complete).</summary>
    public ReadOnlySpan<byte> HandshakeHash => _state.HandshakeHash;

    /// <summary>The length of this side's next message carrying a payload of <paramref name="payloadLength"/> bytes.</summary>
    public int NextMessageLength(int payloadLength) => _message switch
    {
        0 => DhLength + payloadLength,
        1 => DhLength + DhLength + NoiseCipherState.TagLength + payloadLength + NoiseCipherState.TagLength,
        _ => DhLength + NoiseCipherState.TagLength + payloadLength + NoiseCipherState.TagLength,
    };

    /// <summary>Writes this side's next message, carrying <paramref name="payload"/>, into <paramref name="destination"/>; returns its length.</summary>
    public int WriteMessage(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        if (!IsMyTurn)
        {
            throw new InvalidOperationException(IsComplete ? "The handshake is complete." : "It is the remote's turn to send.");
        }

        int length = NextMessageLength(payload.Length);
        if (length > MaxMessageLength)
        {
            throw new ArgumentException($"A {payload.Length}-byte payload makes a message over {MaxMessageLength} bytes.", nameof(payload));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length);
        int at = 0;
        switch (_message)
        {
            case 0: // -> e
                at += WriteEphemeral(destination);
                break;
            case 1: // <- e, ee, s, es
                at += WriteEphemeral(destination);
                MixDh(_ephemeral!, _remoteEphemeral!);
                at += _state.EncryptAndHash(_staticPublic, destination[at..]);
                MixDh(_static, _remoteEphemeral!);
                break;
            default: // -> s, se
                at += _state.EncryptAndHash(_staticPublic, destination);
                MixDh(_static, _remoteEphemeral!);
                break;
        }

        at += _state.EncryptAndHash(payload, destination[at..]);
        _message++;
        return at;
    }

    /// <summary>Reads the remote's next message (whole); returns its payload. Throws <see cref="NoiseHandshakeException"/> when it is refused.</summary>
    public byte[] ReadMessage(ReadOnlySpan<byte> message)
    {
        if (IsMyTurn || IsComplete)
        {
            throw new InvalidOperationException(IsComplete ? "The handshake is complete." : "It is this side's turn to send.");
        }

        int fixedPart = NextMessageLength(0);
        if (message.Length < fixedPart || message.Length > MaxMessageLength)
        {
            throw new NoiseHandshakeException(NoiseFailure.BadLength, $"handshake message {_message + 1} is {message.Length} bytes; it takes {fixedPart} to {MaxMessageLength}");
        }

        ReadOnlySpan<byte> rest = message;
        switch (_message)
        {
            case 0: // -> e
                rest = ReadEphemeral(rest);
                break;
            case 1: // <- e, ee, s, es
                rest = ReadEphemeral(rest);
                MixDh(_ephemeral!, _remoteEphemeral!);
                rest = ReadStatic(rest);
                MixDh(_ephemeral!, _remoteStatic!);
                break;
            default: // -> s, se
                rest = ReadStatic(rest);
                MixDh(_ephemeral!, _remoteStatic!);
                break;
        }

        byte[] payload = new byte[_state.HasKey ? rest.Length - NoiseCipherState.TagLength : rest.Length];
        _state.DecryptAndHash(rest, payload);
        _message++;
        return payload;
    }

    /// <summary>The transport ciphers, once complete: (this side's sending one, its receiving one). The caller owns them.</summary>
    public (NoiseCipherState Send, NoiseCipherState Receive) Split()
    {
        if (!IsComplete)
        {
            throw new InvalidOperationException("The handshake is not complete.");
        }

        (NoiseCipherState c1, NoiseCipherState c2) = _state.Split();
        return IsInitiator ? (c1, c2) : (c2, c1);
    }

    private int WriteEphemeral(Span<byte> destination)
    {
        _ephemeral = _fixedEphemeral ?? Key.Create(X25519);
        _ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey).CopyTo(destination);
        _state.MixHash(destination[..DhLength]);
        return DhLength;
    }

    private ReadOnlySpan<byte> ReadEphemeral(ReadOnlySpan<byte> message)
    {
        _remoteEphemeral = message[..DhLength].ToArray();
        _state.MixHash(_remoteEphemeral);
        return message[DhLength..];
    }

    private ReadOnlySpan<byte> ReadStatic(ReadOnlySpan<byte> message)
    {
        int length = DhLength + NoiseCipherState.TagLength;
        byte[] key = new byte[DhLength];
        _state.DecryptAndHash(message[..length], key);
        _remoteStatic = key;
        return message[length..];
    }

    /// <summary>MixKey(DH(<paramref name="local"/>, <paramref name="remotePublic"/>)), refusing a low-order remote key.</summary>
    private void MixDh(Key local, byte[] remotePublic)
    {
        if (!PublicKey.TryImport(X25519, remotePublic, KeyBlobFormat.RawPublicKey, out PublicKey? remote))
        {
            throw new NoiseHandshakeException(NoiseFailure.BadPublicKey, "the remote's X25519 key is not usable");
        }

        var exportable = new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
        using SharedSecret? shared = X25519.Agree(local, remote!, in exportable);
        if (shared is null)
        {
            throw new NoiseHandshakeException(NoiseFailure.BadPublicKey, "the remote's X25519 key is a low-order point (the shared secret is zero)");
        }

        byte[] secret = shared.Export(SharedSecretBlobFormat.RawSharedSecret);
        _state.MixKey(secret);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
    }

    /// <summary>Forgets the ephemeral key and the chaining key (the static key is the caller's).</summary>
    public void Dispose()
    {
        if (_ephemeral != _fixedEphemeral)
        {
            _ephemeral?.Dispose();
        }

        _state.Dispose();
    }
}
