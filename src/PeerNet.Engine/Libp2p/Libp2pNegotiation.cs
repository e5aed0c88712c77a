using System.Buffers;
using System.IO.Pipelines;

namespace PeerNet.Libp2p;

/// <summary>Runs the pure multistream-select machines and libp2p's length-prefixed framing over pipes and streams.</summary>
internal static class Libp2pNegotiation
{
    /// <summary>
    /// Negotiates on a connection's pipes. Bytes after the agreement stay in <paramref name="input"/> for the protocol.
    /// Throws <see cref="IOException"/> when the negotiation fails or the connection ends.
    /// </summary>
    public static async Task<string> NegotiateAsync(PipeReader input, PipeWriter output, MultistreamNegotiation side, CancellationToken cancellationToken)
    {
        if (side is MultistreamDialer dialer)
        {
            dialer.Start(output);
            await FlushAsync(output, cancellationToken).ConfigureAwait(false);
        }

        var replies = new ArrayBufferWriter<byte>();
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;

            // Messages are at most a line long: a bounded prefix is all the machine needs to make progress.
            ReadOnlySequence<byte> window = buffer.Slice(0, Math.Min(buffer.Length, 4 * MultistreamMessage.DefaultMaxLineLength));
            byte[] bytes = window.ToArray();
            replies.Clear();
            MultistreamStatus status = side.Receive(bytes, replies, out int consumed);
            input.AdvanceTo(buffer.GetPosition(consumed), status == MultistreamStatus.Pending && consumed == 0 ? buffer.End : buffer.GetPosition(consumed));
            if (replies.WrittenCount > 0)
            {
                await output.WriteAsync(replies.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }

            if (status == MultistreamStatus.Selected)
            {
                return side.Protocol!;
            }

            if (status == MultistreamStatus.Failed)
            {
                throw new IOException($"multistream-select failed: {side.Error}");
            }

            if (result.IsCompleted)
            {
                throw new IOException("The connection ended during multistream-select.");
            }
        }
    }

    /// <summary>
    /// Negotiates on a stream, reading exactly one message at a time so nothing past the agreement is taken from the
    /// stream. Throws <see cref="IOException"/> when the negotiation fails or the stream ends.
    /// </summary>
    public static async Task<string> NegotiateAsync(Stream stream, MultistreamNegotiation side, CancellationToken cancellationToken)
    {
        var replies = new ArrayBufferWriter<byte>();
        if (side is MultistreamDialer dialer)
        {
            dialer.Start(replies);
            await stream.WriteAsync(replies.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            byte[] message = await ReadMessageAsync(stream, MultistreamMessage.DefaultMaxLineLength, cancellationToken).ConfigureAwait(false)
                ?? throw new IOException("The stream ended during multistream-select.");
            replies.Clear();
            MultistreamStatus status = side.Receive(message, replies, out _);
            if (replies.WrittenCount > 0)
            {
                await stream.WriteAsync(replies.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }

            if (status == MultistreamStatus.Selected)
            {
                return side.Protocol!;
            }

            if (status == MultistreamStatus.Failed)
            {
                throw new IOException($"multistream-select failed: {side.Error}");
            }
        }
    }

    /// <summary>
    /// Reads one varint-length-prefixed message (with its prefix) of at most <paramref name="maxLength"/> bytes, the
    /// prefix a byte at a time so nothing after the message is read; null when the stream ends before a message starts.
    /// </summary>
    public static async Task<byte[]?> ReadMessageAsync(Stream stream, int maxLength, CancellationToken cancellationToken)
    {
        byte[] prefix = new byte[UnsignedVarint.MaxLength];
        int have = 0;
        while (true)
        {
            int n = await stream.ReadAsync(prefix.AsMemory(have, 1), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return have == 0 ? null : throw new IOException("The stream ended inside a message length.");
            }

            have++;
            VarintStatus status = LengthPrefixedMessage.TryReadLength(prefix.AsSpan(0, have), maxLength, out int length, out _, out string? error);
            if (status == VarintStatus.Invalid)
            {
                throw new IOException($"The peer sent {error}.");
            }

            if (status == VarintStatus.Ok)
            {
                byte[] message = new byte[have + length];
                prefix.AsSpan(0, have).CopyTo(message);
                await stream.ReadExactlyAsync(message.AsMemory(have), cancellationToken).ConfigureAwait(false);
                return message;
            }
        }
    }

    /// <summary>Reads one length-prefixed message and returns its body (without the prefix); null at the stream's end.</summary>
    public static async Task<byte[]?> ReadBodyAsync(Stream stream, int maxLength, CancellationToken cancellationToken)
    {
        byte[]? message = await ReadMessageAsync(stream, maxLength, cancellationToken).ConfigureAwait(false);
        if (message is null)
        {
            return null;
        }

        LengthPrefixedMessage.TryReadLength(message, maxLength, out _, out int prefixLength, out _);
        return message[prefixLength..];
    }

    private static async Task FlushAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        FlushResult flushed = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flushed.IsCompleted)
        {
            throw new IOException("The connection closed.");
        }
    }
}
