using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace PeerNet.Libp2p;

/// <summary>Direct messages: <c>/peernet/dm/1.0.0</c>, one stream per message, acknowledged by the receiver.</summary>
public sealed partial class Libp2pService
{
    /// <summary>The direct-message protocol ID.</summary>
    public const string DirectMessageProtocol = DirectMessageCodec.ProtocolId;

    /// <summary>Largest direct message, in bytes: 64 KiB.</summary>
    public const int MaxMessageLength = DirectMessageCodec.MaxDataLength;

    private Func<DirectMessage, CancellationToken, Task>? _messageHandler;

    /// <summary>Told of each direct message the handler took (the node publishes it as an event).</summary>
    internal Action<DirectMessage>? MessageTaken { get; set; }

    /// <summary>How long a sent message may wait for its acknowledgement (tests shorten it).</summary>
    internal TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Receives direct messages: each is handed to <paramref name="handler"/>, and acknowledged as delivered once the
    /// handler's task completes (refused if it throws). Until a handler is set the node does not serve the protocol,
    /// and senders hear <see cref="DirectMessageFailure.NotSupported"/>. Replaces an earlier handler.
    /// </summary>
    public void SetMessageHandler(Func<DirectMessage, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _messageHandler = handler;
        _host.SetHandler(DirectMessageCodec.ProtocolId, ServeDirectMessageAsync);
    }

    /// <summary>Stops receiving direct messages; false when no handler was set.</summary>
    public bool RemoveMessageHandler()
    {
        _messageHandler = null;
        return _host.RemoveHandler(DirectMessageCodec.ProtocolId);
    }

    /// <summary>Sends <paramref name="text"/> (UTF-8) to <paramref name="peer"/>; see <see cref="SendMessageAsync(Libp2pPeerId, ReadOnlyMemory{byte}, CancellationToken)"/>.</summary>
    public Task<TimeSpan> SendMessageAsync(Libp2pPeerId peer, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SendMessageAsync(peer, Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="data"/> (at most <see cref="MaxMessageLength"/> bytes) to <paramref name="peer"/> and
    /// returns once the peer acknowledged it as handed to its application, with the time that took. Uses the
    /// connection to the peer, or dials the addresses identify gave for it. Throws
    /// <see cref="DirectMessageException"/> when it was not delivered, <see cref="DirectMessageException.Failure"/> saying why.
    /// </summary>
    public async Task<TimeSpan> SendMessageAsync(Libp2pPeerId peer, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ThrowIfTooLarge(data);
        await ConnectToKnownAsync(peer, cancellationToken).ConfigureAwait(false);
        return await SendMessageCoreAsync(peer, DirectMessageCodec.EncodeMessage(NewMessageId(), data.Span, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Dials <paramref name="address"/> (ending in <c>/p2p/PEERID</c> to have the peer checked), or reuses the
    /// connection, then sends as <see cref="SendMessageAsync(Libp2pPeerId, ReadOnlyMemory{byte}, CancellationToken)"/> does.
    /// </summary>
    public async Task<TimeSpan> SendMessageAsync(Multiaddr address, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ThrowIfTooLarge(data);
        Libp2pPeerInfo info;
        try
        {
            info = await ConnectAsync(address, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new DirectMessageException(DirectMessageFailure.Unreachable, $"{address} could not be reached: {Reason(e)}", e);
        }

        return await SendMessageCoreAsync(info.PeerId, DirectMessageCodec.EncodeMessage(NewMessageId(), data.Span, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends an encoded message as is (tests send one over the limit with it).</summary>
    internal async Task<TimeSpan> SendMessageCoreAsync(Libp2pPeerId peer, byte[] encoded, CancellationToken cancellationToken)
    {
        ulong id = DirectMessageCodec.TryDecodeMessage(encoded, out DirectMessageFrame? frame, out _) ? frame.Id : 0;
        Libp2pConnection connection = Find(peer)
            ?? throw new DirectMessageException(DirectMessageFailure.Unreachable, $"no connection to {peer}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping);
        timeout.CancelAfter(MessageTimeout);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        YamuxStream stream;
        try
        {
            stream = await _host.OpenStreamAsync(connection, [DirectMessageCodec.ProtocolId], timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DirectMessageException(DirectMessageFailure.Timeout, $"{peer} did not open a direct-message stream within {MessageTimeout.TotalSeconds:0.#} s", e);
        }
        catch (IOException e)
        {
            bool gone = connection.Session.Completion.IsCompleted;
            throw new DirectMessageException(
                gone ? DirectMessageFailure.ConnectionLost : DirectMessageFailure.NotSupported,
                gone ? $"the connection to {peer} ended: {Reason(e)}" : $"{peer} does not take direct messages ({DirectMessageCodec.ProtocolId}): {Reason(e)}",
                e);
        }

        await using ConfiguredAsyncDisposable disposeStream = stream.ConfigureAwait(false);
        try
        {
            var framed = new ArrayBufferWriter<byte>(encoded.Length + UnsignedVarint.MaxLength);
            LengthPrefixedMessage.Write(encoded, framed);
            try
            {
                await stream.WriteAsync(framed.WrittenMemory, timeout.Token).ConfigureAwait(false);
                stream.CompleteWrites();
            }
            catch (IOException)
            {
                // The receiver may have refused the message and reset the stream: its acknowledgement, read below, says so.
            }

            byte[]? body = await Libp2pNegotiation.ReadBodyAsync(stream, DirectMessageCodec.MaxAckLength, timeout.Token).ConfigureAwait(false)
                ?? throw new DirectMessageException(DirectMessageFailure.ConnectionLost, $"{peer} closed the stream without acknowledging the message");
            if (!DirectMessageCodec.TryDecodeAck(body, out DirectMessageAck? ack, out string? error))
            {
                throw new DirectMessageException(DirectMessageFailure.ConnectionLost, $"{peer} answered with {error}");
            }

            if (ack.Status == DirectMessageAckStatus.Delivered && ack.Id != id)
            {
                throw new DirectMessageException(DirectMessageFailure.ConnectionLost, $"{peer} acknowledged message {ack.Id}, not {id}");
            }

            return ack.Status switch
            {
                DirectMessageAckStatus.Delivered => System.Diagnostics.Stopwatch.GetElapsedTime(start),
                DirectMessageAckStatus.TooLarge => throw new DirectMessageException(DirectMessageFailure.TooLarge, $"{peer} refused the message as too large{Because(ack.Reason)}"),
                _ => throw new DirectMessageException(DirectMessageFailure.Refused, $"{peer} refused the message{Because(ack.Reason)}"),
            };
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            stream.Abort();
            throw new DirectMessageException(DirectMessageFailure.Timeout, $"{peer} did not acknowledge the message within {MessageTimeout.TotalSeconds:0.#} s", e);
        }
        catch (IOException e) when (e is not DirectMessageException)
        {
            throw new DirectMessageException(DirectMessageFailure.ConnectionLost, $"the message to {peer} was lost: {Reason(e)}", e);
        }
    }

    /// <summary>The receiving side: read one message, hand it over, acknowledge (or refuse) it, wait for the sender's FIN.</summary>
    private async Task ServeDirectMessageAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(MessageTimeout);
        int length = await ReadLengthPrefixAsync(stream, timeout.Token).ConfigureAwait(false);
        if (length > DirectMessageCodec.MaxMessageLength)
        {
            await AcknowledgeAsync(stream, 0, DirectMessageAckStatus.TooLarge, $"{length} bytes, over the {DirectMessageCodec.MaxMessageLength}-byte limit", timeout.Token).ConfigureAwait(false);
            return; // the rest is not read: disposing resets the stream
        }

        byte[] body = new byte[length];
        await stream.ReadExactlyAsync(body, timeout.Token).ConfigureAwait(false);
        if (!DirectMessageCodec.TryDecodeMessage(body, out DirectMessageFrame? frame, out string? error))
        {
            await AcknowledgeAsync(stream, 0, DirectMessageAckStatus.Refused, error, timeout.Token).ConfigureAwait(false);
            return;
        }

        DirectMessageAckStatus status = DirectMessageAckStatus.Refused;
        string? reason = "this node does not take direct messages now";
        if (_messageHandler is { } handler)
        {
            var message = new DirectMessage
            {
                From = connection.RemotePeer,
                Id = frame.Id,
                Data = frame.Data,
                Received = DateTimeOffset.UtcNow,
                Sent = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(frame.SentUnixMilliseconds, 0, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())),
            };
            try
            {
                await handler(message, timeout.Token).ConfigureAwait(false);
                (status, reason) = (DirectMessageAckStatus.Delivered, null);
                MessageTaken?.Invoke(message);
            }
            catch (Exception e) when (e is not OperationCanceledException || !timeout.IsCancellationRequested)
            {
                reason = "the receiving application failed to take it";
            }
        }

        await AcknowledgeAsync(stream, frame.Id, status, reason, timeout.Token).ConfigureAwait(false);
        byte[] sink = new byte[64];
        while (await stream.ReadAsync(sink, timeout.Token).ConfigureAwait(false) > 0)
        {
            // Nothing more is expected before the sender's FIN.
        }
    }

    private static async Task AcknowledgeAsync(YamuxStream stream, ulong id, DirectMessageAckStatus status, string? reason, CancellationToken cancellationToken)
    {
        var framed = new ArrayBufferWriter<byte>(DirectMessageCodec.MaxAckLength);
        LengthPrefixedMessage.Write(DirectMessageCodec.EncodeAck(id, status, reason), framed);
        await stream.WriteAsync(framed.WrittenMemory, cancellationToken).ConfigureAwait(false);
        stream.CompleteWrites();
    }

    /// <summary>Reads a varint length prefix a byte at a time (any length up to 2^31, so an oversized one can be answered).</summary>
    private static async Task<int> ReadLengthPrefixAsync(YamuxStream stream, CancellationToken cancellationToken)
    {
        byte[] prefix = new byte[UnsignedVarint.MaxLength];
        for (int have = 0; have < prefix.Length;)
        {
            if (await stream.ReadAsync(prefix.AsMemory(have, 1), cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new IOException("The stream ended before a message.");
            }

            have++;
            VarintStatus status = LengthPrefixedMessage.TryReadLength(prefix.AsSpan(0, have), int.MaxValue, out int length, out _, out string? error);
            if (status == VarintStatus.Ok)
            {
                return length;
            }

            if (status == VarintStatus.Invalid)
            {
                throw new IOException($"The peer sent {error}.");
            }
        }

        throw new IOException("The message length is not a varint.");
    }

    /// <summary>Makes sure there is a connection to <paramref name="peer"/>, dialling the addresses identify gave for it.</summary>
    private async Task ConnectToKnownAsync(Libp2pPeerId peer, CancellationToken cancellationToken)
    {
        if (Find(peer) is not null)
        {
            return;
        }

        IReadOnlyList<Multiaddr> addresses = _host.Peers.Get(peer)?.ListenAddrs ?? [];
        var failures = new List<string>();
        foreach (Multiaddr address in addresses)
        {
            Multiaddr dial = address.PeerId is null ? Multiaddr.Parse($"{address}/p2p/{peer}") : address;
            try
            {
                await ConnectAsync(dial, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is IOException or ArgumentException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{address}: {Reason(e)}");
            }
        }

        throw new DirectMessageException(
            DirectMessageFailure.Unreachable,
            failures.Count == 0 ? $"no connection to {peer} and no address known for it: give its multiaddr" : $"{peer} could not be reached ({string.Join("; ", failures)})");
    }

    private static void ThrowIfTooLarge(ReadOnlyMemory<byte> data)
    {
        if (data.Length > MaxMessageLength)
        {
            throw new ArgumentException($"A direct message carries at most {MaxMessageLength} bytes, not {data.Length}.", nameof(data));
        }
    }

    private static ulong NewMessageId()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return BitConverter.ToUInt64(bytes);
    }

    private static string Reason(Exception e) => e is OperationCanceledException ? "it took too long" : e.Message.TrimEnd('.');

    private static string Because(string? reason) => reason is null ? string.Empty : $": {reason}";
}
