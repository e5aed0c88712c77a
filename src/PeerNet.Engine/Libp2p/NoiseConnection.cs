using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using PeerNet.Transport;

namespace PeerNet.Libp2p;

/// <summary>
/// A connection after a completed noise-libp2p handshake: what is written goes out as Noise transport frames (2-byte
/// length, ChaChaPoly ciphertext of at most 65535 bytes) and what arrives is checked and decrypted. No task of its own:
/// writes are staged in one pooled buffer and encrypted straight into the inner writer's memory at flush; reads decrypt
/// each whole frame straight from the inner reader's memory into one pooled plaintext buffer. A frame that does not
/// verify, or a connection ending inside a frame, fails the read with <see cref="NoiseTransportException"/> (an
/// <see cref="IOException"/>).
/// </summary>
internal sealed class NoiseConnection : IDuplexConnection
{
    private readonly IDuplexConnection _inner;
    private readonly DecryptingReader _reader;
    private readonly EncryptingWriter _writer;

    private NoiseConnection(IDuplexConnection inner, NoiseCipherState send, NoiseCipherState receive)
    {
        _inner = inner;
        _reader = new DecryptingReader(inner.Input, receive);
        _writer = new EncryptingWriter(inner.Output, send);
    }

    /// <summary>The channel over <paramref name="inner"/> with the ciphers a completed handshake split (owned from then on).</summary>
    public static NoiseConnection Over(IDuplexConnection inner, NoiseCipherState send, NoiseCipherState receive)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(receive);
        return new NoiseConnection(inner, send, receive);
    }

    public PipeReader Input => _reader;

    public PipeWriter Output => _writer;

    public IPEndPoint RemoteEndPoint => _inner.RemoteEndPoint;

    public IPEndPoint LocalEndPoint => _inner.LocalEndPoint;

    public long BytesReceived => _inner.BytesReceived;

    public long BytesSent => _inner.BytesSent;

    public void Abort(Exception? reason = null) => _inner.Abort(reason);

    public async ValueTask DisposeAsync()
    {
        _writer.TrySealStaged(); // what was written but not flushed still goes, as the inner connection's own dispose sends what it holds
        await _inner.DisposeAsync().ConfigureAwait(false);
        _reader.Release();
        _writer.Release();
    }

    /// <summary>Stages plaintext in a pooled buffer; at flush (or when full) seals it as frames into the inner writer.</summary>
    private sealed class EncryptingWriter(PipeWriter inner, NoiseCipherState cipher) : PipeWriter
    {
        private readonly Lock _gate = new();
        private byte[]? _staging;
        private int _staged;
        private bool _released;

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => _staged + (inner.CanGetUnflushedBytes ? inner.UnflushedBytes : 0);

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_released, this);
                int wanted = Math.Max(sizeHint, 1);
                _staging ??= ArrayPool<byte>.Shared.Rent(Math.Max(wanted, NoiseTransportFrame.MaxPlaintext));
                if (_staging.Length - _staged < wanted)
                {
                    SealLocked();
                    if (_staging.Length < wanted)
                    {
                        ArrayPool<byte>.Shared.Return(_staging);
                        _staging = ArrayPool<byte>.Shared.Rent(wanted);
                    }
                }

                return _staging.AsMemory(_staged);
            }
        }

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            lock (_gate)
            {
                if (bytes < 0 || _staging is null || bytes > _staging.Length - _staged)
                {
                    throw new ArgumentOutOfRangeException(nameof(bytes), "Advanced past the memory obtained.");
                }

                _staged += bytes;
            }
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            SealStaged();
            return inner.FlushAsync(cancellationToken);
        }

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            ReadOnlySpan<byte> rest = source.Span;
            while (!rest.IsEmpty)
            {
                Span<byte> span = GetSpan(Math.Min(rest.Length, NoiseTransportFrame.MaxPlaintext));
                int n = Math.Min(span.Length, rest.Length);
                rest[..n].CopyTo(span);
                Advance(n);
                rest = rest[n..];
            }

            return FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            if (exception is null)
            {
                TrySealStaged();
            }

            inner.Complete(exception);
        }

        public override async ValueTask CompleteAsync(Exception? exception = null)
        {
            if (exception is null)
            {
                TrySealStaged();
            }

            await inner.CompleteAsync(exception).ConfigureAwait(false);
        }

        /// <summary>Seals what is staged unless the inner writer is already done (aborted or completed): then it is dropped.</summary>
        public void TrySealStaged()
        {
            try
            {
                SealStaged();
            }
            catch (InvalidOperationException)
            {
                // The inner writer was completed under us (an abort): nothing more can go out.
            }
        }

        /// <summary>Seals what is staged as frames of at most 65519 plaintext bytes, each encrypted into the inner writer's memory.</summary>
        public void SealStaged()
        {
            lock (_gate)
            {
                SealLocked();
            }
        }

        public void Release()
        {
            lock (_gate)
            {
                _released = true;
                if (_staging is not null)
                {
                    ArrayPool<byte>.Shared.Return(_staging);
                    _staging = null;
                }

                cipher.Dispose();
            }
        }

        private void SealLocked()
        {
            if (_staging is null || _staged == 0 || _released)
            {
                return;
            }

            ReadOnlySpan<byte> rest = _staging.AsSpan(0, _staged);
            try
            {
                while (!rest.IsEmpty)
                {
                    int n = Math.Min(rest.Length, NoiseTransportFrame.MaxPlaintext);
                    Span<byte> frame = inner.GetSpan(n + NoiseTransportFrame.LengthPrefix + NoiseCipherState.TagLength);
                    inner.Advance(NoiseTransportFrame.Seal(cipher, rest[..n], frame));
                    rest = rest[n..];
                }
            }
            finally
            {
                _staged = 0;
            }
        }
    }

    /// <summary>
    /// Decrypts whole frames from the inner reader into a pooled plaintext buffer and serves that; reads the inner
    /// reader only when the consumer has examined all the plaintext there is (so its buffer grows only as the consumer
    /// asks to see more without consuming).
    /// </summary>
    private sealed class DecryptingReader(PipeReader inner, NoiseCipherState cipher) : PipeReader
    {
        private const int InitialBuffer = 2 * NoiseTransportFrame.MaxPlaintext;

        private byte[]? _plain;
        private byte[]? _scratch; // a frame split over the inner's segments, joined
        private int _start;
        private int _end;
        private int _returnedLength;
        private bool _wantMore; // the consumer examined everything it was shown: the next read waits for a frame
        private bool _innerCompleted;
        private Exception? _failure;

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            if (_failure is not null)
            {
                throw _failure;
            }

            while (true)
            {
                if ((_end > _start && !_wantMore) || _innerCompleted)
                {
                    return Result(isCanceled: false);
                }

                ReadResult raw = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
                bool got = Take(raw);
                if (got || raw.IsCanceled || _innerCompleted)
                {
                    _wantMore = false;
                    return Result(raw.IsCanceled);
                }
            }
        }

        public override bool TryRead(out ReadResult result)
        {
            if (_failure is not null)
            {
                throw _failure;
            }

            if ((_end > _start && !_wantMore) || _innerCompleted)
            {
                result = Result(isCanceled: false);
                return true;
            }

            if (inner.TryRead(out ReadResult raw) && (Take(raw) || raw.IsCanceled || _innerCompleted))
            {
                _wantMore = false;
                result = Result(raw.IsCanceled);
                return true;
            }

            result = default;
            return false;
        }

        private ReadResult Result(bool isCanceled)
        {
            _returnedLength = _end - _start;
            var buffer = _plain is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(_plain, _start, _returnedLength);
            return new ReadResult(buffer, isCanceled, _innerCompleted && !isCanceled);
        }

        /// <summary>Decrypts every whole frame of <paramref name="raw"/>, advancing the inner reader past them; true if any.</summary>
        private bool Take(ReadResult raw)
        {
            ReadOnlySequence<byte> buffer = raw.Buffer;
            bool any = false;
            try
            {
                while (true)
                {
                    int length = NoiseTransportFrame.PeekLength(buffer);
                    if (length < 0 || buffer.Length < NoiseTransportFrame.LengthPrefix + length)
                    {
                        break;
                    }

                    ReadOnlySequence<byte> ciphertext = buffer.Slice(NoiseTransportFrame.LengthPrefix, length);
                    Span<byte> destination = Reserve(length - NoiseCipherState.TagLength);
                    ReadOnlySpan<byte> source = ciphertext.IsSingleSegment ? ciphertext.FirstSpan : Join(ciphertext);
                    _end += NoiseTransportFrame.Open(cipher, source, destination);
                    buffer = buffer.Slice(NoiseTransportFrame.LengthPrefix + length);
                    any = true;
                }

                if (raw.IsCompleted && !raw.IsCanceled)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw new NoiseTransportException(NoiseFailure.Truncated, $"the connection ended inside a frame ({buffer.Length} bytes of it came)");
                    }

                    _innerCompleted = true;
                }
            }
            catch (NoiseTransportException e)
            {
                _failure = e;
                inner.AdvanceTo(buffer.Start, buffer.End);
                throw;
            }

            // Whole frames consumed; a partial one examined, so the next inner read waits for the rest.
            inner.AdvanceTo(buffer.Start, buffer.End);
            return any;
        }

        /// <summary>Room for <paramref name="length"/> plaintext bytes at the end of the buffer (compacting or growing it).</summary>
        private Span<byte> Reserve(int length)
        {
            _plain ??= ArrayPool<byte>.Shared.Rent(InitialBuffer);
            if (_plain.Length - _end < length)
            {
                int held = _end - _start;
                if (_plain.Length - held >= length)
                {
                    _plain.AsSpan(_start, held).CopyTo(_plain);
                }
                else
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_plain.Length * 2, held + length));
                    _plain.AsSpan(_start, held).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(_plain);
                    _plain = larger;
                }

                _start = 0;
                _end = held;
            }

            return _plain.AsSpan(_end, length);
        }

        private ReadOnlySpan<byte> Join(in ReadOnlySequence<byte> ciphertext)
        {
            _scratch ??= ArrayPool<byte>.Shared.Rent(NoiseTransportFrame.MaxCiphertext);
            ciphertext.CopyTo(_scratch);
            return _scratch.AsSpan(0, (int)ciphertext.Length);
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            // The buffer handed out is one array segment: positions are array indexes.
            int consumedAt = consumed.GetObject() is null ? _start : consumed.GetInteger();
            int examinedAt = examined.GetObject() is null ? _start : examined.GetInteger();
            if (consumedAt < _start || consumedAt > _start + _returnedLength || examinedAt < consumedAt || examinedAt > _start + _returnedLength)
            {
                throw new ArgumentOutOfRangeException(nameof(consumed), "The position is not in the buffer last read.");
            }

            _wantMore = examinedAt == _start + _returnedLength;
            _start = consumedAt;
            if (_start == _end)
            {
                _start = _end = 0;
            }
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public void Release()
        {
            if (_plain is not null)
            {
                ArrayPool<byte>.Shared.Return(_plain);
                _plain = null;
            }

            if (_scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(_scratch);
                _scratch = null;
            }

            _start = _end = 0;
            cipher.Dispose();
        }
    }
}
