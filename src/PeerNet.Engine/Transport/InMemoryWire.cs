using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace PeerNet.Transport;

/// <summary>
/// One direction of an in-memory connection: a pump that moves what the sender flushed into the receiver's input
/// pipe, paced by the sender's upload bucket and delayed by its latency. It owns the sender's output reader and the
/// receiver's input writer, as a kernel owns a socket's buffers; <see cref="Fail"/> only records what each end
/// should see and cancels, and the pump completes the pipes.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "The cancellation source has no timer and its wait handle is never taken, so it holds nothing to release; disposing it would race with Fail.")]
internal sealed class InMemoryWire
{
    /// <summary>Most bytes moved in one step when shaping (a step is also the unit of latency).</summary>
    private const int MaxChunk = 64 * 1024;

    /// <summary>Steps in flight on a link with latency: the window.</summary>
    private const int DelayLineCapacity = 64;

    private readonly InMemoryConnection _from;
    private readonly InMemoryConnection _to;
    private readonly TokenBucket? _bucket;
    private readonly TimeSpan _latency;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Channel<Chunk>? _delayLine;
    private Exception? _senderError;
    private Exception? _receiverError;
    private int _failed;

    /// <summary>Creates the wire from <paramref name="from"/> to <paramref name="to"/>; <see cref="Start"/> starts it.</summary>
    public InMemoryWire(InMemoryConnection from, InMemoryConnection to, InMemoryLinkOptions link, TokenBucket? bucket, TimeProvider timeProvider)
    {
        _from = from;
        _to = to;
        _bucket = bucket;
        _latency = link.Latency;
        _timeProvider = timeProvider;
        if (_latency > TimeSpan.Zero)
        {
            _delayLine = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(DelayLineCapacity)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
        }
    }

    /// <summary>Starts moving bytes.</summary>
    public void Start()
    {
        _ = PumpAsync();
        if (_delayLine is not null)
        {
            _ = DeliverAsync(_delayLine.Reader);
        }
    }

    /// <summary>
    /// Ends the wire at once: the sender's flushes fail with <paramref name="senderError"/> and the receiver's reads
    /// with <paramref name="receiverError"/> (null: a clean end of stream). The first call wins.
    /// </summary>
    public void Fail(Exception senderError, Exception? receiverError)
    {
        if (Interlocked.Exchange(ref _failed, 1) != 0)
        {
            return;
        }

        _senderError = senderError;
        _receiverError = receiverError;
        _cancel.Cancel();
    }

    private async Task PumpAsync()
    {
        PipeReader reader = _from.OutgoingReader;
        PipeWriter writer = _to.IncomingWriter;
        CancellationToken cancellationToken = _cancel.Token;
        bool shaped = _bucket is not null || _delayLine is not null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                long length = buffer.Length;
                if (shaped && length > MaxChunk)
                {
                    length = MaxChunk;
                }

                if (_bucket is not null && length > 0)
                {
                    length = await _bucket.TakeUpToAsync((int)length, cancellationToken).ConfigureAwait(false);
                }

                ReadOnlySequence<byte> chunk = buffer.Slice(0, length);
                if (_delayLine is not null)
                {
                    if (length > 0)
                    {
                        byte[] copy = ArrayPool<byte>.Shared.Rent((int)length);
                        chunk.CopyTo(copy);
                        reader.AdvanceTo(chunk.End);
                        _from.AddSent(length);
                        await _delayLine.Writer.WriteAsync(new Chunk(copy, (int)length, _timeProvider.GetUtcNow() + _latency), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        reader.AdvanceTo(chunk.End);
                    }
                }
                else
                {
                    foreach (ReadOnlyMemory<byte> segment in chunk)
                    {
                        writer.Write(segment.Span);
                    }

                    reader.AdvanceTo(chunk.End);
                    _from.AddSent(length);
                    _to.AddReceived(length);
                    if (length > 0 && (await writer.FlushAsync(cancellationToken).ConfigureAwait(false)).IsCompleted)
                    {
                        ReceiverGone();
                    }
                }

                if (result.IsCompleted && length == buffer.Length)
                {
                    break; // The sender completed its output and all of it is on its way.
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Fail: the recorded errors say how each end sees it.
        }
        catch (Exception e)
        {
            Fail(e, e);
        }

        bool failed = Volatile.Read(ref _failed) != 0;
        await reader.CompleteAsync(failed ? _senderError : null).ConfigureAwait(false);
        if (_delayLine is not null)
        {
            _delayLine.Writer.TryComplete();
        }
        else
        {
            await writer.CompleteAsync(failed ? _receiverError : null).ConfigureAwait(false);
        }
    }

    private async Task DeliverAsync(ChannelReader<Chunk> line)
    {
        PipeWriter writer = _to.IncomingWriter;
        CancellationToken cancellationToken = _cancel.Token;
        try
        {
            while (await line.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (line.TryRead(out Chunk chunk))
                {
                    try
                    {
                        TimeSpan wait = chunk.DeliverAt - _timeProvider.GetUtcNow();
                        if (wait > TimeSpan.Zero)
                        {
                            await Task.Delay(wait, _timeProvider, cancellationToken).ConfigureAwait(false);
                        }

                        writer.Write(chunk.Array.AsSpan(0, chunk.Length));
                        _to.AddReceived(chunk.Length);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(chunk.Array);
                    }

                    if ((await writer.FlushAsync(cancellationToken).ConfigureAwait(false)).IsCompleted)
                    {
                        ReceiverGone();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Fail: see below.
        }
        catch (Exception e)
        {
            Fail(e, e);
        }

        while (line.TryRead(out Chunk dropped))
        {
            ArrayPool<byte>.Shared.Return(dropped.Array);
        }

        await writer.CompleteAsync(Volatile.Read(ref _failed) != 0 ? _receiverError : null).ConfigureAwait(false);
    }

    /// <summary>The receiver completed its input: like TCP after a close, the sender's next flush sees a reset.</summary>
    private void ReceiverGone()
    {
        Fail(new ConnectionResetException("The peer closed the connection."), null);
        _cancel.Token.ThrowIfCancellationRequested();
    }

    private readonly record struct Chunk(byte[] Array, int Length, DateTimeOffset DeliverAt);
}
