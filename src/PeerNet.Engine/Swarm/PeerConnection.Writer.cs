using System.Buffers;
using System.IO.Pipelines;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class PeerConnection
{
    /// <summary>Flush once this much is buffered even if more messages are queued, so peers see steady data.</summary>
    private const int FlushThreshold = 256 * 1024;

    private enum OutKind : byte
    {
        Raw,
        Have,
        Request,
        Cancel,
        Reject,
        Block,
        AllowedFast,
        Urgent, // wakes the writer for a message in _urgent
    }

    private readonly record struct Outgoing(OutKind Kind, int A = 0, int B = 0, int C = 0, ReadOnlyMemory<byte> Bytes = default);

    /// <summary>Queues a pre-encoded message (a singleton such as choke, or an encoded bitfield/extension message).</summary>
    public void SendRaw(ReadOnlyMemory<byte> message) => Enqueue(new Outgoing(OutKind.Raw, Bytes: message));

    /// <summary>
    /// Queues a pre-encoded message that may overtake the blocks queued before it (BEP 52 hashes and hash rejects:
    /// no ordering ties them to piece messages). A peer that asked for a file's piece layer while blocks of that file
    /// are queued gets the layer first, as libtorrent's seeder answers from memory before its disk reads finish:
    /// libtorrent 2.0 downloading a hybrid torrent pauses itself ("v1 and v2 hashes do not describe the same data")
    /// when a file's layer arrives after some of that file's pieces already passed their v1 check.
    /// </summary>
    public void SendUrgent(ReadOnlyMemory<byte> message)
    {
        _urgent.Enqueue(message);
        Enqueue(new Outgoing(OutKind.Urgent));
    }

    public void SendHave(int piece) => Enqueue(new Outgoing(OutKind.Have, piece));

    public void SendRequest(int piece, int begin, int length)
    {
        TrackRequest(piece, begin);
        Enqueue(new Outgoing(OutKind.Request, piece, begin, length));
    }

    public void SendCancel(int piece, int begin, int length) => Enqueue(new Outgoing(OutKind.Cancel, piece, begin, length));

    public void SendReject(int piece, int begin, int length) => Enqueue(new Outgoing(OutKind.Reject, piece, begin, length));

    public void SendAllowedFast(int piece) => Enqueue(new Outgoing(OutKind.AllowedFast, piece));

    /// <summary>Queues a block upload; the writer reads it from disk into the send buffer when its turn comes.</summary>
    public void SendBlock(int piece, int begin, int length)
    {
        Interlocked.Increment(ref _pendingUploads);
        lock (_cancelledUploads)
        {
            _cancelledUploads.Remove(Key(piece, begin));
        }

        Enqueue(new Outgoing(OutKind.Block, piece, begin, length));
    }

    private void Enqueue(Outgoing message)
    {
        if (!_outgoing.Writer.TryWrite(message) && message.Kind == OutKind.Block)
        {
            Interlocked.Decrement(ref _pendingUploads);
        }
    }

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        PipeWriter output = _connection.Output;
        try
        {
            while (await _outgoing.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (_outgoing.Reader.TryRead(out Outgoing message))
                {
                    while (_urgent.TryDequeue(out ReadOnlyMemory<byte> urgent))
                    {
                        output.Write(urgent.Span);
                    }

                    await WriteAsync(output, message, cancellationToken).ConfigureAwait(false);
                    if (output.UnflushedBytes >= FlushThreshold)
                    {
                        await FlushAsync(output, cancellationToken).ConfigureAwait(false);
                    }
                }

                await FlushAsync(output, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            Close("send failed: " + e.Message);
        }
#pragma warning disable CA1031 // A bug handling one peer closes that peer; it must not fault silently or reach others.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Close("internal error: " + e.Message);
        }
    }

    private async ValueTask FlushAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        FlushResult flushed = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        LastSentAt = _swarm.Time.GetTimestamp();
        if (flushed.IsCompleted)
        {
            Close("the peer stopped reading");
        }
    }

    private async ValueTask WriteAsync(PipeWriter output, Outgoing message, CancellationToken cancellationToken)
    {
        switch (message.Kind)
        {
            case OutKind.Raw:
                output.Write(message.Bytes.Span);
                break;
            case OutKind.Have:
                output.Advance(PeerMessageWriter.WriteHave(output.GetSpan(PeerMessageWriter.HaveLength), message.A));
                break;
            case OutKind.AllowedFast:
                output.Advance(PeerMessageWriter.WriteAllowedFast(output.GetSpan(PeerMessageWriter.HaveLength), message.A));
                break;
            case OutKind.Request:
                output.Advance(PeerMessageWriter.WriteRequest(output.GetSpan(PeerMessageWriter.RequestLength), new BlockRequest(message.A, message.B, message.C)));
                break;
            case OutKind.Cancel:
                output.Advance(PeerMessageWriter.WriteCancel(output.GetSpan(PeerMessageWriter.RequestLength), new BlockRequest(message.A, message.B, message.C)));
                break;
            case OutKind.Reject:
                output.Advance(PeerMessageWriter.WriteReject(output.GetSpan(PeerMessageWriter.RequestLength), new BlockRequest(message.A, message.B, message.C)));
                break;
            case OutKind.Urgent:
                break; // written from _urgent before this message
            case OutKind.Block:
                await WriteBlockAsync(output, message.A, message.B, message.C, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>
    /// Sends one block: the 13-byte header and the data read from disk directly into the pipe's memory,
    /// so an upload costs one read and no intermediate copy.
    /// </summary>
    private async ValueTask WriteBlockAsync(PipeWriter output, int piece, int begin, int length, CancellationToken cancellationToken)
    {
        Interlocked.Decrement(ref _pendingUploads);
        bool cancelled;
        lock (_cancelledUploads)
        {
            cancelled = _cancelledUploads.Remove(Key(piece, begin));
        }

        // Choked since it was queued (and not an allowed-fast piece): BEP 6 peers get a reject, others simply never see it.
        if (cancelled || (AmChoking && !IsGrantedFast(piece)))
        {
            if (!cancelled && SupportsFast)
            {
                output.Advance(PeerMessageWriter.WriteReject(output.GetSpan(PeerMessageWriter.RequestLength), new BlockRequest(piece, begin, length)));
            }

            return;
        }

        await _swarm.UploadLimit.TakeAsync(length, cancellationToken).ConfigureAwait(false);
        Memory<byte> memory = output.GetMemory(PeerMessageWriter.PieceHeaderLength + length);
        int header = PeerMessageWriter.WritePieceHeader(memory.Span, piece, begin, length);
        _swarm.ReadBlock(piece, begin, memory.Span.Slice(header, length));
        output.Advance(header + length);
        UploadRate.Add(length);
        _swarm.CountUpload(length);
    }
}
