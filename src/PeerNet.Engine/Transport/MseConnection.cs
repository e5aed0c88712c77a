using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using PeerNet.Mse;

namespace PeerNet.Transport;

/// <summary>
/// A connection after a completed MSE handshake: what is read is decrypted and what is written encrypted, in place in
/// the inner connection's own pipe buffers (no copy, no extra task). A plaintext-selected connection passes through; a
/// responder's initial payload (the IA of step 3, already decrypted) is served ahead of the stream.
/// </summary>
internal sealed class MseConnection : IDuplexConnection
{
    private readonly IDuplexConnection _inner;

    private MseConnection(IDuplexConnection inner, Rc4? encryptor, Rc4? decryptor, byte[] prefix, MseCryptoMethods selected)
    {
        _inner = inner;
        Selected = selected;
        Input = decryptor is null && prefix.Length == 0 ? inner.Input : new DecryptingReader(inner.Input, decryptor, prefix);
        Output = encryptor is null ? inner.Output : new EncryptingWriter(inner.Output, encryptor);
    }

    /// <summary>The connection over <paramref name="inner"/> that <paramref name="handshake"/> (completed) set up.</summary>
    public static MseConnection Over(IDuplexConnection inner, MseHandshake handshake)
    {
        bool rc4 = handshake.Selected == MseCryptoMethods.Rc4;
        return new MseConnection(inner, rc4 ? handshake.Encryptor : null, rc4 ? handshake.Decryptor : null, handshake.InitialPayload, handshake.Selected);
    }

    /// <summary>The connection the encrypted stream runs over (TCP or uTP).</summary>
    public IDuplexConnection Inner => _inner;

    /// <summary>The method the handshake chose for the payload.</summary>
    public MseCryptoMethods Selected { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public IPEndPoint RemoteEndPoint => _inner.RemoteEndPoint;

    public IPEndPoint LocalEndPoint => _inner.LocalEndPoint;

    public long BytesReceived => _inner.BytesReceived;

    public long BytesSent => _inner.BytesSent;

    public void Abort(Exception? reason = null) => _inner.Abort(reason);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    /// <summary>Encrypts, at <see cref="Advance"/>, the bytes just written into the inner writer's memory.</summary>
    private sealed class EncryptingWriter(PipeWriter inner, Rc4 cipher) : PipeWriter
    {
        private Memory<byte> _lent;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lent = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            if ((uint)bytes > (uint)_lent.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(bytes), "Advanced past the memory obtained.");
            }

            cipher.Transform(_lent.Span[..bytes]);
            _lent = _lent[bytes..];
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            ReadOnlySpan<byte> rest = source.Span;
            while (!rest.IsEmpty)
            {
                Span<byte> span = GetSpan(1);
                int n = Math.Min(span.Length, rest.Length);
                rest[..n].CopyTo(span);
                Advance(n);
                rest = rest[n..];
            }

            return FlushAsync(cancellationToken);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }

    /// <summary>
    /// Decrypts, in place, the bytes of each read that no earlier read returned (so a consumer that examines without
    /// consuming sees them once decrypted); serves a prefix (a copy, until consumed) ahead of the inner stream, without
    /// waiting for the inner stream while the consumer has not seen all of the prefix.
    /// </summary>
    private sealed class DecryptingReader(PipeReader inner, Rc4? cipher, byte[] prefix) : PipeReader
    {
        private ReadOnlyMemory<byte> _prefix = prefix;
        private long _decrypted; // bytes at the head of the inner's unconsumed buffer already decrypted
        private ReadOnlySequence<byte> _innerBuffer;
        private ReadOnlySequence<byte> _returned;
        private bool _holdingInner; // the last result includes an inner read, to be advanced
        private bool _prefixSeen; // the consumer examined all of the prefix alone: wait for the inner stream

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            if (!_prefix.IsEmpty && !_prefixSeen)
            {
                // Never wait for the peer while it waits for our answer to what the prefix holds.
                return inner.TryRead(out ReadResult available) ? Wrap(available) : PrefixAlone();
            }

            return Wrap(await inner.ReadAsync(cancellationToken).ConfigureAwait(false));
        }

        public override bool TryRead(out ReadResult result)
        {
            if (inner.TryRead(out ReadResult raw))
            {
                result = Wrap(raw);
                return true;
            }

            if (!_prefix.IsEmpty && !_prefixSeen)
            {
                result = PrefixAlone();
                return true;
            }

            result = default;
            return false;
        }

        private ReadResult PrefixAlone()
        {
            _holdingInner = false;
            _returned = new ReadOnlySequence<byte>(_prefix.ToArray());
            return new ReadResult(_returned, isCanceled: false, isCompleted: false);
        }

        private ReadResult Wrap(ReadResult raw)
        {
            ReadOnlySequence<byte> buffer = raw.Buffer;
            if (cipher is not null && buffer.Length > _decrypted)
            {
                foreach (ReadOnlyMemory<byte> segment in buffer.Slice(_decrypted))
                {
                    cipher.Transform(MemoryMarshal.AsMemory(segment).Span);
                }

                _decrypted = buffer.Length;
            }

            _innerBuffer = buffer;
            _holdingInner = true;
            _prefixSeen = false;
            if (_prefix.IsEmpty)
            {
                _returned = buffer;
                return raw;
            }

            // Rare and short (the reads after a handshake that carried an initial payload): one copy of both.
            byte[] joined = new byte[_prefix.Length + buffer.Length];
            _prefix.CopyTo(joined);
            buffer.CopyTo(joined.AsSpan(_prefix.Length));
            _returned = new ReadOnlySequence<byte>(joined);
            return new ReadResult(_returned, raw.IsCanceled, raw.IsCompleted);
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            if (_prefix.IsEmpty && _holdingInner)
            {
                _holdingInner = false;
                _decrypted -= _innerBuffer.Slice(_innerBuffer.Start, consumed).Length;
                inner.AdvanceTo(consumed, examined);
                return;
            }

            long consumedAt = _returned.Slice(_returned.Start, consumed).Length;
            long examinedAt = _returned.Slice(_returned.Start, examined).Length;
            int prefixLength = _prefix.Length;
            _prefix = _prefix[(int)Math.Min(consumedAt, prefixLength)..];
            if (!_holdingInner)
            {
                _prefixSeen = examinedAt >= prefixLength;
                return;
            }

            _holdingInner = false;
            _prefixSeen = examinedAt >= _returned.Length;
            long innerConsumed = Math.Max(0, consumedAt - prefixLength);
            long innerExamined = Math.Max(innerConsumed, examinedAt - prefixLength);
            _decrypted -= innerConsumed;
            inner.AdvanceTo(_innerBuffer.GetPosition(innerConsumed), _innerBuffer.GetPosition(innerExamined));
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
