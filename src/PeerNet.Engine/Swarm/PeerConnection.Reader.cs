using System.Buffers;
using System.IO.Pipelines;
using PeerNet.Metainfo;
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

                // BEP 3 says a bitfield is only ever the first message, but aria2 sends its whole bitfield again
                // instead of haves whenever it finished 20 or more pieces since it last told us; a later bitfield is
                // read as a batch of haves (it can add pieces, never take them away). As many as that can need are
                // tolerated; a stream of them (each a copy the size of the piece count) is not.
                if (++_bitfields > MaxBitfieldsFor(pieces))
                {
                    return FailOverLimit("bitfields", $"sent {_bitfields} bitfields");
                }

                await PostAsync(new SwarmEvent(_sawPieceSet ? SwarmEventKind.BitfieldUpdate : SwarmEventKind.Bitfield, this, Payload: bitfield), cancellationToken).ConfigureAwait(false);
                _sawPieceSet = true;
                return true;

            case PeerMessageId.HaveAll when SupportsFast && _sawPieceSet:
                // aria2 again: its batch of 20 or more new pieces is have-all once it has every piece. Read as a
                // bitfield with every piece, within the same allowance.
                if (++_bitfields > MaxBitfieldsFor(pieces))
                {
                    return FailOverLimit("bitfields", $"sent {_bitfields} bitfields");
                }

                var all = new Bitfield(pieces);
                all.SetAll();
                await PostAsync(new SwarmEvent(SwarmEventKind.BitfieldUpdate, this, Payload: all), cancellationToken).ConfigureAwait(false);
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
                // Only a block still queued is affected; a cancel of anything else is remembered nowhere.
                CancelUpload(message.PieceIndex, message.Begin);
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
                return await ReceiveHashesAsync(message, cancellationToken).ConfigureAwait(false);

            case PeerMessageId.HashReject:
                if (!UntrackHashRequest(message.HashRequest))
                {
                    // A reject of nothing we asked for means nothing; it is counted like other ignored messages.
                    return Ignore(PeerMessageWriter.HashRequestLength);
                }

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

    /// <summary>
    /// Bitfield messages (and have-alls after the first piece set) a peer may send over a connection of a torrent of
    /// <paramref name="pieces"/> pieces: the first, and later ones read as batches of haves, as aria2 sends one per 20
    /// or more pieces it finished, so 8 and one per 16 pieces. Each is a copy the size of the piece count, so a stream
    /// of them is refused; their cost to the loop is only the pieces each adds.
    /// </summary>
    internal static int MaxBitfieldsFor(int pieces) => 8 + (pieces / 16);

    /// <summary>Extension handshakes a peer may send (BEP 10 lets it send more to update its settings; a stream is refused).</summary>
    internal const int MaxExtensionHandshakes = 8;

    private long _ignoredBytes;
    private int _bitfields;
    private int _extensionHandshakes;

    private bool Ignore(long bytes)
    {
        _ignoredBytes += bytes;
        return _ignoredBytes <= MaxIgnoredBytes || FailOverLimit("ignored_bytes", $"sent {_ignoredBytes} bytes of messages that are ignored (unknown ids, unadvertised extensions)");
    }

    private bool _sawPieceSet;

    private async ValueTask<bool> HandleExtendedAsync(PeerMessage message, CancellationToken cancellationToken)
    {
        if (message.ExtendedId == ExtensionHandshake.MessageId)
        {
            if (++_extensionHandshakes > MaxExtensionHandshakes)
            {
                return FailOverLimit("extension_handshakes", $"sent {_extensionHandshakes} extension handshakes");
            }

            if (!ExtensionHandshake.TryParse(message.Payload, out ExtensionHandshake? handshake, out PeerWireError error))
            {
                return Fail("bad extension handshake: " + error.Describe());
            }

            await PostAsync(new SwarmEvent(SwarmEventKind.ExtensionHandshake, this, Payload: handshake), cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (message.ExtendedId == TorrentSwarm.LocalMetadataExtensionId)
        {
            // BEP 9: a dictionary and at most one 16 KiB metadata piece; anything longer is not ut_metadata.
            if (message.Payload.Length > MetadataMessage.MaxHeaderLength + MetadataMessage.PieceLength)
            {
                return Fail($"ut_metadata message of {message.Payload.Length} bytes");
            }

            if (!MetadataMessage.TryParse(message.Payload, out MetadataMessage metadata, out PeerWireError metadataError))
            {
                return Fail("bad ut_metadata message: " + metadataError.Describe());
            }

            if (metadata.Type != MetadataMessageType.Request)
            {
                // Data and rejects answer requests a torrent never sends (it has its metadata); unknown types are
                // ignored (BEP 9). Only the piece number of a request reaches the torrent's loop, never a payload.
                return Ignore(PeerMessageWriter.ExtendedHeaderLength + message.Payload.Length);
            }

            await PostAsync(new SwarmEvent(SwarmEventKind.MetadataRequest, this, metadata.Piece), cancellationToken).ConfigureAwait(false);
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

        if (message.ExtendedId == TorrentSwarm.LocalHolepunchExtensionId && _swarm.HolepunchEnabled)
        {
            // BEP 55: a fixed binary layout, at most 24 bytes; anything else is refused as PEX is.
            if (!HolepunchMessage.TryParse(message.Payload, out HolepunchMessage holepunch, out HolepunchParseError holepunchError))
            {
                return Fail("bad ut_holepunch message: " + holepunchError.Describe());
            }

            await PostAsync(new SwarmEvent(SwarmEventKind.HolepunchReceived, this, Payload: holepunch), cancellationToken).ConfigureAwait(false);
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
        await _swarm.TakeDownloadAsync(length, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private int _unrequestedBlocks;

    /// <summary>
    /// A BEP 52 <c>hashes</c> message is taken only as the one reply to a request we sent this very peer, with exactly
    /// that request's fields (root, layer, index, length, proof layers), and only if it carries exactly the hashes that
    /// request asks for: the run and its uncles (sizes computed in 64 bits). Anything else closes the connection before
    /// its payload is copied, so neither a malformed reply nor a flood of unsolicited ones can reach the torrent.
    /// </summary>
    private async ValueTask<bool> ReceiveHashesAsync(PeerMessage message, CancellationToken cancellationToken)
    {
        HashRequest answered = message.HashRequest;
        if (!UntrackHashRequest(answered))
        {
            return Fail($"sent hashes we did not ask it for (layer {answered.BaseLayer}, index {answered.Index}, length {answered.Length})");
        }

        long expected = ((long)answered.Length + MerkleProof.UncleCount(answered.Length, answered.ProofLayers)) * Sha256Hash.Length;
        if (message.Payload.Length != expected)
        {
            return Fail($"sent {message.Payload.Length} bytes of hashes for a request that needs {expected}");
        }

        await PostAsync(new SwarmEvent(SwarmEventKind.HashesReceived, this, Payload: new HashReply(answered, ToHashes(message.Payload))), cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static Sha256Hash[] ToHashes(in ReadOnlySequence<byte> payload)
    {
        var hashes = new Sha256Hash[payload.Length / Sha256Hash.Length];
        Span<byte> scratch = stackalloc byte[Sha256Hash.Length];
        var reader = new SequenceReader<byte>(payload);
        for (int i = 0; i < hashes.Length; i++)
        {
            reader.TryCopyTo(scratch);
            reader.Advance(Sha256Hash.Length);
            hashes[i] = new Sha256Hash(scratch);
        }

        return hashes;
    }

    private bool Fail(string reason)
    {
        Close(reason);
        return false;
    }

    private bool FailOverLimit(string limit, string reason)
    {
        CloseOverLimit(limit, reason);
        return false;
    }

    private ValueTask PostAsync(SwarmEvent e, CancellationToken cancellationToken) => _swarm.PostAsync(e, cancellationToken);
}
