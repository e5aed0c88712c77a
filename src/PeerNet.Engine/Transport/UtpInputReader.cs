using System.IO.Pipelines;

namespace PeerNet.Transport;

/// <summary>
/// The application's end of a uTP connection's input pipe: forwards to the pipe, and tells the connection how many
/// bytes each <c>AdvanceTo</c> consumed, so the receive window it advertises is what the reader has left room for.
/// </summary>
internal sealed class UtpInputReader(PipeReader inner, Action<long> onConsumed, Action onCompleted) : PipeReader
{
    private System.Buffers.ReadOnlySequence<byte> _last;

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        long bytes = _last.IsEmpty ? 0 : _last.Slice(_last.Start, consumed).Length;
        _last = default;
        inner.AdvanceTo(consumed, examined);
        if (bytes > 0)
        {
            onConsumed(bytes);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        _last = default;
        inner.Complete(exception);
        onCompleted();
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<ReadResult> pending = inner.ReadAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            ReadResult result = pending.Result;
            _last = result.Buffer;
            return new ValueTask<ReadResult>(result);
        }

        return AwaitAsync(pending);
    }

    private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> pending)
    {
        ReadResult result = await pending.ConfigureAwait(false);
        _last = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (inner.TryRead(out result))
        {
            _last = result.Buffer;
            return true;
        }

        return false;
    }
}
