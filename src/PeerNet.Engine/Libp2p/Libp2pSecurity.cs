using System.Buffers;
using System.IO.Pipelines;
using PeerNet.Transport;

namespace PeerNet.Libp2p;

/// <summary>A connection secured by noise-libp2p, and the peer it proved to be.</summary>
/// <param name="Connection">The channel: what is read was decrypted and authenticated, what is written is encrypted.</param>
/// <param name="RemotePeer">The remote's peer ID, proved by its signature over the handshake's static key.</param>
internal sealed record SecuredLibp2pConnection(IDuplexConnection Connection, Libp2pPeerId RemotePeer);

/// <summary>
/// Why securing a libp2p connection failed: <see cref="Reason"/> is a short tag (the metric's: <c>timeout</c>,
/// <c>closed</c>, <c>multistream</c>, <c>peer_id_mismatch</c>, <c>bad_signature</c>, ...), the message says it in words.
/// </summary>
internal sealed class Libp2pUpgradeException(string reason, string message, Exception? inner = null) : IOException(message, inner)
{
    /// <summary>The failure's tag.</summary>
    public string Reason { get; } = reason;
}

/// <summary>
/// Upgrades a raw connection to an authenticated libp2p one: multistream-select 1.0 agrees on <c>/noise</c>, then the
/// Noise XX handshake proves both peers' identities and keys the channel. The thin I/O around the pure state machines
/// (<see cref="MultistreamDialer"/>, <see cref="MultistreamListener"/>, <see cref="Libp2pNoiseHandshake"/>); each call has
/// a deadline. The raw connection stays the caller's to close when it fails.
/// </summary>
internal static class Libp2pSecurity
{
    /// <summary>Time allowed for negotiation and handshake together, unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private static readonly string[] Protocols = [Libp2pNoiseHandshake.ProtocolId];

    /// <summary>
    /// Dials the upgrade: proposes <c>/noise</c>, then runs the handshake as initiator, refusing a remote that is not
    /// <paramref name="expected"/> (when known) before revealing <paramref name="me"/>. Throws
    /// <see cref="Libp2pUpgradeException"/>, or <see cref="OperationCanceledException"/> when the caller cancels.
    /// </summary>
    public static Task<SecuredLibp2pConnection> SecureOutboundAsync(IDuplexConnection raw, NodeIdentity me, Libp2pPeerId? expected, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(me);
        return SecureAsync(raw, new MultistreamDialer(Protocols), () => Libp2pNoiseHandshake.Initiator(me.NoiseCredentials, expected), timeout, cancellationToken);
    }

    /// <summary>Answers the upgrade: accepts <c>/noise</c>, then runs the handshake as responder (any peer that proves its identity).</summary>
    public static Task<SecuredLibp2pConnection> SecureInboundAsync(IDuplexConnection raw, NodeIdentity me, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(me);
        return SecureAsync(raw, new MultistreamListener(Protocols), () => Libp2pNoiseHandshake.Responder(me.NoiseCredentials), timeout, cancellationToken);
    }

    private static async Task<SecuredLibp2pConnection> SecureAsync(IDuplexConnection raw, MultistreamNegotiation negotiation, Func<Libp2pNoiseHandshake> handshake, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raw);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? DefaultTimeout);
        try
        {
            await NegotiateAsync(raw, negotiation, deadline.Token).ConfigureAwait(false);
            using Libp2pNoiseHandshake noise = handshake();
            await HandshakeAsync(raw, noise, deadline.Token).ConfigureAwait(false);
            (NoiseCipherState send, NoiseCipherState receive) = noise.Split();
            return new SecuredLibp2pConnection(NoiseConnection.Over(raw, send, receive), noise.RemotePeer!);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new Libp2pUpgradeException("timeout", "the libp2p upgrade did not finish in time", e);
        }
        catch (NoiseHandshakeException e)
        {
            throw new Libp2pUpgradeException(Tag(e.Failure), e.Message, e);
        }
        catch (Exception e) when (e is IOException and not Libp2pUpgradeException or ObjectDisposedException)
        {
            throw new Libp2pUpgradeException("closed", $"the connection failed during the libp2p upgrade: {e.Message}", e);
        }
    }

    /// <summary>The metric tag of a Noise failure.</summary>
    public static string Tag(NoiseFailure failure) => failure switch
    {
        NoiseFailure.BadLength => "bad_length",
        NoiseFailure.BadCiphertext => "bad_ciphertext",
        NoiseFailure.BadPublicKey => "bad_public_key",
        NoiseFailure.BadPayload => "bad_payload",
        NoiseFailure.UnsupportedKeyType => "unsupported_key_type",
        NoiseFailure.BadSignature => "bad_signature",
        NoiseFailure.PeerIdMismatch => "peer_id_mismatch",
        NoiseFailure.NonceExhausted => "nonce_exhausted",
        _ => "closed",
    };

    /// <summary>Runs multistream-select until <c>/noise</c> is agreed; what follows it stays unread in the input.</summary>
    private static async Task NegotiateAsync(IDuplexConnection raw, MultistreamNegotiation negotiation, CancellationToken cancellationToken)
    {
        PipeReader input = raw.Input;
        PipeWriter output = raw.Output;
        if (negotiation is MultistreamDialer dialer)
        {
            dialer.Start(output);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;

            // Messages are bounded (1 KiB), so one contiguous window of a few of them is enough to make progress.
            ReadOnlySequence<byte> window = buffer.Slice(0, Math.Min(buffer.Length, 4 * MultistreamMessage.DefaultMaxLineLength));
            MultistreamStatus status = negotiation.Receive(window.IsSingleSegment ? window.FirstSpan : window.ToArray(), output, out int consumed);
            SequencePosition position = buffer.GetPosition(consumed);
            input.AdvanceTo(position, status == MultistreamStatus.Pending ? buffer.End : position);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);

            switch (status)
            {
                case MultistreamStatus.Selected:
                    return;
                case MultistreamStatus.Failed:
                    throw new Libp2pUpgradeException("multistream", $"the protocol negotiation failed: {negotiation.Error}");
                case MultistreamStatus.Pending when result.IsCompleted || result.IsCanceled:
                    throw new Libp2pUpgradeException("closed", "the remote closed the connection during the protocol negotiation");
            }
        }
    }

    /// <summary>Runs the Noise handshake to completion; what follows its last message stays unread in the input.</summary>
    private static async Task HandshakeAsync(IDuplexConnection raw, Libp2pNoiseHandshake noise, CancellationToken cancellationToken)
    {
        PipeReader input = raw.Input;
        PipeWriter output = raw.Output;
        noise.Start(output);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        while (!noise.IsComplete)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool complete = noise.Receive(ref buffer, output);
            input.AdvanceTo(buffer.Start, complete ? buffer.Start : result.Buffer.End);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (!complete && (result.IsCompleted || result.IsCanceled))
            {
                noise.OnClosed(buffer.Length);
            }
        }
    }
}
