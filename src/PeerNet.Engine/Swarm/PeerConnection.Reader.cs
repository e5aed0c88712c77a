using System.Buffers;
using System.IO.Pipelines;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class PeerConnection
{

    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        PipeReader input = _connection.Input;
        int maxLength = Math.Max(PeerWireLimits.MaxMessageLengthFor(_swarm.PieceCount), PeerWireLimits.BlockLength + 13);
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    while (true)
                    {
                        OperationStatusResult status = Next(ref buffer, maxLength, out PeerMessage message);
                        if (status == OperationStatusResult.NeedMore)
                        {
                            break;
                        }

                        if (status == OperationStatusResult.Invalid)
                        {
                            return;
                        }

                        LastReceivedAt = _swarm.Time.GetTimestamp();
                        if (!await HandleAsync(message, cancellationToken).ConfigureAwait(false))
                        {
                            return;
                        }
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    Close("the peer closed the connection");
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            Close("connection error: " + e.Message);
        }
#pragma warning disable CA1031 // A bug handling one peer closes that peer; it must not fault silently or reach others.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Close("internal error: " + e.Message);
        }
    }

    private enum OperationStatusResult
    {
        Message,
        NeedMore,
        Invalid,
    }

    private OperationStatusResult Next(ref ReadOnlySequence<byte> buffer, int maxLength, out PeerMessage message)
    {
        OperationStatus status = PeerFrameReader.TryReadMessage(ref buffer, maxLength, out message, out PeerWireError error);
        switch (status)
        {
            case OperationStatus.Done:
                return OperationStatusResult.Message;
            case OperationStatus.NeedMoreData:
                return OperationStatusResult.NeedMore;
            default:
                Close("protocol error: " + error.Describe());
                return OperationStatusResult.Invalid;
        }
    }

    /// <summary>Handles one message; false closes the connection (the reason already given).</summary>
    private async ValueTask<bool> HandleAsync(PeerMessage message, CancellationToken cancellationToken)
    {
        if (message.IsKeepAlive)
        {
            return true;
        }

        if (message.IsUnknown)
        {
            // Unknown ids are ignored (for extensions we do not speak), within the ignored-bytes budget.
            return Ignore(PeerMessageWriter.EmptyMessageLength + message.Payload.Length);
        }

        int pieces = _swarm.PieceCount;
        switch (message.Id)
        {
            case PeerMessageId.Piece:
                return await ReceiveBlockAsync(message, cancellationToken).ConfigureAwait(false);

            case PeerMessageId.Choke:
            case PeerMessageId.Unchoke:
            case PeerMessageId.Interested:
            case PeerMessageId.NotInterested:
                await PostAsync(new SwarmEvent(message.Id switch
                {
                    PeerMessageId.Choke => SwarmEventKind.Choke,
                    PeerMessageId.Unchoke => SwarmEventKind.Unchoke,
                    PeerMessageId.Interested => SwarmEventKind.Interested,
                    _ => SwarmEventKind.NotInterested,
                }, this), cancellationToken).ConfigureAwait(false);
                return true;

            case PeerMessageId.Have:
                if ((uint)message.PieceIndex >= (uint)pieces)
                {
                    return Fail($"have for piece {message.PieceIndex} of {pieces}");
                }

                await PostAsync(new SwarmEvent(SwarmEventKind.Have, this, message.PieceIndex), cancellationToken).ConfigureAwait(false);
                return true;

            case PeerMessageId.Bitfield:
                if (!Bitfield.TryFromWire(message.Payload, pieces, out Bitfield? bitfield, out PeerWireError error))
                {
                    return Fail("bad bitfield: " + error.Describe());
                }

                // BEP 3 says a bitfield is only ever the first message, but aria2 1.36 sends another one later;
                // a later bitfield is read as a batch of haves (it can add pieces, never take them away).
                await PostAsync(new SwarmEvent(_sawPieceSet ? SwarmEventKind.BitfieldUpdate : SwarmEventKind.Bitfield, this, Payload: bitfield), cancellationToken).ConfigureAwait(false);
                _sawPieceSet = true;
                return true;

            case PeerMessageId.HaveAll:
            case PeerMessageId.HaveNone:
                if (!SupportsFast || _sawPieceSet)
                {
                    return Fail("have-all/have-none without the fast extension or after the piece set");
                }

                _sawPieceSet = true;
                await PostAsync(new SwarmEvent(message.Id == PeerMessageId.HaveAll ? SwarmEventKind.HaveAll : SwarmEventKind.HaveNone, this), cancellationToken).ConfigureAwait(false);
                return true;

            case PeerMessageId.Request:
                if ((uint)message.PieceIndex >= (uint)pieces
                    || !IsValidBlock(message.PieceIndex, message.Begin, message.Length, _swarm.GetServablePieceSize(message.PieceIndex)))
                {
                    return Fail($"request out of range: piece {message.PieceIndex} begin {message.Begin} length {message.Length}");
                }

                await PostAsync(new SwarmEvent(SwarmEventKind.Request, this, message.PieceIndex, message.Begin, message.Length), cancellationToken).ConfigureAwait(false);
                return true;

            case PeerMessageId.Cancel:
                lock (_cancelledUploads)
                {
                    _cancelledUploads.Add(Key(message.PieceIndex, message.Begin));
                }

                return true;

            case PeerMessageId.Reject:
                if (!SupportsFast)
                {
                    return Fail("reject without the fast extension");
                }

                await PostAsync(new SwarmEvent(SwarmEventKind.Reject, this, message.PieceIndex, message.Begin, message.Length), cancellationToken).ConfigureAwait(false);
                return true;

            case PeerMessageId.AllowedFast:
            case PeerMessageId.Suggest:
                if ((uint)message.PieceIndex >= (uint)pieces)
                {
                    return Fail($"piece {message.PieceIndex} of {pieces} in allowed-fast/suggest");
                }

                await PostAsync(new SwarmEvent(message.Id == PeerMessageId.AllowedFast ? SwarmEventKind.AllowedFast : SwarmEventKind.Suggest, this, message.PieceIndex), cancellationToken).ConfigureAwait(false);
                return true;

            case PeerMessageId.Extended:
                return await HandleExtendedAsync(message, cancellationToken).ConfigureAwait(false);

            case PeerMessageId.HashRequest:
                await PostAsync(new SwarmEvent(SwarmEventKind.HashRequest, this, Payload: message.HashRequest), cancellationToken).ConfigureAwait(false);
                return true;

            case PeerMessageId.Hashes:
                // We ask for a run of at most 512 layer hashes (BEP 52) or one piece's block hashes, with their
                // uncles: a larger reply answers nothing of ours, and is refused before its payload is copied.
                if (message.HashCount > Math.Max(TorrentSwarm.LayerRunLength, _swarm.Metainfo.PieceLength / PeerWireLimits.BlockLength) + MaxProofHashes)
                {
                    return Fail($"hashes message of {message.HashCount} hashes");
                }

                await PostAsync(new SwarmEvent(SwarmEventKind.HashesReceived, this, Payload: (message.HashRequest, message.Payload.ToArray())), cancellationToken).ConfigureAwait(false);
                return true;

            case PeerMessageId.HashReject:
                await PostAsync(new SwarmEvent(SwarmEventKind.HashRejected, this, Payload: message.HashRequest), cancellationToken).ConfigureAwait(false);
                return true;

            default:
                // port (DHT): ignored as BEP 3 allows.
                return true;
        }
    }

    /// <summary>
    /// Bytes of messages we discard unused (unknown ids, extension messages we never advertised) that a peer
    /// may send before it is disconnected. A compliant peer sends none of them
    /// (BEP 10: extension messages use the ids the receiver advertised), so a few stray ones are tolerated
    /// while a flood of maximum-size junk frames, which costs us bandwidth and parsing, ends the connection.
    /// </summary>
    internal const long MaxIgnoredBytes = 1024 * 1024;

    /// <summary>More uncle hashes than any proof needs: one per layer of a tree of up to 2^64 leaves.</summary>
    private const int MaxProofHashes = 64;

    private long _ignoredBytes;

    private bool Ignore(long bytes)
    {
        _ignoredBytes += bytes;
        return _ignoredBytes <= MaxIgnoredBytes || Fail($"sent {_ignoredBytes} bytes of messages that are ignored (unknown ids, unadvertised extensions)");
    }

    private bool _sawPieceSet;

    private async ValueTask<bool> HandleExtendedAsync(PeerMessage message, CancellationToken cancellationToken)
    {
        if (message.ExtendedId == ExtensionHandshake.MessageId)
        {
            if (!ExtensionHandshake.TryParse(message.Payload, out ExtensionHandshake? handshake, out PeerWireError error))
            {
                return Fail("bad extension handshake: " + error.Describe());
            }

            await PostAsync(new SwarmEvent(SwarmEventKind.ExtensionHandshake, this, Payload: handshake), cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (message.ExtendedId == TorrentSwarm.LocalMetadataExtensionId)
        {
            // BEP 9: a dictionary and at most one 16 KiB metadata piece; anything longer is not ut_metadata
            // and is refused before its payload is copied.
            if (message.Payload.Length > MetadataMessage.MaxHeaderLength + MetadataMessage.PieceLength)
            {
                return Fail($"ut_metadata message of {message.Payload.Length} bytes");
            }

            await PostAsync(new SwarmEvent(SwarmEventKind.MetadataMessage, this, Payload: message.Payload.ToArray()), cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (message.ExtendedId == TorrentSwarm.LocalPexExtensionId && !_swarm.Metainfo.IsPrivate)
        {
            // BEP 11: about one message a minute. More often than every 30 s is ignored (and counted as such).
            long now = _swarm.Time.GetTimestamp();
            if (LastPexAt != 0 && _swarm.Time.GetElapsedTime(LastPexAt, now) < MinPexInterval)
            {
                return Ignore(PeerMessageWriter.ExtendedHeaderLength + message.Payload.Length);
            }

            if (!PexMessage.TryParse(message.Payload, out PexMessage? pex, out PeerWireError pexError))
            {
                return Fail("bad ut_pex message: " + pexError.Describe());
            }

            LastPexAt = now;
            await PostAsync(new SwarmEvent(SwarmEventKind.PexReceived, this, Payload: pex), cancellationToken).ConfigureAwait(false);
            return true;
        }

        return Ignore(PeerMessageWriter.ExtendedHeaderLength + message.Payload.Length);
    }

    /// <summary>ut_pex messages closer together than this are ignored (BEP 11 asks for about one a minute).</summary>
    internal static readonly TimeSpan MinPexInterval = TimeSpan.FromSeconds(30);

    private bool IsValidBlock(int piece, int begin, int length, int pieceSize)
        => (uint)piece < (uint)_swarm.PieceCount && begin >= 0 && length > 0 && length <= PeerWireLimits.BlockLength
            && (long)begin + length <= pieceSize;

    /// <summary>
    /// Copies a block into its piece buffer if, and only if, we asked this peer for exactly this block:
    /// unrequested data never touches a piece (BEP 3 leaves it to us; libtorrent drops it too).
    /// </summary>
    private async ValueTask<bool> ReceiveBlockAsync(PeerMessage message, CancellationToken cancellationToken)
    {
        int piece = message.PieceIndex;
        int begin = message.Begin;
        int length = message.Length;
        if ((uint)piece >= (uint)_swarm.PieceCount || !IsValidBlock(piece, begin, length, _swarm.GetPieceSize(piece)) || begin % PeerWireLimits.BlockLength != 0
            || length != Math.Min(PeerWireLimits.BlockLength, _swarm.GetPieceSize(piece) - begin))
        {
            return Fail($"block out of range: piece {piece} begin {begin} length {length}");
        }

        DownloadRate.Add(length);
        _swarm.CountDownload(length);
        if (!UntrackRequest(piece, begin))
        {
            // A late answer to a request we cancelled or timed out is normal; a stream of them is not.
            if (++_unrequestedBlocks > 64)
            {
                return Fail("too many unrequested blocks");
            }

            return true;
        }

        int block = begin / PeerWireLimits.BlockLength;
        bool copied = false;
        if (_swarm.TryGetPieceBuffer(piece, out PieceBuffer? buffer) && buffer.TryClaim(block))
        {
            message.Payload.CopyTo(buffer.Data.Span.Slice(begin, length));
            copied = true;
        }

        try
        {
            await PostAsync(new SwarmEvent(SwarmEventKind.BlockReceived, this, piece, begin, copied ? 1 : 0), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (copied)
        {
            // Closing: the loop will never count this copy, so let another peer's copy fill the block.
            buffer!.Unclaim(block);
            throw;
        }
        await _swarm.DownloadLimit.TakeAsync(length, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private int _unrequestedBlocks;

    private bool Fail(string reason)
    {
        Close(reason);
        return false;
    }

    private ValueTask PostAsync(SwarmEvent e, CancellationToken cancellationToken) => _swarm.PostAsync(e, cancellationToken);
}
