using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace PeerNet.Transport;

/// <summary>
/// Sends pipe buffers with as few system calls as possible and no allocation: one reused
/// <see cref="SocketAsyncEventArgs"/> awaited as a <see cref="ValueTask{TResult}"/>, sending a single segment as it is
/// and several as one gather list (sendmsg with an iovec) without copying them together. After Kestrel's
/// <c>SocketSender</c>. One send at a time.
/// </summary>
internal sealed class SocketSender : SocketAsyncEventArgs, IValueTaskSource<int>
{
    /// <summary>
    /// Most segments in one gather send: the runtime keeps that many iovecs on the stack, and 8 pipe segments of
    /// 64 KiB are already half a megabyte.
    /// </summary>
    private const int MaxSegments = 8;

    private readonly List<ArraySegment<byte>> _bufferList = new(MaxSegments);
    private ManualResetValueTaskSourceCore<int> _source;

    /// <summary>Creates a sender; completions do not flow the execution context (nothing here needs it).</summary>
    public SocketSender()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>
    /// Sends the start of <paramref name="buffers"/>: the first segment, or up to <see cref="MaxSegments"/> of them
    /// in one call. Returns how many bytes went (all of the segments taken: a stream socket sends them whole).
    /// </summary>
    public ValueTask<int> SendAsync(Socket socket, in ReadOnlySequence<byte> buffers)
    {
        if (buffers.IsSingleSegment || !TrySetBufferList(buffers))
        {
            SetBuffer(MemoryMarshal.AsMemory(buffers.First));
        }

        _source.Reset();
        if (socket.SendAsync(this))
        {
            return new ValueTask<int>(this, _source.Version);
        }

        // Done synchronously: the common case while the socket's send buffer has room.
        int sent = BytesTransferred;
        SocketError error = SocketError;
        Clear();
        return error == SocketError.Success
            ? new ValueTask<int>(sent)
            : ValueTask.FromException<int>(new SocketException((int)error));
    }

    /// <inheritdoc />
    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        int sent = BytesTransferred;
        SocketError error = SocketError;
        Clear();
        if (error == SocketError.Success)
        {
            _source.SetResult(sent);
        }
        else
        {
            _source.SetException(new SocketException((int)error));
        }
    }

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);

    private bool TrySetBufferList(in ReadOnlySequence<byte> buffers)
    {
        foreach (ReadOnlyMemory<byte> segment in buffers)
        {
            if (!MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
            {
                _bufferList.Clear();
                return false; // Native memory from a custom pool: send one segment at a time instead.
            }

            _bufferList.Add(array);
            if (_bufferList.Count == MaxSegments)
            {
                break;
            }
        }

        BufferList = _bufferList;
        return true;
    }

    /// <summary>Lets go of the buffers (so pooled arrays are not kept alive) and readies the args for either kind of send.</summary>
    private void Clear()
    {
        if (BufferList is not null)
        {
            BufferList = null;
            _bufferList.Clear();
        }
        else
        {
            SetBuffer(Memory<byte>.Empty);
        }
    }
}
