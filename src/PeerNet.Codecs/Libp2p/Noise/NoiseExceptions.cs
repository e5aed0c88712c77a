namespace PeerNet.Libp2p;

/// <summary>Why a Noise handshake or a Noise transport stream failed.</summary>
internal enum NoiseFailure
{
    /// <summary>A handshake message or transport frame of a length the protocol does not allow.</summary>
    BadLength,

    /// <summary>A ciphertext whose authentication tag did not verify (tampered, or the wrong key).</summary>
    BadCiphertext,

    /// <summary>A Diffie-Hellman with the remote's public key gave the all-zero secret (a low-order point).</summary>
    BadPublicKey,

    /// <summary>The handshake payload is not a <c>NoiseHandshakePayload</c>, or lacks its key or signature.</summary>
    BadPayload,

    /// <summary>The remote's identity key is of a type we do not accept (only Ed25519 is).</summary>
    UnsupportedKeyType,

    /// <summary>The identity signature over the remote's static Noise key did not verify.</summary>
    BadSignature,

    /// <summary>The remote is not the peer that was dialled.</summary>
    PeerIdMismatch,

    /// <summary>The connection ended in the middle of a message or frame.</summary>
    Truncated,

    /// <summary>2^64 - 1 messages went one way: the nonces are used up and the connection must end.</summary>
    NonceExhausted,
}

/// <summary>
/// A Noise handshake refused what the remote sent (or the remote went away): <see cref="Failure"/> says why, the
/// message in words. An <see cref="IOException"/>, as every connection failure is.
/// </summary>
internal sealed class NoiseHandshakeException(NoiseFailure failure, string message) : IOException($"the Noise handshake failed: {message}")
{
    /// <summary>Why.</summary>
    public NoiseFailure Failure { get; } = failure;
}

/// <summary>A Noise transport stream refused a frame (tampered, oversized, truncated) or ran out of nonces.</summary>
internal sealed class NoiseTransportException(NoiseFailure failure, string message) : IOException($"the Noise channel failed: {message}")
{
    /// <summary>Why.</summary>
    public NoiseFailure Failure { get; } = failure;
}
