using Google.Protobuf;
using NSec.Cryptography;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>
/// What one side of noise-libp2p proves: a static X25519 key for Noise, and the handshake payload binding it to the
/// peer's Ed25519 identity (the identity key and its signature over <c>"noise-libp2p-static-key:" || static key</c>).
/// Made once per node and reused for every handshake (the spec allows it: the key is authenticated by the signature, and
/// is never stored).
/// </summary>
internal sealed class Libp2pNoiseCredentials : IDisposable
{
    /// <summary>What the identity key signs ahead of the static key.</summary>
    public static ReadOnlySpan<byte> SignaturePrefix => "noise-libp2p-static-key:"u8;

    private Libp2pNoiseCredentials(Key staticKey, byte[] payload, Libp2pPeerId peerId)
    {
        StaticKey = staticKey;
        Payload = payload;
        PeerId = peerId;
    }

    /// <summary>The static Noise key (X25519).</summary>
    public Key StaticKey { get; }

    /// <summary>The encoded <c>NoiseHandshakePayload</c> this side sends.</summary>
    public byte[] Payload { get; }

    /// <summary>This side's peer ID.</summary>
    public Libp2pPeerId PeerId { get; }

    /// <summary>The bytes an identity key signs to vouch for <paramref name="staticPublicKey"/>.</summary>
    public static byte[] SignedData(ReadOnlySpan<byte> staticPublicKey) => [.. SignaturePrefix, .. staticPublicKey];

    /// <summary>
    /// Credentials for the Ed25519 identity <paramref name="identityPublicKey"/> (32 bytes), whose private half signs
    /// through <paramref name="sign"/>; <paramref name="streamMuxers"/>, when given, are announced in the payload's
    /// extensions. A fresh static key is made unless tests pass <paramref name="staticKey"/> (then owned by these).
    /// </summary>
    public static Libp2pNoiseCredentials Create(ReadOnlySpan<byte> identityPublicKey, Func<byte[], byte[]> sign, IReadOnlyList<string>? streamMuxers = null, Key? staticKey = null)
    {
        ArgumentNullException.ThrowIfNull(sign);
        byte[] identityKey = Libp2pKeys.EncodeEd25519PublicKey(identityPublicKey);
        staticKey ??= Key.Create(KeyAgreementAlgorithm.X25519);
        byte[] staticPublic = staticKey.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        var payload = new NoiseHandshakePayload
        {
            IdentityKey = ByteString.CopyFrom(identityKey),
            IdentitySig = ByteString.CopyFrom(sign(SignedData(staticPublic))),
        };
        if (streamMuxers is { Count: > 0 })
        {
            payload.Extensions = new NoiseExtensions();
            payload.Extensions.StreamMuxers.AddRange(streamMuxers);
        }

        return new Libp2pNoiseCredentials(staticKey, payload.ToByteArray(), Libp2pPeerId.FromEd25519PublicKey(identityPublicKey));
    }

    /// <summary>
    /// Checks a remote's decrypted handshake payload against the static key the handshake proved
    /// (<paramref name="remoteStaticKey"/>): returns the remote's peer ID and the stream muxers it announced, or throws
    /// <see cref="NoiseHandshakeException"/> (not a payload, no key or signature, a key other than Ed25519, a bad signature).
    /// </summary>
    public static (Libp2pPeerId PeerId, IReadOnlyList<string> StreamMuxers) Verify(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> remoteStaticKey)
    {
        NoiseHandshakePayload message;
        try
        {
            message = NoiseHandshakePayload.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new NoiseHandshakeException(NoiseFailure.BadPayload, $"the handshake payload is not a NoiseHandshakePayload ({e.Message})");
        }

        if (!message.HasIdentityKey || !message.HasIdentitySig)
        {
            throw new NoiseHandshakeException(NoiseFailure.BadPayload, "the handshake payload lacks its identity key or signature");
        }

        Protos.PublicKey? key = Libp2pKeys.TryDecodePublicKey(message.IdentityKey.Span, out string? error)
            ?? throw new NoiseHandshakeException(NoiseFailure.BadPayload, $"the identity key is not usable: {error}");
        if (key.Type != KeyType.Ed25519)
        {
            throw new NoiseHandshakeException(NoiseFailure.UnsupportedKeyType, $"the remote's identity key is {key.Type}; only Ed25519 identities are accepted");
        }

        if (!NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, key.Data.Span, KeyBlobFormat.RawPublicKey, out NSec.Cryptography.PublicKey? identity)
            || !SignatureAlgorithm.Ed25519.Verify(identity!, SignedData(remoteStaticKey), message.IdentitySig.Span))
        {
            throw new NoiseHandshakeException(NoiseFailure.BadSignature, "the identity signature over the static Noise key does not verify");
        }

        IReadOnlyList<string> muxers = message.Extensions?.StreamMuxers is { Count: > 0 } list ? [.. list] : [];
        return (Libp2pPeerId.FromEd25519PublicKey(key.Data.Span), muxers);
    }

    /// <summary>Forgets the static key.</summary>
    public void Dispose() => StaticKey.Dispose();
}
