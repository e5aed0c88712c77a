using System.Buffers;
using System.IO.Pipelines;
using PeerNet.Mse;

namespace PeerNet.Transport;

/// <summary>An MSE handshake that failed, with the codec's reason (or <see cref="MseFailure.Closed"/>).</summary>
internal sealed class MseHandshakeException(MseFailure failure)
    : IOException($"the encrypted handshake failed: {failure}")
{
    public MseFailure Failure { get; } = failure;
}

/// <summary>Runs an <see cref="MseHandshake"/> over a connection: the thin I/O around the pure state machine.</summary>
internal static class MseNegotiation
{
    /// <summary>
    /// Feeds <paramref name="connection"/>'s input to <paramref name="handshake"/> and sends what it writes, until it
    /// completes (returning the connection that encrypts and decrypts as agreed) or fails (throwing
    /// <see cref="MseHandshakeException"/>). The caller's token is the deadline; the connection is the caller's to close.
    /// The machine bounds what it holds, so a read never buffers more than the pipe's own segment.
    /// </summary>
    public static async Task<MseConnection> RunAsync(IDuplexConnection connection, MseHandshake handshake, CancellationToken cancellationToken)
    {
        PipeReader input = connection.Input;
        PipeWriter output = connection.Output;
        var empty = ReadOnlySequence<byte>.Empty;
        MseHandshakeStatus status = handshake.Process(ref empty, output);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        while (status == MseHandshakeStatus.NeedMoreData)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            status = handshake.Process(ref buffer, output);

            // Done: what is left is payload, unexamined, so the next read returns it at once. Not yet: wait for more.
            input.AdvanceTo(buffer.Start, status == MseHandshakeStatus.NeedMoreData ? buffer.End : buffer.Start);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);

            if (status == MseHandshakeStatus.NeedMoreData && (result.IsCompleted || result.IsCanceled))
            {
                handshake.OnClosed();
                status = MseHandshakeStatus.Failed;
            }
        }

        if (status == MseHandshakeStatus.Failed)
        {
            throw new MseHandshakeException(handshake.Failure);
        }

        return MseConnection.Over(connection, handshake);
    }
}
