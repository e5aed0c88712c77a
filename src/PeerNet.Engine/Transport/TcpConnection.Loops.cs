using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace PeerNet.Transport;

internal sealed partial class TcpConnection
{
    /// <summary>
    /// Smallest free space the receive loop reads into: a smaller tail left in the pipe's current buffer is skipped
    /// for a fresh one, so no system call moves only a few bytes.
    /// </summary>
    private const int MinimumReceiveSize = 16 * 1024;

    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        PipeWriter writer = _input.Writer;
        try
        {
            bool waitForData = true;
            while (true)
            {
                if (waitForData)
                {
                    // Wait for data with an empty buffer, so that an idle connection holds no pooled memory
                    // (Kestrel's WaitForDataBeforeAllocatingBuffer). Skipped while the last read filled its buffer:
                    // more is then almost surely waiting, and the extra call would only cost time.
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                }

                Memory<byte> buffer = writer.GetMemory(MinimumReceiveSize);
                int received = await _socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break; // The peer closed its side.
                }

                writer.Advance(received);
                Volatile.Write(ref _bytesReceived, _bytesReceived + received);
                waitForData = received < buffer.Length;

                // Waits while the application is more than the pause threshold behind: backpressure reaches the
                // peer through the socket's receive window.
                FlushResult flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break; // The application stopped reading, or Abort.
                }
            }
        }
        catch (Exception e)
        {
            error = ClassifyLoopError(e);
        }

        // A reason recorded by Abort or by the send loop wins over what this loop saw (usually "operation aborted").
        Exception? reason = Volatile.Read(ref _shutdownReason);
        if (reason is null && error is not null)
        {
            reason = SetShutdownReason(error);
            CloseSocket(reset: false);
            _output.Reader.CancelPendingRead();
        }

        await writer.CompleteAsync(reason).ConfigureAwait(false);
    }

    private async Task SendLoopAsync()
    {
        Exception? error = null;
        PipeReader reader = _output.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break; // Abort, or the receive loop failed.
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    if (!buffer.IsEmpty)
                    {
                        await SendAsync(buffer).ConfigureAwait(false);
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted)
                {
                    break; // The application completed Output: everything is sent.
                }
            }
        }
        catch (Exception e)
        {
            error = ClassifyLoopError(e);
        }

        Exception? reason = Volatile.Read(ref _shutdownReason);
        if (reason is null && error is not null)
        {
            reason = SetShutdownReason(error);
            CloseSocket(reset: false);
            _input.Writer.CancelPendingFlush();
        }
        else if (reason is null)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send); // FIN: the peer reads to the end, then sees completion.
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The peer or a concurrent close got there first.
            }
        }

        await reader.CompleteAsync(reason).ConfigureAwait(false);
    }

    private async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        // Several pooled segments go in one gather send each time round; no copy joins them.
        while (!buffer.IsEmpty)
        {
            int sent = await _sender.SendAsync(_socket, buffer).ConfigureAwait(false);
            Volatile.Write(ref _bytesSent, _bytesSent + sent);
            buffer = buffer.Slice(sent);
        }
    }

    /// <summary>Expected ways for a loop to end become transport exceptions; anything else stays as it is.</summary>
    private static Exception ClassifyLoopError(Exception exception) => exception switch
    {
        SocketException { SocketErrorCode: var code } e when TransportDefaults.IsLocalAbort(code) => TransportDefaults.Aborted(e),
        SocketException e => TransportDefaults.ToTransportException(e),
        ObjectDisposedException e => TransportDefaults.Aborted(e),
        _ => exception,
    };
}
