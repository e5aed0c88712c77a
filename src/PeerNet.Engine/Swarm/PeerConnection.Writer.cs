using System.Buffers;
using System.IO.Pipelines;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class PeerConnection
{
    /// <summary>Flush once this much is buffered even if more messages are queued, so peers see steady data.</summary>
    private const int FlushThreshold = 256 * 1024;

    /// <summary>
    /// What one queued message costs against <see cref="PeerLimits.MaxSendQueueBytes"/> besides its own bytes: the
    /// queue entry (the channel's slot of an <see cref="Outgoing"/>, rounded up).
    /// </summary>
    internal const int QueueEntryCost = 48;

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
        Hashes, // a BEP 52 reply, encoded by the writer from its hashes
        MetadataPiece, // a BEP 9 data message, encoded by the writer from the info dictionary
        MetadataReject,
    }

    /// <summary>One queued message: its kind, up to three integers, and pre-encoded bytes or a reply to encode.</summary>
    private readonly record struct Outgoing(OutKind Kind, int A = 0, int B = 0, int C = 0, ReadOnlyMemory<byte> Bytes = default, HashReply? Reply = null)
    {
        /// <summary>What the message holds in memory while queued (charged on enqueue, refunded once written).</summary>
        public int Cost => QueueEntryCost + Bytes.Length + (Reply?.Hashes is { } hashes ? hashes.Length * Sha256Hash.Length : 0);
    }

    /// <summary>Bytes of queued messages not yet written (see <see cref="Outgoing.Cost"/>).</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    private long _queuedBytes;

    /// <summary>When the writer started a flush that has not completed (0 when none is waiting).</summary>
    private long _flushStartedAt;

    /// <summary>How long the writer has waited for the peer to take data, or zero when it is not waiting.</summary>
    public TimeSpan SendStalledFor(long now)
    {
        long started = Interlocked.Read(ref _flushStartedAt);
        return started == 0 ? TimeSpan.Zero : _swarm.Time.GetElapsedTime(started, now);
    }

    /// <summary>Queues a pre-encoded message (a singleton such as choke, or an encoded bitfield/extension message).</summary>
    public void SendRaw(ReadOnlyMemory<byte> message) => Enqueue(new Outgoing(OutKind.Raw, Bytes: message));

    /// <summary>
    /// Queues a pre-encoded message that may overtake the blocks queued before it (BEP 52 hash rejects: no ordering
    /// ties them to piece messages). See <see cref="SendHashes"/> for why.
    /// </summary>
    public void SendUrgent(ReadOnlyMemory<byte> message) => EnqueueUrgent(new Outgoing(OutKind.Raw, Bytes: message));

    /// <summary>
    /// Queues a BEP 52 <c>hashes</c> reply, encoded by the writer straight into the connection, ahead of the blocks
    /// queued before it. A peer that asked for a file's piece layer while blocks of that file are queued gets the layer
    /// first, as libtorrent's seeder answers from memory before its disk reads finish: libtorrent 2.0 downloading a
    /// hybrid torrent pauses itself ("v1 and v2 hashes do not describe the same data") when a file's layer arrives
    /// after some of that file's pieces already passed their v1 check. The reply counts as a hash request in progress
    /// until it is written (<see cref="HashRequestsInProgress"/>), so a peer that asks and does not read holds at most
    /// <see cref="PeerLimits.MaxHashRequests"/> replies.
    /// </summary>
    public void SendHashes(HashReply reply) => EnqueueUrgent(new Outgoing(OutKind.Hashes, Reply: reply));

    public void SendHave(int piece) => Enqueue(new Outgoing(OutKind.Have, piece));

    public void SendRequest(int piece, int begin, int length)
    {
        TrackRequest(piece, begin);
        Enqueue(new Outgoing(OutKind.Request, piece, begin, length));
    }

    public void SendCancel(int piece, int begin, int length) => Enqueue(new Outgoing(OutKind.Cancel, piece, begin, length));

    public void SendReject(int piece, int begin, int length) => Enqueue(new Outgoing(OutKind.Reject, piece, begin, length));

    public void SendAllowedFast(int piece) => Enqueue(new Outgoing(OutKind.AllowedFast, piece));

    /// <summary>Queues BEP 9 metadata piece <paramref name="piece"/>, encoded by the writer from the torrent's info dictionary.</summary>
    public void SendMetadataPiece(byte remoteId, int piece) => Enqueue(new Outgoing(OutKind.MetadataPiece, piece, remoteId));

    /// <summary>Queues a BEP 9 reject of metadata piece <paramref name="piece"/>.</summary>
    public void SendMetadataReject(byte remoteId, int piece) => Enqueue(new Outgoing(OutKind.MetadataReject, piece, remoteId));

    /// <summary>
    /// Queues a block upload; the writer reads it from disk into the send buffer when its turn comes. False for a block
    /// already queued: a repeated request is answered once.
    /// </summary>
    public bool SendBlock(int piece, int begin, int length)
    {
        lock (_queuedUploads)
        {
            if (!_queuedUploads.Add(Key(piece, begin)))
            {
                return false;
            }
        }

        Interlocked.Increment(ref _pendingUploads);
        Enqueue(new Outgoing(OutKind.Block, piece, begin, length));
        return true;
    }

    /// <summary>The peer cancelled a block: if it is still queued it is not sent (and nothing is remembered otherwise).</summary>
    private void CancelUpload(int piece, int begin)
    {
        lock (_queuedUploads)
        {
            _queuedUploads.Remove(Key(piece, begin));
        }
    }

    private void EnqueueUrgent(Outgoing message)
    {
        if (Charge(message))
        {
            _urgent.Enqueue(message);
            Write(new Outgoing(OutKind.Urgent));
        }
    }

    private void Enqueue(Outgoing message)
    {
        if (Charge(message))
        {
            Write(message);
        }
    }

    private void Write(Outgoing message)
    {
        if (!_outgoing.Writer.TryWrite(message))
        {
            Written(message); // closed: the writer will never see it
        }
    }

    /// <summary>
    /// Charges a message to the send queue's budget; over it, the peer is not taking what we send as fast as it asks
    /// for more (or not reading at all), and is closed rather than let grow our memory.
    /// </summary>
    private bool Charge(Outgoing message)
    {
        int cost = message.Cost;
        long queued = Interlocked.Add(ref _queuedBytes, cost);
        if (queued <= _swarm.PeerLimits.MaxSendQueueBytes || IsClosed)
        {
            _swarm.NoteSendQueue(queued);
            return true;
        }

        Interlocked.Add(ref _queuedBytes, -cost);
        CloseOverLimit("send_queue", $"over its send-queue budget ({_swarm.PeerLimits.MaxSendQueueBytes} bytes queued and not taken)");
        return false;
    }

    /// <summary>A message left the queue (written, or dropped on close): its cost is refunded and its counts released.</summary>
    private void Written(Outgoing message)
    {
        Interlocked.Add(ref _queuedBytes, -message.Cost);
        switch (message.Kind)
        {
            case OutKind.Block:
                Interlocked.Decrement(ref _pendingUploads);
                break;
            case OutKind.Hashes:
                Interlocked.Decrement(ref _hashRequestsInProgress);
                break;
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
                    while (_urgent.TryDequeue(out Outgoing urgent))
                    {
                        await WriteAsync(output, urgent, cancellationToken).ConfigureAwait(false);
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
        finally
        {
            // Whatever is still queued is dropped: release what it holds.
            while (_urgent.TryDequeue(out Outgoing urgent))
            {
                Written(urgent);
            }

            while (_outgoing.Reader.TryRead(out Outgoing message))
            {
                Written(message);
            }
        }
    }

    private async ValueTask FlushAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _flushStartedAt, _swarm.Time.GetTimestamp());
        FlushResult flushed = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _flushStartedAt, 0);
        LastSentAt = _swarm.Time.GetTimestamp();
        if (flushed.IsCompleted)
        {
            Close("the peer stopped reading");
        }
    }

    private async ValueTask WriteAsync(PipeWriter output, Outgoing message, CancellationToken cancellationToken)
    {
        try
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
                case OutKind.Hashes:
                    PeerMessageWriter.WriteHashes(output, message.Reply!.Request, message.Reply.Hashes);
                    break;
                case OutKind.MetadataPiece:
                    _swarm.WriteMetadataPiece(output, (byte)message.B, message.A);
                    break;
                case OutKind.MetadataReject:
                    MetadataMessage.WriteReject(output, (byte)message.B, message.A);
                    break;
                case OutKind.Block:
                    await WriteBlockAsync(output, message.A, message.B, message.C, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        finally
        {
            Written(message);
        }
    }

    /// <summary>
    /// Sends one block: the 13-byte header and the data read from disk directly into the pipe's memory,
    /// so an upload costs one read and no intermediate copy.
    /// </summary>
    private async ValueTask WriteBlockAsync(PipeWriter output, int piece, int begin, int length, CancellationToken cancellationToken)
    {
        bool cancelled;
        lock (_queuedUploads)
        {
            cancelled = !_queuedUploads.Remove(Key(piece, begin));
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

        await _swarm.TakeUploadAsync(length, cancellationToken).ConfigureAwait(false);
        Memory<byte> memory = output.GetMemory(PeerMessageWriter.PieceHeaderLength + length);
        int header = PeerMessageWriter.WritePieceHeader(memory.Span, piece, begin, length);
        _swarm.ReadBlock(piece, begin, memory.Span.Slice(header, length));
        output.Advance(header + length);
        UploadRate.Add(length);
        _swarm.CountUpload(length);
    }
}
